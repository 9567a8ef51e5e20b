/** The TypeScript shape of schemas/avro/bid-set.avsc (topic `bids`). */
export interface ImpFloor {
  impId: string;
  floorMicros: number;
}
export interface BidRecord {
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
}
