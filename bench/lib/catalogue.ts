/**
 * The seed catalogue the processor and sync benchmarks bid against: processors/campaigns/seed.ts writes
 * campaigns to Postgres and the compacted `campaigns` topic and user profiles to Redis, all ids under a
 * prefix (`bench-` by default). Before each measurement the auction's counters for those campaigns
 * (spend, frequency, reservations) are cleared, so earlier runs' spend never changes what bids.
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

/** The flags of the catalogue, shared by the scenarios that seed it; `--skip-seed` leaves the catalogue as it is. */
export const SEED_FLAGS = { prefix: str('bench-'), campaigns: int(1, '300'), users: int(1, '10000'), skipSeed: bool() };
type CatalogueOptions = { prefix: string; campaigns: number; users: number; skipSeed?: boolean };

/**
 * Traffic that the seed catalogue answers: users with seeded profiles (`<prefix>user-<n>`, n < users) and
 * the banner sizes seeded campaigns target. bodies.ts countries, domains and categories are already
 * drawn from the seed's vocabulary.
 */
export function seedTraffic(o: CatalogueOptions, tmax: number): BodyOptions {
  return { userPrefix: o.prefix, users: o.users, sizes: SIZES, tmax };
}

/** The load.ts flags of seed-shaped OpenRTB traffic. */
export const seedLoadFlags = (o: CatalogueOptions): string[] =>
  ['--user-prefix', o.prefix, '--users', String(o.users), '--sizes', SIZES.map(([w, h]) => `${w}x${h}`).join(',')];

/** BidRequests for pre-filling an input topic: bench bodies parsed by the edge's own parser, so exactly what the edge would write. */
export function bidRequests(count: number, idPrefix: string, opts: BodyOptions): BidRequest[] {
  const body = openRtbBody(idPrefix, opts);
  const envelope = { receivedAtMs: Date.now(), ingestNodeId: 'bench', openrtbVersion: '2.6' };
  return Array.from({ length: count }, (_, seq) => parseOpenRtb(JSON.parse(body(seq)), envelope));
}

/**
 * Runs the seed script (idempotent: a re-run makes a new version of the same campaigns), then, with `reset`, resets the
 * campaigns' counters; returns its summary lines.
 */
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

/** Deletes the spend, frequency and reservation counters of the prefixed campaigns; returns how many keys went. */
export async function resetCounters(prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9._:-]+$/.test(prefix)) throw new PipelineError('CONFIG_INVALID', `refusing to reset counters for prefix ${JSON.stringify(prefix)}`);
  return unlinkMatching(stackConfig.redisUrl, counterPatterns(prefix));
}

/** Deletes (UNLINK) every Redis key matching any of `patterns`, scanning in pages; returns how many went. */
export async function unlinkMatching(redisUrl: string, patterns: readonly string[]): Promise<number> {
  // The stack's credentials and TLS (REDIS_PASSWORD, rediss://) apply to the URL given.
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
