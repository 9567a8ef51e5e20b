import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_CAMPAIGNS, WindowSums, isLate, windowStart } from './window.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { LossNotice, TrackingEvent, WindowCount } from '../../schemas/tracking-event.js';

const MIN = 60_000;
const batch = { topic: 'auction-outcomes', partition: 3, firstOffset: '100', lastOffset: '199' };

test('window rounds event time down to the window width (tumbling)', () => {
  assert.equal(windowStart(0, MIN), 0);
  assert.equal(windowStart(59_999, MIN), 0);
  assert.equal(windowStart(60_000, MIN), 60_000);
  assert.equal(windowStart(Date.UTC(2026, 10, 22, 10, 7, 31, 5), 5 * MIN), Date.UTC(2026, 10, 22, 10, 5));
});

test('window lateness is arrival minus event time against the horizon, inclusive', () => {
  assert.equal(isLate(1_000, 1_000 + 3_600_000, 3_600_000), false);
  assert.equal(isLate(1_000, 1_001 + 3_600_000, 3_600_000), true);
  assert.equal(isLate(5_000, 1_000, 3_600_000), false, 'an event from the future is not late');
});

const outcome = (requestId: string, receivedAtMs: number, bids: Array<[string, number]>, wins: Array<[string, number]>): AuctionOutcome => ({
  requestId, userId: null, at: 2, test: false, receivedAtMs, decidedAtMs: receivedAtMs + 5, impCount: 1,
  bids: bids.map(([campaignId, priceMicros]) => ({ impId: '1', campaignId, creativeId: `${campaignId}-cr`, priceMicros })),
  wins: wins.map(([campaignId, clearing]) => ({
    impId: '1', campaignId, advertiserId: 'a', creativeId: `${campaignId}-cr`, bidPriceMicros: clearing, clearingPriceMicros: clearing, costMicros: Math.floor(clearing / 1000),
    adomain: [], w: 300, h: 250, dayKey: 'd', title: '', imageUrl: '', landingUrl: '',
  })),
  noBidReason: wins.length ? null : 'no_bids', nbr: null,
});

test('window sums outcomes into requests, bids, bids submitted (the record field wins), cost and clearing price per campaign, creative and window', () => {
  const s = new WindowSums(MIN);
  s.addOutcome(outcome('r1', 10_000, [['a', 3_000_000], ['b', 2_000_000]], [['a', 2_010_000]]));
  s.addOutcome(outcome('r2', 20_000, [['a', 3_000_000]], [['a', 500_000]]));
  s.addOutcome(outcome('r3', 70_000, [], []));
  const rows = s.toRecords(batch);
  const find = (c: string, w: number) => rows.find((r) => r.campaignId === c && r.windowStartMs === w);
  assert.deepEqual([find(ALL_CAMPAIGNS, 0)?.requests, find(ALL_CAMPAIGNS, 0)?.bids, find(ALL_CAMPAIGNS, 0)?.wins], [2, 3, 2]);
  assert.equal(find(ALL_CAMPAIGNS, 60_000)?.requests, 1);
  assert.deepEqual([find('a', 0)?.bids, find('a', 0)?.wins, find('a', 0)?.winCostMicros, find('a', 0)?.clearingPriceMicros], [2, 2, 2_510, 2_510_000]);
  assert.deepEqual([find('b', 0)?.bids, find('b', 0)?.wins], [1, 0]);
  assert.equal(find('a', 0)?.creativeId, 'a-cr');
  assert.deepEqual([find('a', 0)?.sourceTopic, find('a', 0)?.sourcePartition, find('a', 0)?.firstOffset, find('a', 0)?.lastOffset], ['auction-outcomes', 3, 100, 199]);
  assert.equal(rows.length, 4);
});

test('window counts notices by type at the time they were received; a win notice that is not the exchange win adds nothing', () => {
  const s = new WindowSums(MIN);
  const ev = (type: TrackingEvent['type'], occurredAtMs: number, costMicros = 0): TrackingEvent => ({
    eventId: `${type}-${occurredAtMs}`, type, requestId: 'r', impId: '1', campaignId: 'a', creativeId: 'a-cr', advertiserId: 'x', dayKey: 'd',
    priceMicros: costMicros * 1000, costMicros, auctionAtMs: 0, occurredAtMs, ingestNodeId: 'e',
  });
  for (const e of [ev('WIN', 5_000, 2_010), ev('BILLING', 6_000, 2_010), ev('IMPRESSION', 7_000), ev('CLICK', 61_000), ev('CONVERSION', 125_000)]) s.addTracking(e);
  const rows = s.toRecords(batch);
  const at = (w: number) => rows.find((r) => r.windowStartMs === w);
  assert.deepEqual([at(0)?.spendMicros, at(0)?.impressions, at(0)?.wins, at(0)?.exchangeWins, at(0)?.clicks], [2_010, 1, 0, 0, 0]);
  assert.equal(at(60_000)?.clicks, 1);
  assert.equal(at(120_000)?.conversions, 1);
});

test('window keeps a late record in its own older window (sums are additive)', () => {
  const s = new WindowSums(MIN);
  const key = { campaignId: 'a', creativeId: '', dealId: '', test: false, privacyBasis: '', currency: 'USD' };
  s.add(key, 10 * MIN + 5, { clicks: 1 });
  s.add(key, 2 * MIN + 5, { clicks: 1 });
  assert.deepEqual(s.toRecords(batch).map((r) => r.windowStartMs).sort((x, y) => x - y), [2 * MIN, 10 * MIN]);
});

const dims = (r: WindowCount | undefined) => r && [r.dealId, r.test, r.privacyBasis, r.currency];

test('window counts the exchange win from the notice flagged exchangeWin (win or billing), with the clearing price the exchange reported', () => {
  const s = new WindowSums(MIN);
  const ev = (eventId: string, type: TrackingEvent['type'], exchangeWin: boolean, priceMicros: number): TrackingEvent => ({
    eventId, type, requestId: 'r', impId: '1', campaignId: 'a', creativeId: 'a-cr', advertiserId: 'x', dayKey: 'd', priceMicros, costMicros: Math.floor(priceMicros / 1000),
    auctionAtMs: 0, occurredAtMs: 1_000, ingestNodeId: 'e', exchangeWin, currency: 'EUR', reportedPriceMicros: Math.floor((priceMicros * 920_000) / 1_000_000) + 1,
  });
  // An nurl exchange: the win notice is the win, billing is spend only.
  s.addTracking(ev('w1', 'WIN', true, 1_500_000));
  s.addTracking(ev('b1', 'BILLING', false, 1_500_000));
  // A burl exchange: its win notice (if any) is not the win; billing is both the win and spend.
  s.addTracking(ev('w2', 'WIN', false, 2_000_000));
  s.addTracking(ev('b2', 'BILLING', true, 2_200_000));
  const [row, ...rest] = s.toRecords(batch);
  assert.deepEqual(rest, []);
  assert.deepEqual([row?.exchangeWins, row?.exchangePriceMicros, row?.spendMicros, row?.wins], [2, 3_700_000, 1_500 + 2_200, 0]);
  assert.equal(row?.reportedSpendMicros, 1_380 + 2_024, 'billed cost in the reported currency: reported CPM / 1000 floored per billing notice');
});

test('window keeps deals, test traffic, privacy bases and currencies apart, from the request onto its bids and picks', () => {
  const s = new WindowSums(MIN);
  const o = (requestId: string, extra: Partial<AuctionOutcome>): AuctionOutcome => ({
    ...outcome(requestId, 1_000, [['a', 2_000_000]], [['a', 1_000_000]]), ...extra,
  });
  const withDeal = (x: AuctionOutcome, dealId: string): AuctionOutcome => ({ ...x, bids: x.bids.map((b) => ({ ...b, dealId })), wins: x.wins.map((w) => ({ ...w, dealId })) });
  s.addOutcome(withDeal(o('r1', { privacyBasis: 'consent', currency: 'EUR', fxRatePpm: 920_000 }), 'deal-9'));
  s.addOutcome(o('r2', { privacyBasis: 'consent', currency: 'EUR' }));
  s.addOutcome(o('r3', { test: true, privacyBasis: 'coppa' }));
  s.addOutcome(o('r4', {})); // written before issue 10: no basis, no currency
  const rows = s.toRecords(batch);
  const star = rows.filter((r) => r.campaignId === ALL_CAMPAIGNS).map((r) => [...dims(r)!, r.requests, r.bids, r.wins]);
  assert.deepEqual(star.sort(), [
    ['', false, '', 'USD', 1, 1, 1],
    ['', false, 'consent', 'EUR', 2, 2, 2],
    ['', true, 'coppa', 'USD', 1, 1, 1],
  ].sort(), 'requests by the request basis and currency; the all-request rows have no deal');
  const camp = rows.filter((r) => r.campaignId === 'a').map((r) => [...dims(r)!, r.bids, r.wins]);
  assert.deepEqual(camp.sort(), [
    ['', false, '', 'USD', 1, 1],
    ['', false, 'consent', 'EUR', 1, 1],
    ['', true, 'coppa', 'USD', 1, 1],
    ['deal-9', false, 'consent', 'EUR', 1, 1],
  ].sort(), 'a deal bid is not the open auction, test is not live');
});

test('window counts a loss notice as a loss under its deal, test flag, basis and currency', () => {
  const s = new WindowSums(MIN);
  const loss = (eventId: string, dealId: string, test: boolean): LossNotice => ({
    eventId, requestId: 'r', impId: '1', campaignId: 'a', creativeId: 'a-cr', advertiserId: 'x', dayKey: 'd', exchange: 'ex', lossReason: 102, priceMicros: 3_000_000,
    test, dealId, privacyBasis: 'gdpr_no_consent', currency: 'EUR', auctionAtMs: 0, occurredAtMs: 61_000, ingestNodeId: 'e',
  });
  s.addLoss(loss('l1', '', false));
  s.addLoss(loss('l2', '', false));
  s.addLoss(loss('l3', 'deal-1', true));
  const rows = s.toRecords(batch).map((r) => [r.windowStartMs, ...dims(r)!, r.losses, r.exchangeWins, r.wins]);
  assert.deepEqual(rows.sort(), [[MIN, '', false, 'gdpr_no_consent', 'EUR', 2, 0, 0], [MIN, 'deal-1', true, 'gdpr_no_consent', 'EUR', 1, 0, 0]].sort());
});

test('window reads notices written before issue 10 (no dimensions) as live, open auction, basis "" and USD', () => {
  const s = new WindowSums(MIN);
  s.addTracking({ eventId: 'x', type: 'CLICK', requestId: 'r', impId: '1', campaignId: 'a', creativeId: 'k', advertiserId: 'x', dayKey: 'd', priceMicros: 0, costMicros: 0, auctionAtMs: 0, occurredAtMs: 0, ingestNodeId: 'e' });
  assert.deepEqual(dims(s.toRecords(batch)[0]), ['', false, '', 'USD']);
});
