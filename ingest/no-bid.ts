/**
 * How a synchronous no-bid is answered, per exchange (exchanges.ts `noBid`): 204 with no body (the
 * default), or, for exchanges that want one, 200 with an OpenRTB BidResponse that bids nothing and says
 * why: `{"id": <request id>, "seatbid": [], "nbr": <code>}`. The code is the auction outcome's nbr
 * (processors/auction/no-bid-reasons.ts); no outcome by the deadline is 15, Insufficient Auction Time.
 * Refusals before the auction (400, 401, 429, 503, ...) are HTTP errors either way.
 */
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import { NBR_INSUFFICIENT_AUCTION_TIME } from '../processors/auction/no-bid-reasons.js';
import type { NoBidStatus } from './exchanges.js';

/** OpenRTB No-Bid Reason 0: Unknown Error (an outcome without wins that names no reason). */
const NBR_UNKNOWN = 0;

export type NoBidAnswer = { status: 204 } | { status: 200; body: string };

/** `outcome`: the request's auction outcome without wins, or null when none arrived by the deadline. */
export function noBidAnswer(noBid: NoBidStatus, requestId: string, outcome: AuctionOutcome | null): NoBidAnswer {
  if (noBid === 204) return { status: 204 };
  const nbr = outcome === null ? NBR_INSUFFICIENT_AUCTION_TIME : (outcome.nbr ?? NBR_UNKNOWN);
  return { status: 200, body: JSON.stringify({ id: requestId, seatbid: [], nbr }) };
}
