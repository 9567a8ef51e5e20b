/** The TypeScript shapes of schemas/avro/tracking-event.avsc and window-count.avsc. */
export type TrackingType = 'WIN' | 'BILLING' | 'IMPRESSION' | 'CLICK' | 'CONVERSION';

export interface TrackingEvent {
  eventId: string;
  type: TrackingType;
  requestId: string;
  impId: string;
  campaignId: string;
  creativeId: string;
  advertiserId: string;
  dayKey: string;
  priceMicros: number;
  costMicros: number;
  auctionAtMs: number;
  occurredAtMs: number;
  ingestNodeId: string;
  /** Optional here because the Avro defaults fill them in on decode (tracking-event.avsc says what each means). */
  exchange?: string;
  exchangeWin?: boolean;
  test?: boolean;
  dealId?: string;
  privacyBasis?: string;
  currency?: string;
  reportedPriceMicros?: number;
}
/** The TypeScript shape of schemas/avro/loss-notice.avsc (topic `loss-notices`). */
export interface LossNotice {
  eventId: string;
  requestId: string;
  impId: string;
  campaignId: string;
  creativeId: string;
  advertiserId: string;
  dayKey: string;
  exchange: string;
  /** OpenRTB loss reason (${AUCTION_LOSS}); -1 when none was sent. */
  lossReason: number;
  priceMicros: number;
  test: boolean;
  dealId: string;
  privacyBasis: string;
  /** The answer's currency (ISO 4217). */
  currency: string;
  auctionAtMs: number;
  occurredAtMs: number;
  ingestNodeId: string;
}

export interface WindowCount {
  campaignId: string;
  creativeId: string;
  /**
   * The key's dimensions (window-count.avsc says what each means); rows differing in any of them are never
   * merged. This field and the other v2 fields are optional here because the Avro defaults fill them in on
   * decode (and on encode); code that builds a WindowCount by hand may leave them to the defaults.
   */
  dealId?: string;
  test?: boolean;
  privacyBasis?: string;
  currency?: string;
  windowStartMs: number;
  windowMs: number;
  requests: number;
  bids: number;
  /** Bids submitted (our internal auction's picks); the name predates exchange wins and is kept for compatibility. */
  wins: number;
  winCostMicros: number;
  spendMicros: number;
  /** Sum of the submitted bids' internal clearing CPMs. */
  clearingPriceMicros: number;
  impressions: number;
  clicks: number;
  conversions: number;
  /** Wins at the exchange (tracking events with exchangeWin) and the sum of the clearing CPMs it reported. */
  exchangeWins?: number;
  exchangePriceMicros?: number;
  losses?: number;
  /** Billed cost in the reported currency (`currency`), for reconciling invoices in that currency. */
  reportedSpendMicros?: number;
  sourceTopic: string;
  sourcePartition: number;
  firstOffset: number;
  lastOffset: number;
}
