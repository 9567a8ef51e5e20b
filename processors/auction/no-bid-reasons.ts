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
 * | blocked              | 504 | vendor: every fitting creative excluded by bcat/badv/bapp/battr/btype |
 * | deal_only            | 505 | vendor: private auction (or deal-only campaigns) and no usable deal |
 * | currency_unsupported | 506 | vendor: no rate for the floor currency or for any allowed cur    |
 * | native_unsupported   | 507 | vendor: native-only imp; we serve no native ads yet              |
 *
 * None of the new reasons has a standard code: the list's 6 Unsupported Device, 7 Blocked Publisher or
 * Site and 8 Unmatched User are about the request's inventory or user, not our creatives, deals or money.
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
  blocked: 504,
  deal_only: 505,
  currency_unsupported: 506,
  native_unsupported: 507,
};

/** Standard codes for failures before bidding. */
export const NBR_TECHNICAL_ERROR = 1;
export const NBR_INVALID_REQUEST = 2;
export const NBR_INSUFFICIENT_AUCTION_TIME = 15;

export function nbrFor(reason: AnyNoBidReason): number {
  return NBR_CODES[reason];
}
