/**
 * The auction for one impression: rank the bids, price the winner, and reserve its budget through
 * `authorize`, falling through to the next bidder when a reservation is refused.
 *
 * Ranking: price descending; equal prices go to the lower campaignId (plain string comparison), then the
 * lower creativeId, so ties never depend on arrival order. Bids under their floor take no part, and only
 * a campaign's highest bid counts (a campaign must not set its own second price).
 *
 * Floors are per bid (`bidFloor`): a deal bid is judged against its deal's floor (Bid.floorMicros, set by
 * the bidder from imp.pmp), which may be above or below the imp's; an open bid against the larger of its
 * own floorMicros and the imp's floor. Deal and open bids of an imp that is not a private auction compete
 * in one ranking. Below, "the floor" is the candidate's own.
 *
 * Clearing price (CPM micros), with `next` the best remaining bid below the candidate (0 when none):
 *   first price (at = 1): the candidate's own bid;
 *   second price (at = 2, the default, and any other value): next + 10,000 micros (0.01 currency units),
 *   at least the floor and never more than the candidate's own bid. A lone bid therefore clears at the
 *   floor, or at 0.01 when the floor is lower, so an impression is never free.
 * When authorization refuses the winner, the next bid becomes the candidate and its price is recomputed
 * against the bids below it: refused bids no longer set anyone's price.
 */
import type { Bid } from '../domain/bid.js';
import { nbrFor } from './no-bid-reasons.js';

export type AuctionType = 1 | 2;
export const SECOND_PRICE_INCREMENT_MICROS = 10_000;

/** What a budget/cap reservation answers; the Redis script's status codes map onto it (authorize-script.ts). */
export type AuthorizeStatus = 'ok' | 'daily_budget' | 'lifetime_budget' | 'frequency_cap';
export type Authorize = (bid: Bid, clearingPriceMicros: number) => AuthorizeStatus;
export type AuthorizeAsync = (bid: Bid, clearingPriceMicros: number) => AuthorizeStatus | Promise<AuthorizeStatus>;

export type AuctionNoBidReason = 'no_bids' | 'below_floor' | 'budget_exhausted' | 'frequency_capped';

export interface Rejection {
  readonly bid: Bid;
  readonly clearingPriceMicros: number;
  readonly status: Exclude<AuthorizeStatus, 'ok'>;
}

export type AuctionResult =
  | {
      readonly outcome: 'win';
      readonly winner: Bid;
      readonly clearingPriceMicros: number;
      /** What the impression costs the campaign: `impressionCostMicros(clearingPriceMicros)`. */
      readonly costMicros: number;
      readonly bidCount: number;
      readonly rejected: readonly Rejection[];
    }
  | {
      readonly outcome: 'no_bid';
      /** For refused reservations: the reason the highest-ranked bid was refused. */
      readonly reason: AuctionNoBidReason;
      /** OpenRTB `nbr` for the reason (no-bid-reasons.ts). */
      readonly nbr: number;
      readonly bidCount: number;
      readonly rejected: readonly Rejection[];
    };

/** OpenRTB `at`: 1 is first price; anything else (absent, 2, exchange-specific 500+) is second price. */
export function normalizeAuctionType(at: number | null | undefined): AuctionType {
  return at === 1 ? 1 : 2;
}

/**
 * Cost of one impression in micros: clearing CPM / 1000, rounded down. The remainder (under one micro
 * per impression, clearing % 1000 thousandths of a micro) is never charged, so rounding can only favour
 * the advertiser; reports that need exact CPM use the clearing price, not the summed cost.
 */
export function impressionCostMicros(clearingCpmMicros: number): number {
  return Math.floor(clearingCpmMicros / 1000);
}

function compareBids(a: Bid, b: Bid): number {
  if (a.priceMicros !== b.priceMicros) return b.priceMicros - a.priceMicros;
  if (a.campaignId !== b.campaignId) return a.campaignId < b.campaignId ? -1 : 1;
  return a.creativeId < b.creativeId ? -1 : a.creativeId > b.creativeId ? 1 : 0;
}

/** The floor `b` must clear in an imp whose own floor is `impFloorMicros` (see the module comment). */
export function bidFloor(b: Bid, impFloorMicros: number): number {
  if (b.dealId) return b.floorMicros ?? impFloorMicros;
  return Math.max(b.floorMicros ?? 0, impFloorMicros);
}

/** Bids at or above their floor, one (the best) per campaign, in winning order. */
export function rankBids(bids: readonly Bid[], floorMicros: number): Bid[] {
  const best = new Map<string, Bid>();
  for (const b of [...bids].sort(compareBids)) {
    if (b.priceMicros >= bidFloor(b, floorMicros) && !best.has(b.campaignId)) best.set(b.campaignId, b);
  }
  return [...best.values()];
}

/** Clearing price of `ranked[i]` against the bids ranked below it (see the module comment). */
export function clearingPriceAt(ranked: readonly Bid[], i: number, floorMicros: number, at: AuctionType): number {
  const own = ranked[i]!.priceMicros;
  if (at === 1) return own;
  const next = ranked[i + 1]?.priceMicros ?? 0;
  return Math.min(own, Math.max(bidFloor(ranked[i]!, floorMicros), next + SECOND_PRICE_INCREMENT_MICROS));
}

function reasonFor(status: Rejection['status']): AuctionNoBidReason {
  return status === 'frequency_cap' ? 'frequency_capped' : 'budget_exhausted';
}

function settle(bids: readonly Bid[], ranked: readonly Bid[], rejected: readonly Rejection[], winnerIndex: number, price: number): AuctionResult {
  if (winnerIndex >= 0) {
    return { outcome: 'win', winner: ranked[winnerIndex]!, clearingPriceMicros: price, costMicros: impressionCostMicros(price), bidCount: bids.length, rejected };
  }
  const reason: AuctionNoBidReason = bids.length === 0 ? 'no_bids' : ranked.length === 0 ? 'below_floor' : reasonFor(rejected[0]!.status);
  return { outcome: 'no_bid', reason, nbr: nbrFor(reason), bidCount: bids.length, rejected };
}

/**
 * Runs the auction for the bids of one impression. `authorize` reserves the winner's spend (and the
 * user's frequency count) at the given clearing price; it defaults to accepting everything.
 */
export function runAuction(bids: readonly Bid[], floorMicros: number, at: AuctionType = 2, authorize: Authorize = () => 'ok'): AuctionResult {
  const ranked = rankBids(bids, floorMicros);
  const rejected: Rejection[] = [];
  for (let i = 0; i < ranked.length; i++) {
    const price = clearingPriceAt(ranked, i, floorMicros, at);
    const status = authorize(ranked[i]!, price);
    if (status === 'ok') return settle(bids, ranked, rejected, i, price);
    rejected.push({ bid: ranked[i]!, clearingPriceMicros: price, status });
  }
  return settle(bids, ranked, rejected, -1, 0);
}

/** `runAuction` for an asynchronous `authorize` (the Redis script); reservations are tried one at a time, in rank order. */
export async function runAuctionAsync(bids: readonly Bid[], floorMicros: number, at: AuctionType, authorize: AuthorizeAsync): Promise<AuctionResult> {
  const ranked = rankBids(bids, floorMicros);
  const rejected: Rejection[] = [];
  for (let i = 0; i < ranked.length; i++) {
    const price = clearingPriceAt(ranked, i, floorMicros, at);
    const status = await authorize(ranked[i]!, price);
    if (status === 'ok') return settle(bids, ranked, rejected, i, price);
    rejected.push({ bid: ranked[i]!, clearingPriceMicros: price, status });
  }
  return settle(bids, ranked, rejected, -1, 0);
}
