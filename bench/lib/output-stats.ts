/**
 * What a stage decided, from its output records: the share of requests enriched, bid on or won, and the
 * no-bid reasons. A throughput figure means little if the stage did not do its real work (a bidder that
 * matches nothing is fast), so the processor report prints these beside the rates.
 */
import type { RawRecord } from '../../processors/runtime/read-topic.js';
import type { AvroCodec } from '../../schemas/codec.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import type { Stage } from './stages.js';

/**
 * `records`: output records (read_committed); `distinct`: request ids among them (fewer: duplicates); `outcomes`: shares of records,
 * e.g. { ENRICHED: 0.71, NO_PROFILE: 0.29 } or { bid: 0.64, no_eligible_campaign: 0.3, ... }; `meanBytes`: mean size of a value (the
 * Avro body plus 5 bytes of framing); `meanBids`: bid, mean bids per BidSet; auction, mean bids per auction.
 */
export type OutputStats = Awaited<ReturnType<typeof outputStats>>;

function shares(counts: Map<string, number>, n: number): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / Math.max(1, n)) * 1000) / 1000]));
}

/** Decodes a stage's output records and summarises them. */
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
