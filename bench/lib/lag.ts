/**
 * The benchmarks' lag and delay measurements, read from what the pipeline leaves behind or watched as it happens: consumer lag
 * of groups (e2e), per-hop lag from record timestamps (sync), receipt -> visible from the sink's ledger (e2e). Method: bench/README.md.
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { groupLag } from '../../processors/runtime/group-lag.js';
import { ALL_CAMPAIGNS, windowStart } from '../../processors/aggregate/window.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import { Histogram } from './histogram.js';
import { percentiles, type Percentiles } from './results.js';
import type { RunTopics } from './run-topics.js';

export interface GroupTopics {
  group: string;
  topics: readonly string[];
}

export async function lagSnapshot(admin: Admin, groups: readonly GroupTopics[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const g of groups) for (const p of (await groupLag(admin, g.group, g.topics)).partitions) out.set(`${g.group} ${p.topic}/${p.partition}`, Number(p.lag));
  return out;
}

export function lagByGroup(s: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of s) out[k.split(' ')[0]!] = (out[k.split(' ')[0]!] ?? 0) + v;
  return out;
}

/** Records behind at `end`, net of each partition's lag once drained: a transactional topic's last commit marker is never delivered. */
export const netLag = (end: Map<string, number>, drained: Map<string, number> | null): number =>
  [...end].reduce((n, [k, v]) => n + Math.max(0, v - (drained?.get(k) ?? 0)), 0);

/** Samples the total lag every second until stopped; resolves with [seconds since start, records] pairs. */
export function sampleLag(admin: Admin, groups: readonly GroupTopics[]): { stop: () => Promise<Array<[number, number]>> } {
  const [t0, points] = [performance.now(), [] as Array<[number, number]>];
  let running = true;
  const loop = (async () => {
    for (let at = t0; running; at = performance.now()) {
      const s = await lagSnapshot(admin, groups).catch(() => null);
      if (s) points.push([Math.round((at - t0) / 100) / 10, netLag(s, null)]);
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - at))));
    }
  })();
  return { stop: async (): Promise<Array<[number, number]>> => ((running = false), await loop, points) };
}

export const HOPS = {
  edge: 'edge receipt -> request produced (parse, validate, encode)',
  enrich: 'request produced -> enriched request produced',
  bid: 'enriched produced -> BidSet produced',
  auction: 'BidSet produced -> outcome produced',
  total: 'edge receipt -> outcome produced (the edge sees it only after the auction commits and its listener fetches)',
  decided: 'edge receipt -> auction decidedAtMs',
} as const;
export type Hop = keyof typeof HOPS;

export type RateLag = Awaited<ReturnType<typeof hopLags>>[number];

/**
 * Each sync rate's hop percentiles from its four topics; `winsPastDeadline`: wins produced after the edge's deadline (tmax minus
 * margin); `lostToDeadline`: requests with a win that the edge answered 204 (null without the answered ids).
 */
export async function hopLags(
  topics: RunTopics,
  t: { req: string; enr: string; bids: string; out: string },
  runs: ReadonlyArray<{ rate: number; idPrefix: string; warmupCount: number; noBid?: ReadonlySet<number> }>,
  defaults: { tmaxMs: number; marginMs: number },
) {
  type Seen = { receivedAtMs: number; tmax: number; req?: number; enr?: number; bids?: number; out?: number; decidedAtMs?: number; won?: boolean };
  const ends: Record<Hop, [keyof Seen, keyof Seen]> = {
    edge: ['receivedAtMs', 'req'], enrich: ['req', 'enr'], bid: ['enr', 'bids'], auction: ['bids', 'out'], total: ['receivedAtMs', 'out'],
    decided: ['receivedAtMs', 'decidedAtMs'],
  };
  const byId = new Map<string, Seen>();
  // Streamed, not held: a 60 s run at 2000 req/s puts ~120k records of ~0.5 KB on each topic per rate.
  const scan = <T>(topic: string, each: (v: T, ts: number) => void): Promise<unknown> =>
    topics.read(topic, { timeoutMs: 300_000, onRecord: async (r) => void (r.value && each(await topics.codec.decode<T>(r.value), Number(r.timestamp))) });
  await scan<BidRequest>(t.req, (v, ts) => byId.set(v.id, { receivedAtMs: v.receivedAtMs, tmax: v.tmax ?? defaults.tmaxMs, req: ts }));
  const mark = (id: string, seen: Partial<Seen>): void => void (byId.has(id) && Object.assign(byId.get(id)!, seen));
  await scan<BidRequest>(t.enr, (v, ts) => mark(v.id, { enr: ts }));
  await scan<BidSet>(t.bids, (v, ts) => mark(v.requestId, { bids: ts }));
  await scan<AuctionOutcome>(t.out, (v, ts) => mark(v.requestId, { out: ts, decidedAtMs: v.decidedAtMs, won: v.wins.length > 0 }));
  return runs.map(({ rate, idPrefix, warmupCount, noBid }) => {
    const hops = Object.fromEntries(Object.keys(HOPS).map((h) => [h, [] as number[]])) as Record<Hop, number[]>;
    const n = { requests: 0, enriched: 0, bidSets: 0, outcomes: 0, winsPastDeadline: 0, lost: 0 };
    for (const [id, s] of byId) {
      const seq = Number(id.slice(idPrefix.length + 1));
      if (!id.startsWith(`${idPrefix}-`) || seq < warmupCount) continue;
      n.requests++;
      n.lost += s.won && noBid?.has(seq) ? 1 : 0;
      n.enriched += s.enr === undefined ? 0 : 1;
      n.bidSets += s.bids === undefined ? 0 : 1;
      n.outcomes += s.out === undefined ? 0 : 1;
      n.winsPastDeadline += s.won && s.out !== undefined && s.out > s.receivedAtMs + s.tmax - defaults.marginMs ? 1 : 0;
      for (const [h, [from, to]] of Object.entries(ends)) {
        if (s[from] !== undefined && s[to] !== undefined) hops[h as Hop].push(Number(s[to]) - Number(s[from]));
      }
    }
    const { lost, ...counts } = n;
    const percentilesOf = Object.fromEntries(Object.entries(hops).map(([h, v]) => [h, percentiles(v)])) as Record<Hop, Percentiles | null>;
    return { rate, ...counts, lostToDeadline: noBid ? lost : null, hops: percentilesOf };
  });
}

type LedgerPart = { partition: number; first: number; last: number; windowStartMs: number; appliedMs: number };

/** The ledger's all-request ('*') parts of an outcomes topic: each outcome is counted by the part whose source range holds its offset. */
export class PartIndex {
  private readonly byPartition = new Map<number, LedgerPart[]>();

  constructor(parts: Iterable<LedgerPart>) {
    for (const p of parts) {
      if (!this.byPartition.has(p.partition)) this.byPartition.set(p.partition, []);
      this.byPartition.get(p.partition)!.push(p);
    }
    for (const list of this.byPartition.values()) list.sort((a, b) => a.first - b.first);
  }

  static async load(sql: Sql, outcomesTopic: string): Promise<PartIndex> {
    const rows = await sql<Array<{ p: number; f: string; l: string; w: string; a: number }>>`
      select source_partition as p, first_offset::text as f, last_offset::text as l, window_start_ms::text as w,
             extract(epoch from applied_at)::float8 * 1000 as a
      from window_count_parts where source_topic = ${outcomesTopic} and campaign_id = ${ALL_CAMPAIGNS} and superseded_at is null`;
    return new PartIndex(rows.map((r) => ({ partition: r.p, first: Number(r.f), last: Number(r.l), windowStartMs: Number(r.w), appliedMs: r.a })));
  }

  appliedAt(partition: number, offset: number, windowStartMs: number): number | null {
    const list = this.byPartition.get(partition);
    if (!list) return null;
    let [lo, hi] = [0, list.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid]!.first <= offset) lo = mid;
      else hi = mid - 1;
    }
    // One batch has one part per window, all with the batch's range: look through the parts of that range.
    for (let i = lo; i >= 0 && list[i]!.first === list[lo]!.first; i--) {
      const p = list[i]!;
      if (p.first <= offset && offset <= p.last && p.windowStartMs === windowStartMs) return p.appliedMs;
    }
    return null;
  }
}

export type RunLag = Awaited<ReturnType<typeof visibleLags>>[number];

/**
 * Each run's (by id prefix) receipt -> visible lag: `receivedAtMs` to its part's `applied_at` (the sink transaction's start, so
 * low by up to one batch); `notVisible`: outcomes no live part counted; `perSecond`: [second of receipt, p50, p99].
 */
export async function visibleLags(topics: RunTopics, topic: string, parts: PartIndex, runs: ReadonlyArray<{ idPrefix: string; startMs: number }>, windowMs: number) {
  const acc = runs.map(() => ({ outcomes: 0, notVisible: 0, all: new Histogram(), seconds: new Map<number, Histogram>() }));
  await topics.read(topic, {
    timeoutMs: 900_000,
    onRecord: async (r) => {
      if (!r.value) return;
      const o = await topics.codec.decode<AuctionOutcome>(r.value);
      const i = runs.findIndex((run) => o.requestId.startsWith(`${run.idPrefix}-`));
      if (i < 0) return;
      const a = acc[i]!;
      a.outcomes++;
      const applied = parts.appliedAt(r.partition, Number(r.offset), windowStart(o.receivedAtMs, windowMs));
      if (applied === null) return void a.notVisible++;
      const lag = Math.max(0, applied - o.receivedAtMs);
      const sec = Math.floor((o.receivedAtMs - runs[i]!.startMs) / 1000);
      if (!a.seconds.has(sec)) a.seconds.set(sec, new Histogram());
      for (const h of [a.all, a.seconds.get(sec)!]) h.record(lag);
    },
  });
  return acc.map((a) => ({
    outcomes: a.outcomes,
    notVisible: a.notVisible,
    lagMs: a.all.count ? { p50: a.all.percentile(50), p99: a.all.percentile(99), max: a.all.max } : null,
    perSecond: [...a.seconds].sort(([x], [y]) => x - y).map(([s, h]): [number, number, number] => [s, h.percentile(50), h.percentile(99)]),
  }));
}
