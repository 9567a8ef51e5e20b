/** The TypeScript shape of schemas/avro/bid-set.avsc (topic `bids`). */
export interface ImpFloor {
  impId: string;
  floorMicros: number;
}
/**
 * What a bid says about its deal and creative beyond price and size (issue 10), carried from the bid to
 * its win and into the answer. Optional here because the Avro defaults fill them in on decode.
 */
export interface BidMarkup {
  /** The deal the bid is for; '' = open auction. */
  dealId?: string;
  /** OpenRTB 2.6 bid.mtype: 1 banner, 2 video. */
  mtype?: number;
  cat?: string[];
  cattax?: number;
  /** Video: the VAST document, or '' when served by vastTagUrl. */
  vastXml?: string;
  vastTagUrl?: string;
  durationSec?: number;
}
export interface BidRecord extends BidMarkup {
  impId: string;
  campaignId: string;
  advertiserId: string;
  creativeId: string;
  priceMicros: number;
  adomain: string[];
  w: number;
  h: number;
  dailyBudgetMicros: number;
  lifetimeBudgetMicros: number;
  frequencyCap: number;
  dayKey: string;
  dayEndsAtMs: number;
  title: string;
  imageUrl: string;
  landingUrl: string;
  /** The floor this bid must clear, base-currency CPM micros: the deal's for a deal bid, else the imp's (Avro default 0). */
  floorMicros?: number;
}
export interface BidSet {
  requestId: string;
  userId: string | null;
  at: number;
  tmax: number | null;
  test: boolean;
  receivedAtMs: number;
  decidedAtMs: number;
  imps: ImpFloor[];
  bids: BidRecord[];
  noBidReason: string | null;
  /** The request's exchange (BidRequest.exchange; '' for records from before exchanges; the Avro default). */
  exchange?: string;
  /** BidRequest.privacy.basis ('' before it existed). */
  privacyBasis?: string;
  /** The currency of the answer's prices (ISO 4217). */
  currency?: string;
  /** Answer-currency units per base-currency unit x 1,000,000. */
  fxRatePpm?: number;
}
