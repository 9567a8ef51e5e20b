import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auctionProcessor, type Reserve } from './auction-processor.js';
import type { BidSet, BidRecord } from '../../schemas/bid-set.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { AuthorizeStatus } from './auction.js';

const bid = (campaignId: string, priceMicros: number, impId = '1'): BidRecord => ({
  impId, campaignId, advertiserId: `adv-${campaignId}`, creativeId: `cr-${campaignId}`, priceMicros, adomain: ['a.com'], w: 300, h: 250,
  dailyBudgetMicros: 1_000_000, lifetimeBudgetMicros: 10_000_000, frequencyCap: 0, dayKey: '2026-11-22', dayEndsAtMs: 0, title: 't', imageUrl: 'https://cdn.example.com/i.png', landingUrl: 'https://brand.example.com',
});
const set = (bids: BidRecord[], over: Partial<BidSet> = {}): BidSet => ({
  requestId: 'r1', userId: 'u1', at: 2, tmax: 100, test: false, receivedAtMs: 1, decidedAtMs: 2,
  imps: [{ impId: '1', floorMicros: 500_000 }], bids, noBidReason: bids.length ? null : 'no_eligible_campaign', ...over,
});

async function run(s: BidSet, statuses: Record<string, AuthorizeStatus> = {}) {
  const calls: Array<[string, number]> = [];
  const reserve: Reserve = async (b, requestId, _u, cost) => {
    assert.equal(requestId, s.requestId);
    calls.push([b.campaignId, cost]);
    return statuses[b.campaignId] ?? 'ok';
  };
  const p = auctionProcessor({ input: 'bids', output: 'auction-outcomes', reserve, now: () => 3 });
  const out = await p.process({ topic: 'bids', partition: 0, offset: '0', key: 'r1', value: s, timestampMs: 0 }, undefined);
  assert.equal(out.length, 1);
  assert.equal(out[0]?.key, 'r1');
  return { outcome: out[0]?.value as AuctionOutcome, calls };
}

test('auction-processor clears at the second price plus 0.01 and reserves the cost per impression', async () => {
  const { outcome, calls } = await run(set([bid('a', 3_000_000), bid('b', 2_000_000)]));
  assert.equal(outcome.wins.length, 1);
  assert.equal(outcome.wins[0]?.campaignId, 'a');
  assert.equal(outcome.wins[0]?.clearingPriceMicros, 2_010_000);
  assert.equal(outcome.wins[0]?.costMicros, 2_010);
  assert.equal(outcome.wins[0]?.landingUrl, 'https://brand.example.com');
  assert.deepEqual(calls, [['a', 2_010]]);
  assert.equal(outcome.noBidReason, null);
  assert.equal(outcome.bids.length, 2);
});

test('auction-processor falls to the next bidder when the reservation is refused', async () => {
  const { outcome, calls } = await run(set([bid('a', 3_000_000), bid('b', 2_000_000), bid('c', 1_000_000)]), { a: 'daily_budget' });
  assert.equal(outcome.wins[0]?.campaignId, 'b');
  assert.equal(outcome.wins[0]?.clearingPriceMicros, 1_010_000);
  assert.deepEqual(calls.map((c) => c[0]), ['a', 'b']);
});

test('auction-processor pays its own bid at first price (at=1)', async () => {
  const { outcome } = await run(set([bid('a', 3_000_000), bid('b', 2_000_000)], { at: 1 }));
  assert.equal(outcome.wins[0]?.clearingPriceMicros, 3_000_000);
  assert.equal(outcome.at, 1);
});

test('auction-processor reports budget exhaustion and the nbr when every reservation is refused', async () => {
  const { outcome } = await run(set([bid('a', 3_000_000)]), { a: 'lifetime_budget' });
  assert.deepEqual(outcome.wins, []);
  assert.equal(outcome.noBidReason, 'budget_exhausted');
  assert.equal(typeof outcome.nbr, 'number');
});

test('auction-processor passes the bidder reason on when there were no bids', async () => {
  const { outcome, calls } = await run(set([], { noBidReason: 'frequency_capped' }));
  assert.equal(outcome.noBidReason, 'frequency_capped');
  assert.equal(outcome.nbr, 9);
  assert.deepEqual(calls, []);
});

test('auction-processor runs one auction per impression', async () => {
  const s = set([bid('a', 3_000_000, '1'), bid('b', 2_000_000, '2')], { imps: [{ impId: '1', floorMicros: 0 }, { impId: '2', floorMicros: 0 }] });
  const { outcome } = await run(s);
  assert.deepEqual(outcome.wins.map((w) => [w.impId, w.campaignId]), [['1', 'a'], ['2', 'b']]);
});

test('auction-processor reserves by the exchange-scoped request key and carries the exchange to the outcome', async () => {
  const keys: string[] = [];
  const reserve: Reserve = async (_b, requestId) => {
    keys.push(requestId);
    return 'ok';
  };
  const p = auctionProcessor({ input: 'bids', output: 'auction-outcomes', reserve, now: () => 3 });
  const outcomes: AuctionOutcome[] = [];
  for (const exchange of ['exa', 'exb']) {
    const out = await p.process({ topic: 'bids', partition: 0, offset: '0', key: 'r1', value: set([bid('a', 3_000_000)], { exchange }), timestampMs: 0 }, undefined);
    outcomes.push(out[0]?.value as AuctionOutcome);
  }
  assert.deepEqual(keys, ['exa:r1', 'exb:r1'], 'the same request id from two exchanges is two reservations');
  assert.deepEqual(outcomes.map((o) => [o.exchange, o.requestId]), [['exa', 'r1'], ['exb', 'r1']]);
});

test('auction-processor: test traffic runs the auction but reserves nothing, and the outcome stays test', async () => {
  const { outcome, calls } = await run(set([bid('a', 3_000_000), bid('b', 2_000_000)], { test: true }));
  assert.deepEqual(calls, [], 'no reservation for a test request');
  assert.equal(outcome.test, true);
  assert.equal(outcome.wins[0]?.campaignId, 'a');
  assert.equal(outcome.wins[0]?.clearingPriceMicros, 2_010_000);
});

test('auction-processor judges a deal bid against its deal floor and copies deal, format, privacy and currency to the outcome', async () => {
  const deal = { ...bid('d', 2_600_000), dealId: 'deal-1', floorMicros: 2_500_000, mtype: 2, cat: ['IAB2'], cattax: 1, vastXml: '', vastTagUrl: 'https://ads.example.com/v.xml', durationSec: 15 };
  const under = { ...bid('u', 2_400_000), dealId: 'deal-1', floorMicros: 2_500_000 };
  const { outcome, calls } = await run(set([deal, under, bid('o', 1_000_000)], { privacyBasis: 'consent', currency: 'EUR', fxRatePpm: 920_000 }));
  const w = outcome.wins[0]!;
  assert.equal(w.campaignId, 'd');
  // second price: the next bid above its own floor is the open 1.00 (the 2.40 deal bid is under its deal floor): max(2.50 floor, 1.01)
  assert.equal(w.clearingPriceMicros, 2_500_000);
  assert.deepEqual(calls, [['d', 2_500]]);
  assert.deepEqual([w.dealId, w.mtype, w.cat, w.cattax, w.vastTagUrl, w.durationSec], ['deal-1', 2, ['IAB2'], 1, 'https://ads.example.com/v.xml', 15]);
  assert.deepEqual(outcome.bids.map((b) => b.dealId), ['deal-1', 'deal-1', '']);
  assert.deepEqual([outcome.privacyBasis, outcome.currency, outcome.fxRatePpm], ['consent', 'EUR', 920_000]);
});

test('auction-processor: a deal floor under the imp floor lets the deal bid win where an open bid could not', async () => {
  const deal = { ...bid('d', 400_000), dealId: 'cheap-deal', floorMicros: 300_000 };
  const { outcome } = await run(set([deal, bid('o', 450_000)]));
  assert.equal(outcome.wins[0]?.campaignId, 'd', 'the open 0.45 is under the 0.50 imp floor');
  assert.equal(outcome.wins[0]?.clearingPriceMicros, 300_000);
});
