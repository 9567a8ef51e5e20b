/**
 * Tumbling event-time windows and additive partial sums. Pure.
 *
 * A record's window starts at its event time rounded down to the window width. Sums are additive, so
 * a late record simply adds to its (older) window. Lateness is measured against the record's Kafka
 * timestamp (when it reached the log), not the wall clock, so re-processing the same records in a
 * replay makes the same decisions.
 *
 * The key is campaign, creative, deal, test flag, privacy basis, currency and window: analysts split by
 * each of them, and sums of different keys must never be merged (a deal's spend is not the open
 * auction's; test traffic is kept apart from the money of live traffic).
 *
 * What counts as what (issue 10): our internal auction's pick is a bid SUBMITTED to the exchange (the
 * record field `wins`, which predates exchange win notices: see window-count.avsc); a WIN is the
 * exchange's, the one tracking event per impression with `exchangeWin` (the win or the billing notice,
 * per the exchange's setting), with the clearing price the exchange reported; a loss notice is a loss;
 * spend is the billing notices' cost.
 */
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { LossNotice, TrackingEvent, WindowCount } from '../../schemas/tracking-event.js';
import type { BatchInfo } from '../runtime/processor.js';

export type Counters = Required<Pick<WindowCount,
  'requests' | 'bids' | 'wins' | 'winCostMicros' | 'spendMicros' | 'clearingPriceMicros' | 'impressions' | 'clicks' | 'conversions' | 'exchangeWins' | 'exchangePriceMicros' | 'losses' | 'reportedSpendMicros'>>;

/** What a sum is keyed by, besides its window. */
export type SumKey = Required<Pick<WindowCount, 'campaignId' | 'creativeId' | 'dealId' | 'test' | 'privacyBasis' | 'currency'>>;

/** The campaign id that carries counters of all requests (a request has no campaign). */
export const ALL_CAMPAIGNS = '*';

/** The currency of records written before the answer could be in another (the Avro default). */
export const BASE_CURRENCY = 'USD';

export function windowStart(eventMs: number, widthMs: number): number {
  return Math.floor(eventMs / widthMs) * widthMs;
}

/** True when the record reached Kafka more than `horizonMs` after its event time. */
export function isLate(eventMs: number, arrivedMs: number, horizonMs: number): boolean {
  return arrivedMs - eventMs > horizonMs;
}

const zero = (): Counters => ({
  requests: 0, bids: 0, wins: 0, winCostMicros: 0, spendMicros: 0, clearingPriceMicros: 0, impressions: 0, clicks: 0, conversions: 0, exchangeWins: 0, exchangePriceMicros: 0, losses: 0, reportedSpendMicros: 0,
});

/** Partial sums of one batch, keyed by SumKey and window. */
export class WindowSums {
  private readonly sums = new Map<string, { key: SumKey; windowStartMs: number; c: Counters }>();

  constructor(readonly widthMs: number) {}

  get size(): number {
    return this.sums.size;
  }

  add(key: SumKey, eventMs: number, delta: Partial<Counters>): void {
    const start = windowStart(eventMs, this.widthMs);
    const id = [key.campaignId, key.creativeId, key.dealId, key.test ? '1' : '0', key.privacyBasis, key.currency, start].join('\u0000');
    let e = this.sums.get(id);
    if (!e) this.sums.set(id, (e = { key: { ...key }, windowStartMs: start, c: zero() }));
    for (const [k, v] of Object.entries(delta) as Array<[keyof Counters, number]>) e.c[k] += v;
  }

  /**
   * An auction outcome counts one request (on the all-request row), each bid for its campaign, creative
   * and deal, and each of our auction's picks as a bid submitted, with its reserved cost and internal
   * clearing price; all under the request's test flag, privacy basis and answer currency.
   */
  addOutcome(o: AuctionOutcome): void {
    const request = { test: o.test, privacyBasis: o.privacyBasis ?? '', currency: o.currency ?? BASE_CURRENCY };
    const t = o.receivedAtMs;
    this.add({ campaignId: ALL_CAMPAIGNS, creativeId: '', dealId: '', ...request }, t, { requests: 1, bids: o.bids.length, wins: o.wins.length });
    for (const b of o.bids) this.add({ campaignId: b.campaignId, creativeId: b.creativeId, dealId: b.dealId ?? '', ...request }, t, { bids: 1 });
    for (const w of o.wins) {
      this.add({ campaignId: w.campaignId, creativeId: w.creativeId, dealId: w.dealId ?? '', ...request }, t, { wins: 1, winCostMicros: w.costMicros, clearingPriceMicros: w.clearingPriceMicros });
    }
  }

  /**
   * A notice counts at the time the edge received it. The notice kind the exchange's win is read from
   * (`exchangeWin`) counts a win and its reported clearing price; a billing notice adds its cost to
   * spend (whether or not it is also the win), in the base currency and, for invoices, in the currency
   * the exchange reported; a win notice that is not the exchange's win adds nothing.
   */
  addTracking(e: TrackingEvent): void {
    const delta: Partial<Counters> = e.exchangeWin ? { exchangeWins: 1, exchangePriceMicros: e.priceMicros } : {};
    switch (e.type) {
      case 'BILLING':
        delta.spendMicros = e.costMicros;
        delta.reportedSpendMicros = Math.floor((e.reportedPriceMicros ?? 0) / 1000);
        break;
      case 'IMPRESSION':
        delta.impressions = 1;
        break;
      case 'CLICK':
        delta.clicks = 1;
        break;
      case 'CONVERSION':
        delta.conversions = 1;
        break;
      case 'WIN':
        break;
    }
    if (Object.keys(delta).length === 0) return;
    this.add({
      campaignId: e.campaignId, creativeId: e.creativeId, dealId: e.dealId ?? '', test: e.test ?? false, privacyBasis: e.privacyBasis ?? '', currency: e.currency ?? BASE_CURRENCY,
    }, e.occurredAtMs, delta);
  }

  /** A loss notice counts one loss at the time the edge received it, under its request's dimensions. */
  addLoss(l: LossNotice): void {
    this.add({ campaignId: l.campaignId, creativeId: l.creativeId, dealId: l.dealId, test: l.test, privacyBasis: l.privacyBasis, currency: l.currency ?? BASE_CURRENCY }, l.occurredAtMs, { losses: 1 });
  }

  toRecords(batch: BatchInfo): WindowCount[] {
    return [...this.sums.values()].map(({ key, windowStartMs, c }) => ({
      ...key, windowStartMs, windowMs: this.widthMs, ...c,
      sourceTopic: batch.topic, sourcePartition: batch.partition, firstOffset: Number(batch.firstOffset), lastOffset: Number(batch.lastOffset),
    }));
  }
}
