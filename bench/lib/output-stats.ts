/**
 * What a stage decided, from its output: shares of outcomes (enriched, bid, won, no-bid reasons), distinct ids, sizes. A fast
 * stage that skipped its work (a bidder matching nothing) shows here.
 */
import type { RawRecord } from '../../processors/runtime/read-topic.js';
import type { AvroCodec } from '../../schemas/codec.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import type { Stage } from './stages.js';

export type OutputStats = Awaited<ReturnType<typeof outputStats>>;

function shares(counts: Map<string, number>, n: number): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / Math.max(1, n)) * 1000) / 1000]));
}

export async function outputStats(stage: Stage, records: readonly RawRecord[], codec: AvroCodec) {
  const [counts, ids] = [new Map<string, number>(), new Set<string>()];
  let [bids, bytes] = [0, 0];
  for (const r of records) {
    if (!r.value) continue;
    bytes += r.value.length;
    // A pass-through copies requests or BidSets; enrich writes requests; bid BidSets; the auction outcomes.
    const v = await codec.decode<BidRequest | BidSet | AuctionOutcome>(r.value);
    ids.add('id' in v ? v.id : v.requestId);
    bids += 'bids' in v ? v.bids.length : 0;
    const outcome = 'enrichment' in v ? v.enrichment : 'wins' in v ? (v.wins.length > 0 ? 'win' : (v.noBidReason ?? 'no_bid'))
      : v.bids.length > 0 ? 'bid' : (v.noBidReason ?? 'no_bid');
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  const n = records.length;
  return {
    records: n,
    distinct: ids.size,
    meanBytes: Math.round(bytes / Math.max(1, n)),
    outcomes: stage === 'passthrough' ? {} : shares(counts, n),
    ...(stage === 'bid' || stage === 'auction' ? { meanBids: Math.round((bids / Math.max(1, n)) * 100) / 100 } : {}),
  };
}
