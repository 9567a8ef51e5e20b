import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_CAMPAIGNS, WindowSums, isLate, windowStart } from './window.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { TrackingEvent } from '../../schemas/tracking-event.js';

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

test('window sums outcomes into requests, bids, wins, cost and clearing price per campaign, creative and window', () => {
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

test('window counts notices by type at the time they were received; a win notice adds nothing', () => {
  const s = new WindowSums(MIN);
  const ev = (type: TrackingEvent['type'], occurredAtMs: number, costMicros = 0): TrackingEvent => ({
    eventId: `${type}-${occurredAtMs}`, type, requestId: 'r', impId: '1', campaignId: 'a', creativeId: 'a-cr', advertiserId: 'x', dayKey: 'd',
    priceMicros: costMicros * 1000, costMicros, auctionAtMs: 0, occurredAtMs, ingestNodeId: 'e',
  });
  for (const e of [ev('WIN', 5_000, 2_010), ev('BILLING', 6_000, 2_010), ev('IMPRESSION', 7_000), ev('CLICK', 61_000), ev('CONVERSION', 125_000)]) s.addTracking(e);
  const rows = s.toRecords(batch);
  const at = (w: number) => rows.find((r) => r.windowStartMs === w);
  assert.deepEqual([at(0)?.spendMicros, at(0)?.impressions, at(0)?.wins, at(0)?.clicks], [2_010, 1, 0, 0]);
  assert.equal(at(60_000)?.clicks, 1);
  assert.equal(at(120_000)?.conversions, 1);
});

test('window keeps a late record in its own older window (sums are additive)', () => {
  const s = new WindowSums(MIN);
  s.add('a', '', 10 * MIN + 5, { clicks: 1 });
  s.add('a', '', 2 * MIN + 5, { clicks: 1 });
  assert.deepEqual(s.toRecords(batch).map((r) => r.windowStartMs).sort((x, y) => x - y), [2 * MIN, 10 * MIN]);
});
