/**
 * Where a synchronous request's time goes, read back from the run's topics after the load: each
 * record's Kafka timestamp is stamped by the producer when the stage hands it over (processors: when the
 * batch's transaction sends it), so the difference between consecutive topics is one hop: the previous
 * stage's commit, this stage's fetch, its batch work. Joined by request id; ids are `<idPrefix>-<seq>`.
 */
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import { percentiles, type Percentiles } from './results.js';
import type { RunTopics } from './run-topics.js';

export const HOPS = ['edge', 'enrich', 'bid', 'auction', 'total', 'decided'] as const;
export type Hop = (typeof HOPS)[number];
export const HOP_MEANING: Readonly<Record<Hop, string>> = {
  edge: 'edge receipt -> request produced (parse, validate, encode)',
  enrich: 'request produced -> enriched request produced',
  bid: 'enriched produced -> BidSet produced',
  auction: 'BidSet produced -> outcome produced',
  total: 'edge receipt -> outcome produced (the edge sees it only after the auction commits and its listener fetches)',
  decided: 'edge receipt -> auction decidedAtMs',
};

export interface RateLag {
  rate: number;
  /** Measured requests found in the request topic. */
  requests: number;
  /** Of those, how many reached each topic. */
  enriched: number;
  bidSets: number;
  outcomes: number;
  /** Outcomes with a win produced after the edge's deadline (tmax minus margin): a bid lost to time. */
  winsPastDeadline: number;
  /** Requests whose outcome has a win but which the edge answered 204 (from the load's answered ids); null without them. */
  lostToDeadline: number | null;
  hops: Record<Hop, Percentiles | null>;
}

interface Seen {
  receivedAtMs: number;
  tmax: number;
  ts: Partial<Record<'req' | 'enr' | 'bids' | 'out', number>>;
  decidedAtMs?: number;
  won?: boolean;
}

export interface LagTopics {
  req: string;
  enr: string;
  bids: string;
  out: string;
}

/** Reads the four topics and computes each rate's hop percentiles; `runs` says which id prefix is which rate. */
export async function stageLags(
  topics: RunTopics,
  t: LagTopics,
  runs: ReadonlyArray<{ rate: number; idPrefix: string; warmupCount: number; noBid?: ReadonlySet<number> }>,
  defaults: { tmaxMs: number; marginMs: number },
): Promise<RateLag[]> {
  const byId = new Map<string, Seen>();
  // Streamed, not held: a 60 s run at 2000 req/s puts ~120k records of ~0.5 KB on each topic per rate.
  const decode = async <T>(topic: string, each: (v: T, ts: number) => void): Promise<void> =>
    void (await topics.scan(topic, async (r) => void (r.value && each(await topics.codec.decode<T>(r.value), Number(r.timestamp))), { timeoutMs: 300_000 }));
  await decode<BidRequest>(t.req, (v, ts) => byId.set(v.id, { receivedAtMs: v.receivedAtMs, tmax: v.tmax ?? defaults.tmaxMs, ts: { req: ts } }));
  await decode<BidRequest>(t.enr, (v, ts) => {
    const s = byId.get(v.id);
    if (s) s.ts.enr = ts;
  });
  await decode<BidSet>(t.bids, (v, ts) => {
    const s = byId.get(v.requestId);
    if (s) s.ts.bids = ts;
  });
  await decode<AuctionOutcome>(t.out, (v, ts) => {
    const s = byId.get(v.requestId);
    if (!s) return;
    s.ts.out = ts;
    s.decidedAtMs = v.decidedAtMs;
    s.won = v.wins.length > 0;
  });
  return runs.map(({ rate, idPrefix, warmupCount, noBid }) => {
    const hops = Object.fromEntries(HOPS.map((h) => [h, [] as number[]])) as Record<Hop, number[]>;
    let requests = 0;
    let enriched = 0;
    let bidSets = 0;
    let outcomes = 0;
    let late = 0;
    let lost = 0;
    for (const [id, s] of byId) {
      const seq = Number(id.slice(idPrefix.length + 1));
      if (!id.startsWith(`${idPrefix}-`) || seq < warmupCount) continue;
      requests++;
      if (s.won && noBid?.has(seq)) lost++;
      const { req, enr, bids, out } = s.ts;
      if (req !== undefined) hops.edge.push(req - s.receivedAtMs);
      if (enr !== undefined) enriched++;
      if (bids !== undefined) bidSets++;
      if (enr !== undefined && req !== undefined) hops.enrich.push(enr - req);
      if (bids !== undefined && enr !== undefined) hops.bid.push(bids - enr);
      if (out !== undefined) {
        outcomes++;
        if (bids !== undefined) hops.auction.push(out - bids);
        hops.total.push(out - s.receivedAtMs);
        if (s.decidedAtMs !== undefined) hops.decided.push(s.decidedAtMs - s.receivedAtMs);
        if (s.won && out > s.receivedAtMs + s.tmax - defaults.marginMs) late++;
      }
    }
    return {
      rate, requests, enriched, bidSets, outcomes, winsPastDeadline: late, lostToDeadline: noBid ? lost : null,
      hops: Object.fromEntries(HOPS.map((h) => [h, percentiles(hops[h])])) as Record<Hop, Percentiles | null>,
    };
  });
}
