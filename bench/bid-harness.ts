/**
 * The bid processor's per-record CPU without Kafka or Redis (seed catalogue, fake MGET): µs per request of prepare + process
 * and of the BidSets' encode; the first two rounds warm up. Equal `digest`s (of the last round's BidSets) = same decisions.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import avro from 'avsc';
import { parseOpenRtb } from '../ingest/openrtb.js';
import { openRtbBody } from './lib/bodies.js';
import { cli, int } from './lib/options.js';
import { loadSchema } from '../schemas/topics.js';
import type { BidRequest } from '../schemas/bid-request.js';
import type { BidSet } from '../schemas/bid-set.js';
import { seedAdvertiser, seedCampaign, seedProfile, SIZES } from '../processors/campaigns/seed-catalogue.js';
import type { Campaign } from '../processors/domain/campaign.js';
import { frequencyKey, perfClicksKey, perfImpressionsKey, spendDayKey, spendLifetimeKey } from '../processors/domain/redis-keys.js';
import { mulberry32 } from '../processors/runtime/seeded-random.js';
import type { InRecord } from '../processors/runtime/processor.js';
import { CampaignIndex } from '../processors/bid/campaign-index.js';
import { FrequencyReader } from '../processors/bid/bid-state.js';
import { CounterSnapshot } from '../processors/bid/counter-snapshot.js';
import { bidProcessor } from '../processors/bid/bid-processor.js';
import { localDay } from '../processors/bid/schedule.js';

const SEED = 42;
const USERS = 10_000;
/** A Tuesday afternoon UTC: most seeded campaigns are in flight, some in a daypart window. */
const NOW = Date.UTC(2026, 10, 24, 15);

const { requests: requestCount, batch: batchSize, rounds, campaigns: campaignCount } = cli('bench/bid-harness.ts', {
  requests: int(1, '2000'), batch: int(1, '50'), rounds: int(3, '15'), campaigns: int(1, '300'),
});

function catalogue(n: number): Campaign[] {
  const advertisers = Array.from({ length: 8 }, (_, i) => seedAdvertiser(SEED, i));
  return Array.from({ length: n }, (_, i) => ({ ...seedCampaign(SEED, i, advertisers), updatedAtMs: 1 }));
}

/** Requests as the enrich processor hands them on: parsed by the edge, with the seeded user's profile. */
function requests(n: number): BidRequest[] {
  const body = openRtbBody('h', { users: USERS, sizes: SIZES, tmax: 100 });
  const env = { receivedAtMs: NOW - 3, ingestNodeId: 'harness', openrtbVersion: '2.6' };
  return Array.from({ length: n }, (_, seq) => {
    const r = parseOpenRtb(JSON.parse(body(seq)), env);
    const user = Number(/(\d+)$/.exec(r.user?.id ?? '')?.[1] ?? 0);
    return { ...r, enrichment: 'ENRICHED' as const, profile: seedProfile(SEED, user) };
  });
}

/** Redis keys → values as the auction and tracking paths would have left them mid-day. */
function counterTable(campaigns: readonly Campaign[]): Map<string, string> {
  const r = mulberry32(7);
  const table = new Map<string, string>();
  for (const c of campaigns) {
    const day = localDay(c.timezone, NOW).dayKey;
    // A few campaigns are spent out, most are somewhere around their pacing target.
    const spent = r() < 0.1 ? c.dailyBudgetMicros : Math.floor(c.dailyBudgetMicros * r() * 0.7);
    table.set(spendDayKey(c.id, day), String(spent));
    table.set(spendLifetimeKey(c.id), String(spent * 5));
    const imps = Math.floor(r() * 50_000);
    table.set(perfImpressionsKey(c.id), String(imps));
    table.set(perfClicksKey(c.id), String(Math.floor(imps * r() * 0.003)));
    if (c.frequencyCap) for (let u = 0; u < USERS; u += 7) table.set(frequencyKey(c.id, day, `user-${u}`), String(Math.floor(r() * c.frequencyCap.count * 1.5)));
  }
  return table;
}

/** Keys asked for per request in the measured rounds: what a real Redis would have had to serve. */
const mgets = { calls: 0, keys: 0 };

/** Named, so that a profile shows what answering MGETs costs here (a real client and server cost more). */
function fakeRedis(table: ReadonlyMap<string, string>): Redis {
  return {
    mget: async function fakeMget(keys: string[]) {
      mgets.calls++;
      mgets.keys += keys.length;
      return keys.map((k) => table.get(k) ?? null);
    },
  } as unknown as Redis;
}

const campaigns = catalogue(campaignCount);
const index = new CampaignIndex(campaigns);
const reqs = requests(requestCount);
const records: InRecord<BidRequest>[] = reqs.map((value, i) => ({ topic: 'in', partition: 0, offset: String(i), key: value.id, value, timestampMs: NOW }));
const redis = fakeRedis(counterTable(campaigns));
const frequencies = new FrequencyReader(redis, 1000);
// Read once, as the service's refresher would have; its background cost (one MGET per refresh) is not per request.
const snapshot = new CounterSnapshot({ redis, campaigns: () => index.campaigns(), refreshMs: 250, now: () => NOW });
await snapshot.refresh();
const processor = bidProcessor({
  input: 'in', output: 'bids', index, now: () => NOW, rand: mulberry32(1),
  campaignCounters: (now) => snapshot.counters(now), readFrequencies: (q, now) => frequencies.read(q, now),
});
const bidSet = avro.Type.forSchema(loadSchema('bid-set.avsc') as avro.Schema);
let scratch = Buffer.allocUnsafe(64 * 1024);

async function decideAll(): Promise<BidSet[]> {
  const out: BidSet[] = [];
  for (let i = 0; i < records.length; i += batchSize) {
    const batch = records.slice(i, i + batchSize);
    const ctx = await processor.prepare!(batch);
    for (const rec of batch) for (const o of await processor.process(rec, ctx)) out.push(o.value as BidSet);
  }
  return out;
}

/** Encodes as schemas/codec.ts does: into a reused scratch buffer after the 5-byte header, then one copy. */
function encodeAll(sets: readonly BidSet[]): number {
  let bytes = 0;
  for (const s of sets) {
    let end = bidSet.encode(s, scratch, 5);
    if (end < 0) {
      scratch = Buffer.allocUnsafe(scratch.length * 2);
      end = bidSet.encode(s, scratch, 5);
    }
    bytes += Buffer.from(scratch.subarray(0, end)).length;
  }
  return bytes;
}

/** Median (the upper middle of an even count) and minimum, one decimal. */
const stats = (xs: number[]) => ({ median: +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1), min: +Math.min(...xs).toFixed(1) });
const [decideUs, decideCpuUs, encodeUs] = [[] as number[], [] as number[], [] as number[]];
let [sets, bytes] = [[] as BidSet[], 0];
for (let round = 0; round < rounds; round++) {
  if (round === 2) [mgets.calls, mgets.keys] = [0, 0];
  const [t0, c0] = [process.hrtime.bigint(), process.cpuUsage()];
  sets = await decideAll();
  const [t1, c1] = [process.hrtime.bigint(), process.cpuUsage(c0)];
  bytes = encodeAll(sets);
  const t2 = process.hrtime.bigint();
  // The first rounds warm the JIT and the time-zone caches; they are not counted.
  if (round >= 2) {
    decideUs.push(Number(t1 - t0) / 1000 / records.length);
    // CPU time as well: on a shared machine wall time includes waiting for a core.
    decideCpuUs.push((c1.user + c1.system) / records.length);
    encodeUs.push(Number(t2 - t1) / 1000 / records.length);
  }
}
const bids = sets.reduce((n, s) => n + s.bids.length, 0);
process.stdout.write(
  `${JSON.stringify({
    campaigns: index.size, requests: records.length, batch: batchSize, rounds,
    bidsPerRequest: +(bids / sets.length).toFixed(2), bytesPerBidSet: Math.round(bytes / sets.length),
    mgetKeysPerRequest: +(mgets.keys / ((rounds - 2) * records.length)).toFixed(1),
    mgetCallsPerBatch: +(mgets.calls / ((rounds - 2) * Math.ceil(records.length / batchSize))).toFixed(2),
    digest: createHash('sha256').update(JSON.stringify(sets)).digest('hex').slice(0, 16),
    decideUsPerRequest: stats(decideUs), decideCpuUsPerRequest: stats(decideCpuUs), encodeUsPerRequest: stats(encodeUs),
  })}\n`,
);
