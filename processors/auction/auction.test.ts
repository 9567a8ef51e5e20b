import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Bid } from '../domain/bid.js';
import { bidFloor, clearingPriceAt, impressionCostMicros, normalizeAuctionType, rankBids, runAuction, runAuctionAsync } from './auction.js';
import type { AuctionResult, AuthorizeStatus } from './auction.js';

function bid(campaignId: string, priceMicros: number, creativeId = 'cr'): Bid {
  return { impId: '1', campaignId, advertiserId: 'adv', creativeId, priceMicros, adomain: [], w: 300, h: 250 };
}

function win(r: AuctionResult): [string, number] {
  assert.equal(r.outcome, 'win');
  return r.outcome === 'win' ? [r.winner.campaignId, r.clearingPriceMicros] : ['', -1];
}

test('auction second price pays the runner-up plus 0.01', () => {
  assert.deepEqual(win(runAuction([bid('a', 3_000_000), bid('b', 2_000_000), bid('c', 1_000_000)], 0)), ['a', 2_010_000]);
});

test('auction second price never exceeds the winner bid', () => {
  assert.deepEqual(win(runAuction([bid('a', 2_000_000), bid('b', 1_995_000)], 0)), ['a', 2_000_000]);
});

test('auction second price is at least the floor', () => {
  assert.deepEqual(win(runAuction([bid('a', 3_000_000), bid('b', 100_000)], 1_000_000)), ['a', 1_000_000]);
});

test('auction single bid clears at the floor but not above its own bid', () => {
  assert.deepEqual(win(runAuction([bid('a', 3_000_000)], 1_500_000)), ['a', 1_500_000]);
  assert.deepEqual(win(runAuction([bid('a', 1_500_000)], 1_500_000)), ['a', 1_500_000]);
});

test('auction single bid with no floor pays 0.01, never zero', () => {
  assert.deepEqual(win(runAuction([bid('a', 3_000_000)], 0)), ['a', 10_000]);
  assert.deepEqual(win(runAuction([bid('a', 4_000)], 0)), ['a', 4_000]);
});

test('auction first price pays the winner own bid', () => {
  assert.deepEqual(win(runAuction([bid('a', 3_000_000), bid('b', 2_000_000)], 0, 1)), ['a', 3_000_000]);
  assert.deepEqual(win(runAuction([bid('a', 3_000_000)], 1_000_000, 1)), ['a', 3_000_000]);
});

test('auction breaks equal prices by lower campaignId and then pays that price', () => {
  const r = runAuction([bid('b', 2_000_000), bid('a', 2_000_000), bid('c', 1_000_000)], 0);
  assert.deepEqual(win(r), ['a', 2_000_000]);
  assert.deepEqual(win(runAuction([bid('a', 2_000_000), bid('b', 2_000_000)], 0)), ['a', 2_000_000]);
});

test('auction ranking ignores input order', () => {
  const bids = [bid('x', 5), bid('b', 7), bid('a', 7), bid('c', 9), bid('d', 1)];
  const expected = rankBids(bids, 0).map((b) => b.campaignId);
  assert.deepEqual(expected, ['c', 'a', 'b', 'x', 'd']);
  assert.deepEqual(rankBids([...bids].reverse(), 0).map((b) => b.campaignId), expected);
});

test('auction counts only the best bid of each campaign', () => {
  const r = runAuction([bid('a', 3_000_000, 'big'), bid('a', 2_900_000, 'small'), bid('b', 1_000_000)], 0);
  assert.deepEqual(win(r), ['a', 1_010_000]);
  assert.equal(r.outcome === 'win' && r.winner.creativeId, 'big');
  assert.equal(r.bidCount, 3);
  assert.equal(rankBids([bid('a', 5, 'z'), bid('a', 5, 'k')], 0)[0]?.creativeId, 'k');
});

test('auction ignores bids under the floor, also as runner-up', () => {
  assert.deepEqual(win(runAuction([bid('a', 3_000_000), bid('b', 900_000)], 1_000_000)), ['a', 1_000_000]);
});

test('auction with every bid under the floor is a below_floor no-bid', () => {
  const r = runAuction([bid('a', 900_000), bid('b', 800_000)], 1_000_000);
  assert.equal(r.outcome, 'no_bid');
  assert.equal(r.outcome === 'no_bid' && r.reason, 'below_floor');
  assert.equal(r.outcome === 'no_bid' && r.nbr, 501);
  assert.equal(r.bidCount, 2);
});

test('auction without bids is a no_bids no-bid', () => {
  const r = runAuction([], 0);
  assert.deepEqual(r, { outcome: 'no_bid', reason: 'no_bids', nbr: 500, bidCount: 0, rejected: [] });
});

test('auction falls back down the chain and reprices against the remaining bids', () => {
  const calls: [string, number][] = [];
  const verdicts: Record<string, AuthorizeStatus> = { a: 'daily_budget', b: 'frequency_cap' };
  const r = runAuction([bid('a', 5_000_000), bid('b', 4_000_000), bid('c', 3_000_000), bid('d', 1_000_000)], 500_000, 2, (b, price) => {
    calls.push([b.campaignId, price]);
    return verdicts[b.campaignId] ?? 'ok';
  });
  assert.deepEqual(calls, [['a', 4_010_000], ['b', 3_010_000], ['c', 1_010_000]]);
  assert.deepEqual(win(r), ['c', 1_010_000]);
  assert.deepEqual(r.rejected.map((x) => [x.bid.campaignId, x.clearingPriceMicros, x.status]), [['a', 4_010_000, 'daily_budget'], ['b', 3_010_000, 'frequency_cap']]);
});

test('auction fallback to the last bidder clears it at the floor', () => {
  const r = runAuction([bid('a', 5_000_000), bid('b', 4_000_000)], 2_000_000, 2, (b) => (b.campaignId === 'a' ? 'lifetime_budget' : 'ok'));
  assert.deepEqual(win(r), ['b', 2_000_000]);
});

test('auction where every reservation is refused reports the top bid reason', () => {
  const budget = runAuction([bid('a', 5), bid('b', 4)], 0, 2, (b) => (b.campaignId === 'a' ? 'daily_budget' : 'frequency_cap'));
  assert.equal(budget.outcome === 'no_bid' && budget.reason, 'budget_exhausted');
  assert.equal(budget.outcome === 'no_bid' && budget.nbr, 502);
  assert.equal(budget.rejected.length, 2);
  const capped = runAuction([bid('a', 5)], 0, 2, () => 'frequency_cap');
  assert.equal(capped.outcome === 'no_bid' && capped.reason, 'frequency_capped');
  assert.equal(capped.outcome === 'no_bid' && capped.nbr, 9);
});

test('auction reports the cost per impression as clearing CPM / 1000 rounded down', () => {
  const r = runAuction([bid('a', 3_000_000), bid('b', 2_345_678)], 0);
  assert.equal(r.outcome === 'win' && r.costMicros, 2_355);
  assert.equal(impressionCostMicros(2_355_678), 2_355);
  assert.equal(impressionCostMicros(999), 0);
  assert.equal(impressionCostMicros(1_000), 1);
});

test('auction clearingPriceAt prices any rank against the bids below it', () => {
  const ranked = rankBids([bid('a', 9_000_000), bid('b', 7_000_000), bid('c', 2_000_000)], 3_000_000);
  assert.equal(clearingPriceAt(ranked, 0, 3_000_000, 2), 7_010_000);
  assert.equal(clearingPriceAt(ranked, 1, 3_000_000, 2), 3_000_000);
  assert.equal(clearingPriceAt(ranked, 1, 3_000_000, 1), 7_000_000);
});

test('auction normalizeAuctionType maps OpenRTB at to first or second price', () => {
  assert.equal(normalizeAuctionType(1), 1);
  assert.equal(normalizeAuctionType(2), 2);
  assert.equal(normalizeAuctionType(undefined), 2);
  assert.equal(normalizeAuctionType(null), 2);
  assert.equal(normalizeAuctionType(501), 2);
});

test('auction async variant awaits each reservation in rank order with the same result', async () => {
  const bids = [bid('a', 5_000_000), bid('b', 4_000_000), bid('c', 3_000_000)];
  const order: string[] = [];
  const authorize = async (b: Bid): Promise<AuthorizeStatus> => {
    order.push(`start ${b.campaignId}`);
    await new Promise((resolve) => setImmediate(resolve));
    order.push(`end ${b.campaignId}`);
    return b.campaignId === 'a' ? 'daily_budget' : 'ok';
  };
  const r = await runAuctionAsync(bids, 0, 2, authorize);
  assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b']);
  assert.deepEqual(r, runAuction(bids, 0, 2, (b) => (b.campaignId === 'a' ? 'daily_budget' : 'ok')));
});

test('auction bidFloor: a deal bid has its own floor, an open bid the larger of its own and the imp floor', () => {
  const b = { impId: '1', campaignId: 'c', advertiserId: 'a', creativeId: 'cr', priceMicros: 1, adomain: [], w: 1, h: 1 };
  assert.equal(bidFloor({ ...b, dealId: 'd', floorMicros: 200 }, 500), 200);
  assert.equal(bidFloor({ ...b, dealId: '', floorMicros: 200 }, 500), 500);
  assert.equal(bidFloor({ ...b, floorMicros: 700 }, 500), 700);
  assert.equal(bidFloor(b, 500), 500);
});
