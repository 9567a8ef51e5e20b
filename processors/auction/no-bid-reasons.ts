/**
 * No-bid reasons to OpenRTB `nbr` codes. OpenRTB 2.6 refers `BidResponse.nbr` to the "No-Bid Reason
 * Codes" list (shared with OpenRTB 3.0): 0-15 are standard, 500+ are vendor-specific and must be agreed
 * with the exchange beforehand. Only the frequency cap has a standard code that fits:
 *
 * | reason               | nbr | meaning                                                          |
 * |----------------------|-----|------------------------------------------------------------------|
 * | frequency_capped     |   9 | Daily User Cap Met (standard; our caps are per user per day)     |
 * | no_eligible_campaign | 500 | vendor: no campaign targets this request                         |
 * | no_bids              | 500 | vendor: same, seen from the auction (no bid reached it)          |
 * | below_floor          | 501 | vendor: every price was under the floor                          |
 * | budget_exhausted     | 502 | vendor: daily or lifetime budget spent, or reservation refused   |
 * | paced                | 503 | vendor: throttled by budget pacing                               |
 *
 * Request-level failures that never reach the bidder use the standard codes directly (2 Invalid
 * Request, 1 Technical Error, 15 Insufficient Auction Time); they are listed here so the edge reuses them.
 */
import type { NoBidReason } from '../domain/bid.js';

export type AnyNoBidReason = NoBidReason | 'no_bids';

export const NBR_CODES: Readonly<Record<AnyNoBidReason, number>> = {
  frequency_capped: 9,
  no_eligible_campaign: 500,
  no_bids: 500,
  below_floor: 501,
  budget_exhausted: 502,
  paced: 503,
};

/** Standard codes for failures before bidding. */
export const NBR_TECHNICAL_ERROR = 1;
export const NBR_INVALID_REQUEST = 2;
export const NBR_INSUFFICIENT_AUCTION_TIME = 15;

export function nbrFor(reason: AnyNoBidReason): number {
  return NBR_CODES[reason];
}
