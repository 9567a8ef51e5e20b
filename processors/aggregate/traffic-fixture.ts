/**
 * Test support: seeded ad traffic (auction outcomes and the notices of their wins, plus duplicate and
 * late notices) and independent totals, for the aggregate and sink exactness tests.
 */
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { TrackingEvent, WindowCount } from '../../schemas/tracking-event.js';

const MIN = 60_000;

/** 2000 outcomes over the last 30 minutes for campaigns `<prefix>-c0..c4`, their notices, ~20% duplicates and 40 late notices. */
export function makeTraffic(prefix: string, now: number, seedValue = 42) {
  let seed = seedValue;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const outcomes: AuctionOutcome[] = [];
  const notices: TrackingEvent[] = [];
  for (let i = 0; i < 2000; i++) {
    const receivedAtMs = now - rnd(30) * MIN - rnd(MIN);
    const bidders = [0, 1, 2, 3, 4].filter(() => rnd(3) === 0).map((c) => `${prefix}-c${c}`);
    const winner = bidders.length ? bidders[rnd(bidders.length)]! : null;
    const clearing = 500_000 + rnd(3_000_000);
    outcomes.push({
      requestId: `${prefix}-r${i}`, userId: null, at: 2, test: false, receivedAtMs, decidedAtMs: receivedAtMs + 3, impCount: 1,
      bids: bidders.map((c) => ({ impId: '1', campaignId: c, creativeId: `${c}-cr`, priceMicros: clearing + 1 })),
      wins: winner ? [{ impId: '1', campaignId: winner, advertiserId: 'a', creativeId: `${winner}-cr`, bidPriceMicros: clearing + 1, clearingPriceMicros: clearing, costMicros: Math.floor(clearing / 1000), adomain: [], w: 300, h: 250, dayKey: 'd', title: '', imageUrl: '', landingUrl: '' }] : [],
      noBidReason: winner ? null : 'no_bids', nbr: winner ? null : 500,
    });
    if (!winner) continue;
    for (const type of ['BILLING', 'IMPRESSION', 'CLICK', 'CONVERSION'] as const) {
      if (type !== 'BILLING' && type !== 'IMPRESSION' && rnd(4) !== 0) continue;
      notices.push({
        eventId: `e-${prefix}-${i}-${type}`, type, requestId: `${prefix}-r${i}`, impId: '1', campaignId: winner, creativeId: `${winner}-cr`, advertiserId: 'a', dayKey: 'd',
        priceMicros: clearing, costMicros: Math.floor(clearing / 1000), auctionAtMs: receivedAtMs, occurredAtMs: receivedAtMs + 1000 + rnd(5000), ingestNodeId: 'e',
      });
    }
  }
  const duplicates = notices.filter(() => rnd(5) === 0).map((n) => ({ ...n, occurredAtMs: n.occurredAtMs + 7 }));
  const late = Array.from({ length: 40 }, (_, i) => ({ ...notices[i]!, eventId: `late-${prefix}-${i}`, occurredAtMs: now - 3 * 3_600_000 }));
  return { outcomes, notices, duplicates, late };
}

export const keyOf = (w: Pick<WindowCount, 'campaignId' | 'creativeId' | 'windowStartMs'>): string => `${w.campaignId}|${w.creativeId}|${w.windowStartMs}`;
export const FIELDS = ['requests', 'bids', 'wins', 'winCostMicros', 'spendMicros', 'clearingPriceMicros', 'impressions', 'clicks', 'conversions'] as const;

export function totals(rows: Iterable<WindowCount>): Map<string, Record<(typeof FIELDS)[number], number>> {
  const m = new Map<string, Record<(typeof FIELDS)[number], number>>();
  for (const r of rows) {
    const t = m.get(keyOf(r)) ?? Object.fromEntries(FIELDS.map((f) => [f, 0])) as Record<(typeof FIELDS)[number], number>;
    for (const f of FIELDS) t[f] += r[f];
    m.set(keyOf(r), t);
  }
  return m;
}

