/**
 * Tumbling event-time windows and additive partial sums. Pure.
 *
 * A record's window starts at its event time rounded down to the window width. Sums are additive, so
 * a late record simply adds to its (older) window. Lateness is measured against the record's Kafka
 * timestamp (when it reached the log), not the wall clock, so re-processing the same records in a
 * replay makes the same decisions.
 */
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { TrackingEvent, WindowCount } from '../../schemas/tracking-event.js';
import type { BatchInfo } from '../runtime/processor.js';

export type Counters = Pick<WindowCount, 'requests' | 'bids' | 'wins' | 'winCostMicros' | 'spendMicros' | 'clearingPriceMicros' | 'impressions' | 'clicks' | 'conversions'>;

/** The campaign id that carries counters of all requests (a request has no campaign). */
export const ALL_CAMPAIGNS = '*';

export function windowStart(eventMs: number, widthMs: number): number {
  return Math.floor(eventMs / widthMs) * widthMs;
}

/** True when the record reached Kafka more than `horizonMs` after its event time. */
export function isLate(eventMs: number, arrivedMs: number, horizonMs: number): boolean {
  return arrivedMs - eventMs > horizonMs;
}

const zero = (): Counters => ({ requests: 0, bids: 0, wins: 0, winCostMicros: 0, spendMicros: 0, clearingPriceMicros: 0, impressions: 0, clicks: 0, conversions: 0 });

/** Partial sums of one batch, keyed by campaign, creative and window. */
export class WindowSums {
  private readonly sums = new Map<string, { campaignId: string; creativeId: string; windowStartMs: number; c: Counters }>();

  constructor(readonly widthMs: number) {}

  get size(): number {
    return this.sums.size;
  }

  add(campaignId: string, creativeId: string, eventMs: number, delta: Partial<Counters>): void {
    const start = windowStart(eventMs, this.widthMs);
    const key = `${campaignId}\u0000${creativeId}\u0000${start}`;
    let e = this.sums.get(key);
    if (!e) this.sums.set(key, (e = { campaignId, creativeId, windowStartMs: start, c: zero() }));
    for (const [k, v] of Object.entries(delta) as Array<[keyof Counters, number]>) e.c[k] += v;
  }

  /** An auction outcome counts one request, each bid for its campaign and creative, each win with its cost and clearing price. */
  addOutcome(o: AuctionOutcome): void {
    this.add(ALL_CAMPAIGNS, '', o.receivedAtMs, { requests: 1, bids: o.bids.length, wins: o.wins.length });
    for (const b of o.bids) this.add(b.campaignId, b.creativeId, o.receivedAtMs, { bids: 1 });
    for (const w of o.wins) this.add(w.campaignId, w.creativeId, o.receivedAtMs, { wins: 1, winCostMicros: w.costMicros, clearingPriceMicros: w.clearingPriceMicros });
  }

  /** A notice counts at the time the edge received it. WIN notices are not counted again (the outcome counted the win). */
  addTracking(e: TrackingEvent): void {
    const t = e.occurredAtMs;
    switch (e.type) {
      case 'BILLING':
        return this.add(e.campaignId, e.creativeId, t, { spendMicros: e.costMicros });
      case 'IMPRESSION':
        return this.add(e.campaignId, e.creativeId, t, { impressions: 1 });
      case 'CLICK':
        return this.add(e.campaignId, e.creativeId, t, { clicks: 1 });
      case 'CONVERSION':
        return this.add(e.campaignId, e.creativeId, t, { conversions: 1 });
      case 'WIN':
        return;
    }
  }

  toRecords(batch: BatchInfo): WindowCount[] {
    return [...this.sums.values()].map(({ campaignId, creativeId, windowStartMs, c }) => ({
      campaignId, creativeId, windowStartMs, windowMs: this.widthMs, ...c,
      sourceTopic: batch.topic, sourcePartition: batch.partition, firstOffset: Number(batch.firstOffset), lastOffset: Number(batch.lastOffset),
    }));
  }
}
