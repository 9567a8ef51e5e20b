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
}

export interface WindowCount {
  campaignId: string;
  creativeId: string;
  windowStartMs: number;
  windowMs: number;
  requests: number;
  bids: number;
  wins: number;
  winCostMicros: number;
  spendMicros: number;
  clearingPriceMicros: number;
  impressions: number;
  clicks: number;
  conversions: number;
  sourceTopic: string;
  sourcePartition: number;
  firstOffset: number;
  lastOffset: number;
}
