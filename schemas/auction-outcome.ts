/** The TypeScript shape of schemas/avro/auction-outcome.avsc (topic `auction-outcomes`). */
import type { BidMarkup } from './bid-set.js';
export interface BidSummary {
  impId: string;
  campaignId: string;
  creativeId: string;
  priceMicros: number;
  dealId?: string;
}
/** The winning bid of one imp; its deal and creative fields are the bid's (BidMarkup). */
export interface WinRecord extends BidMarkup {
  impId: string;
  campaignId: string;
  advertiserId: string;
  creativeId: string;
  bidPriceMicros: number;
  clearingPriceMicros: number;
  costMicros: number;
  adomain: string[];
  w: number;
  h: number;
  dayKey: string;
  title: string;
  imageUrl: string;
  landingUrl: string;
}
export interface AuctionOutcome {
  requestId: string;
  userId: string | null;
  at: number;
  test: boolean;
  receivedAtMs: number;
  decidedAtMs: number;
  impCount: number;
  bids: BidSummary[];
  wins: WinRecord[];
  noBidReason: string | null;
  nbr: number | null;
  /** The request's exchange (BidRequest.exchange; '' for records from before exchanges; the Avro default). */
  exchange?: string;
  privacyBasis?: string;
  /** The currency of the answer's prices; WinRecord prices stay in the base currency (USD). */
  currency?: string;
  /** Answer-currency units per base-currency unit x 1,000,000. */
  fxRatePpm?: number;
}
