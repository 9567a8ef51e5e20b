/**
 * The auction processor: for each BidSet, one auction per impression (auction.ts), the winner's spend
 * and frequency count reserved atomically in Redis (authorize-script.ts), falling to the next bidder
 * when a reservation is refused. Writes one AuctionOutcome per request, keyed by request id.
 * A Redis failure fails the batch (retryable): without the budget authority nothing may be sold.
 *
 * Test traffic (BidSet.test, the request's test=1): the auction runs as usual but reserves nothing: no
 * budget, no frequency count in Redis, no pending reservation; the outcome says test = true so everything
 * downstream can keep it out of the money. The outcome copies the request's privacy basis and answer
 * currency; every price in it stays USD micros (the edge converts for the answer with fxRatePpm).
 */
import type { Processor, OutRecord } from '../runtime/processor.js';
import type { BidSet, BidRecord } from '../../schemas/bid-set.js';
import type { AuctionOutcome, WinRecord } from '../../schemas/auction-outcome.js';
import type { Bid } from '../domain/bid.js';
import { impressionCostMicros, normalizeAuctionType, runAuctionAsync, type AuthorizeStatus } from './auction.js';
import { nbrFor, type AnyNoBidReason } from './no-bid-reasons.js';
import { requestKey } from '../../schemas/request-key.js';

/**
 * Reserves `costMicros` for the bid; the Redis implementation is in reserve.ts. `requestId` is the
 * request's key, requestKey(exchange, id): two exchanges' requests with the same id are two reservations.
 */
export type Reserve = (bid: BidRecord, requestId: string, userId: string | null, costMicros: number) => Promise<AuthorizeStatus>;

export interface AuctionProcessorDeps {
  readonly name?: string;
  readonly input: string;
  readonly output: string;
  readonly reserve: Reserve;
  readonly now?: () => number;
}

export function auctionProcessor(deps: AuctionProcessorDeps): Processor<BidSet> {
  const now = deps.now ?? Date.now;
  return {
    name: deps.name ?? 'auction',
    // A decision hop: the reservation is idempotent per request, imp and campaign (authorize-script.ts),
    // and a re-emitted outcome is counted once downstream (the aggregate de-duplicates by request id).
    delivery: 'at-least-once',
    // Each request's reservations are atomic on their own; waiting for them one request after another
    // made a batch of 18 take ~200 ms under load.
    concurrentRecords: true,
    input: deps.input,
    outputs: [deps.output],
    async process(record): Promise<OutRecord[]> {
      const set = record.value;
      const exchange = set.exchange ?? '';
      const key = requestKey(exchange, set.requestId);
      const at = normalizeAuctionType(set.at);
      const wins: WinRecord[] = [];
      let firstReason: AnyNoBidReason | null = null;
      for (const imp of set.imps) {
        const records = set.bids.filter((b) => b.impId === imp.impId);
        const byCampaign = new Map(records.map((b) => [b.campaignId, b]));
        const bids: Bid[] = records.map((b) => ({
          impId: b.impId, campaignId: b.campaignId, advertiserId: b.advertiserId, creativeId: b.creativeId,
          priceMicros: b.priceMicros, adomain: b.adomain, w: b.w, h: b.h, dealId: b.dealId ?? '', floorMicros: b.floorMicros,
        }));
        const result = await runAuctionAsync(bids, imp.floorMicros, at, (bid, clearing) => {
          if (set.test) return 'ok';
          const full = byCampaign.get(bid.campaignId)!;
          return deps.reserve(full, key, set.userId, impressionCostMicros(clearing));
        });
        if (result.outcome === 'win') {
          const w = result.winner;
          const full = byCampaign.get(w.campaignId)!;
          wins.push({
            impId: imp.impId, campaignId: w.campaignId, advertiserId: w.advertiserId, creativeId: w.creativeId,
            bidPriceMicros: w.priceMicros, clearingPriceMicros: result.clearingPriceMicros, costMicros: result.costMicros,
            adomain: [...w.adomain], w: w.w, h: w.h, dayKey: full.dayKey, title: full.title, imageUrl: full.imageUrl, landingUrl: full.landingUrl,
            dealId: full.dealId ?? '', mtype: full.mtype ?? 1, cat: [...(full.cat ?? [])], cattax: full.cattax ?? 1,
            vastXml: full.vastXml ?? '', vastTagUrl: full.vastTagUrl ?? '', durationSec: full.durationSec ?? 0,
          });
        } else {
          firstReason ??= result.reason === 'no_bids' && set.noBidReason ? (set.noBidReason as AnyNoBidReason) : result.reason;
        }
      }
      const noBidReason = wins.length > 0 ? null : (firstReason ?? 'no_bids');
      const outcome: AuctionOutcome = {
        requestId: set.requestId,
        userId: set.userId,
        at,
        test: set.test,
        receivedAtMs: set.receivedAtMs,
        decidedAtMs: now(),
        impCount: set.imps.length,
        bids: set.bids.map((b) => ({ impId: b.impId, campaignId: b.campaignId, creativeId: b.creativeId, priceMicros: b.priceMicros, dealId: b.dealId ?? '' })),
        wins,
        noBidReason,
        nbr: noBidReason === null ? null : nbrFor(noBidReason),
        exchange,
        privacyBasis: set.privacyBasis ?? '',
        currency: set.currency || 'USD',
        fxRatePpm: set.fxRatePpm || 1_000_000,
      };
      return [{ topic: deps.output, key: set.requestId, value: outcome }];
    },
  };
}
