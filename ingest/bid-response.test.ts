import { test } from 'node:test';
import assert from 'node:assert/strict';
import { microsToDecimal, toBidResponse } from './bid-response.js';
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';

const win = (impId: string, advertiserId: string, clearing: number): WinRecord => ({
  impId, campaignId: `c-${impId}`, advertiserId, creativeId: `cr-${impId}`, bidPriceMicros: clearing + 1, clearingPriceMicros: clearing, costMicros: Math.floor(clearing / 1000),
  adomain: ['brand.com'], w: 300, h: 250, dayKey: '2026-11-22', title: 'A "great" <deal>', imageUrl: 'https://cdn.example.com/a.png', landingUrl: 'https://brand.com/?a=1&b=2',
});
const outcome = (wins: WinRecord[]): AuctionOutcome => ({ requestId: 'r1', userId: 'u', at: 2, test: false, receivedAtMs: 0, decidedAtMs: 0, impCount: 2, bids: [], wins, noBidReason: wins.length ? null : 'no_bids', nbr: null });

test('bid-response builds seatbids per advertiser with decimal prices and escaped markup', () => {
  const r = toBidResponse(outcome([win('1', 'adv-a', 2_010_000), win('2', 'adv-b', 1_234_567)]));
  assert.ok(r);
  assert.equal(r.id, 'r1');
  assert.equal(r.cur, 'USD');
  assert.deepEqual(r.seatbid.map((s) => s.seat), ['adv-a', 'adv-b']);
  const b = r.seatbid[0]!.bid[0]!;
  assert.deepEqual([b.id, b.impid, b.price, b.crid, b.cid, b.w, b.h], ['r1:1', '1', 2.01, 'cr-1', 'c-1', 300, 250]);
  assert.equal(r.seatbid[1]!.bid[0]!.price, 1.234567);
  assert.match(b.adm, /href="https:\/\/brand.com\/\?a=1&#38;b=2"/);
  assert.match(b.adm, /alt="A &#34;great&#34; &#60;deal&#62;"/);
});

test('bid-response is null without wins (the edge answers 204)', () => {
  assert.equal(toBidResponse(outcome([])), null);
});

test('bid-response converts micros to decimals exactly', () => {
  assert.equal(microsToDecimal(10_000), 0.01);
  assert.equal(microsToDecimal(123), 0.000123);
  assert.equal(microsToDecimal(3_000_000), 3);
});
