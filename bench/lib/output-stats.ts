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

export interface OutputStats {
  /** Output records (read_committed). */
  records: number;
  /** Distinct request ids among them: fewer than records means duplicates. */
  distinct: number;
  /** e.g. { ENRICHED: 0.71, NO_PROFILE: 0.29 } or { bid: 0.64, no_eligible_campaign: 0.3, ... }: shares of records. */
  outcomes: Record<string, number>;
  /** Mean size of an output record's value (the Avro body plus 5 bytes of framing). */
  meanBytes: number;
  /** Bid: mean bids per BidSet; auction: mean bids per auction. */
  meanBids?: number;
}

function shares(counts: Map<string, number>, n: number): Record<string, number> {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / Math.max(1, n)) * 1000) / 1000]));
}

/** Decodes a stage's output records and summarises them. */
export async function outputStats(stage: Stage, records: readonly RawRecord[], codec: AvroCodec): Promise<OutputStats> {
  const counts = new Map<string, number>();
  const ids = new Set<string>();
  let bids = 0;
  let bytes = 0;
  const count = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const r of records) {
    if (!r.value) continue;
    bytes += r.value.length;
    if (stage === 'passthrough' || stage === 'enrich') {
      const v = await codec.decode<BidRequest | BidSet>(r.value);
      if ('id' in v) {
        ids.add(v.id);
        count(v.enrichment);
      } else ids.add(v.requestId);
    } else if (stage === 'bid') {
      const v = await codec.decode<BidSet>(r.value);
      ids.add(v.requestId);
      bids += v.bids.length;
      count(v.bids.length > 0 ? 'bid' : (v.noBidReason ?? 'no_bid'));
    } else {
      const v = await codec.decode<AuctionOutcome>(r.value);
      ids.add(v.requestId);
      bids += v.bids.length;
      count(v.wins.length > 0 ? 'win' : (v.noBidReason ?? 'no_bid'));
    }
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
