/**
 * The seed catalogue (processors/campaigns/seed.ts, ids under `bench-`) the processor, sync and e2e benchmarks bid against;
 * its campaigns' counters are cleared before each measurement, so earlier runs' spend never changes what bids.
 */
import { parseOpenRtb } from '../../ingest/openrtb.js';
import { createRedis } from '../../processors/runtime/redis.js';
import { PipelineError } from '../../schemas/errors.js';
import { SIZES } from '../../processors/campaigns/seed-catalogue.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import { openRtbBody, type BodyOptions } from './bodies.js';
import { bool, int, str } from './options.js';
import { runPinned } from './services.js';
import { stackConfig } from './run-topics.js';

/** The catalogue's flags, shared by the scenarios that seed it. */
export const SEED_FLAGS = { prefix: str('bench-'), campaigns: int(1, '300'), users: int(1, '10000'), skipSeed: bool() };
type CatalogueOptions = { prefix: string; campaigns: number; users: number; skipSeed?: boolean };

export const seedLoadFlags = (o: CatalogueOptions): string[] =>
  ['--user-prefix', o.prefix, '--users', String(o.users), '--sizes', SIZES.map(([w, h]) => `${w}x${h}`).join(',')];

/** BidRequests as the edge would write them: bench bodies through its own parser. */
export function bidRequests(count: number, idPrefix: string, opts: BodyOptions): BidRequest[] {
  const body = openRtbBody(idPrefix, opts);
  const envelope = { receivedAtMs: Date.now(), ingestNodeId: 'bench', openrtbVersion: '2.6' };
  return Array.from({ length: count }, (_, seq) => parseOpenRtb(JSON.parse(body(seq)), envelope));
}

/** Runs the (idempotent) seed script and, with `reset`, resets the campaigns' counters; returns its summary lines. */
export async function seedCatalogue(o: CatalogueOptions, reset = false, timeoutMs = 180_000): Promise<string[]> {
  const argv = [process.execPath, '--import', 'tsx', 'processors/campaigns/seed.ts', '--campaigns', String(o.campaigns), '--users', String(o.users)];
  const skipped = { code: 0, stdout: 'skipped (--skip-seed)', stderr: '' };
  const { code, stdout, stderr } = o.skipSeed ? skipped : await runPinned([...argv, '--prefix', o.prefix], { timeoutMs });
  if (code === null) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `seed was killed after ${timeoutMs} ms: ${stderr.trim()}`);
  if (code !== 0) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `seed exited ${code}: ${stderr.trim() || stdout.trim()}`);
  const counters = reset ? [`reset ${await resetCounters(o.prefix)} counter keys of ${o.prefix}cmp-* campaigns in Redis`] : [];
  return [...stdout.trim().split('\n'), ...counters];
}

/** The Redis keys of the auction's counters for campaigns under `prefix` (their layout: processors/domain/redis-keys.ts). */
export function counterPatterns(prefix: string): string[] {
  return ['spend', 'freq', 'auth'].map((kind) => `rtb:${kind}:{${prefix}cmp-*`);
}

export async function resetCounters(prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9._:-]+$/.test(prefix)) throw new PipelineError('CONFIG_INVALID', `refusing to reset counters for prefix ${JSON.stringify(prefix)}`);
  return unlinkMatching(stackConfig.redisUrl, counterPatterns(prefix));
}

export async function unlinkMatching(redisUrl: string, patterns: readonly string[]): Promise<number> {
  const redis = createRedis({ ...stackConfig, redisUrl }, { maxRetriesPerRequest: 2, connectTimeout: 2000 });
  let deleted = 0;
  try {
    for (const match of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}
