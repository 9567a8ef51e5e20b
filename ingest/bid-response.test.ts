import { test } from 'node:test';
import assert from 'node:assert/strict';
import { microsToDecimal, toBidResponse } from './bid-response.js';
import { verifyToken } from './tracking-token.js';
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';

const NOW = 1_700_000_000_000;
const tracking = { publicUrl: 'https://edge.example.com/', secret: 'test-key-0123456789-abcdef', tokenTtlMs: 3_600_000, nowMs: NOW };
const win = (impId: string, advertiserId: string, clearing: number): WinRecord => ({
  impId, campaignId: `c-${impId}`, advertiserId, creativeId: `cr-${impId}`, bidPriceMicros: clearing + 1, clearingPriceMicros: clearing, costMicros: Math.floor(clearing / 1000),
  adomain: ['brand.com'], w: 300, h: 250, dayKey: '2026-11-22', title: 'A "great" <deal>', imageUrl: 'https://cdn.example.com/a.png', landingUrl: 'https://brand.com/?a=1&b=2',
});
const outcome = (wins: WinRecord[]): AuctionOutcome => ({ requestId: 'r1', userId: 'u', at: 2, test: false, receivedAtMs: 1_700_000_000_123, decidedAtMs: 0, impCount: 2, bids: [], wins, noBidReason: wins.length ? null : 'no_bids', nbr: null });
const tokenOf = (url: string): string => new URL(url).searchParams.get('t') ?? '';

test('bid-response builds seatbids per advertiser with decimal prices and escaped markup', () => {
  const r = toBidResponse(outcome([win('1', 'adv-a', 2_010_000), win('2', 'adv-b', 1_234_567)]), tracking);
  assert.ok(r);
  assert.equal(r.id, 'r1');
  assert.equal(r.cur, 'USD');
  assert.deepEqual(r.seatbid.map((s) => s.seat), ['adv-a', 'adv-b']);
  const b = r.seatbid[0]!.bid[0]!;
  assert.deepEqual([b.id, b.impid, b.price, b.crid, b.cid, b.w, b.h], ['r1:1', '1', 2.01, 'cr-1', 'c-1', 300, 250]);
  assert.equal(r.seatbid[1]!.bid[0]!.price, 1.234567);
  assert.match(b.adm, /alt="A &#34;great&#34; &#60;deal&#62;"/);
  assert.match(b.adm, /<img src="https:\/\/cdn.example.com\/a.png" width="300" height="250"/);
});

test('bid-response puts win and billing notice URLs on each bid with the AUCTION_PRICE macro kept literal', () => {
  const b = toBidResponse(outcome([win('1', 'adv-a', 2_010_000)]), tracking)!.seatbid[0]!.bid[0]!;
  assert.match(b.nurl, /^https:\/\/edge\.example\.com\/notice\/win\?t=[A-Za-z0-9_-]+&price=\$\{AUCTION_PRICE\}$/);
  assert.match(b.burl, /^https:\/\/edge\.example\.com\/notice\/bill\?t=[A-Za-z0-9_-]+&price=\$\{AUCTION_PRICE\}$/);
  assert.ok(JSON.stringify(b).includes('&price=${AUCTION_PRICE}'), 'the macro survives JSON serialisation unescaped');
  const token = tokenOf(b.nurl);
  assert.equal(tokenOf(b.burl), token, 'one exchange token per win');
  const v = verifyToken(token, tracking.secret, NOW);
  assert.ok(v.ok);
  assert.deepEqual(v.claims, {
    requestId: 'r1', impId: '1', campaignId: 'c-1', creativeId: 'cr-1', advertiserId: 'adv-a', dayKey: '2026-11-22',
    auctionAtMs: 1_700_000_000_123, landingUrl: '',
  });
  assert.deepEqual(v.notices, ['win', 'bill', 'loss'], 'exchange notices only');
  assert.equal(v.maxPriceMicros, 2_010_000, 'bounded by the bid\'s price');
  assert.equal(microsToDecimal(v.maxPriceMicros), b.price);
  assert.equal(v.expiresAtMs, NOW + 3_600_000, 'expires INGEST_NOTICE_TOKEN_TTL_MS after the answer');
  assert.ok(!verifyToken(token, tracking.secret, NOW + 3_600_000).ok);
});

test('bid-response markup links through the click notice and carries the impression pixel, HTML-escaped', () => {
  const b = toBidResponse(outcome([win('1', 'adv-a', 2_010_000)]), tracking)!.seatbid[0]!.bid[0]!;
  const browser = /notice\/click\?t=([A-Za-z0-9_-]+)"/.exec(b.adm)?.[1] ?? '';
  assert.ok(b.adm.includes(`<a href="https://edge.example.com/notice/click?t=${browser}" target="_blank">`));
  assert.ok(b.adm.includes(`<img src="https://edge.example.com/notice/imp?t=${browser}" width="1" height="1"`));
  assert.ok(!b.adm.includes('brand.com/?a=1'), 'the landing URL is reached only through the click redirect');
  const odd = toBidResponse(outcome([win('1', 'adv-a', 2_010_000)]), { ...tracking, publicUrl: 'https://edge.example.com/a&"b' })!.seatbid[0]!.bid[0]!;
  assert.ok(odd.adm.includes('href="https://edge.example.com/a&#38;&#34;b/notice/click?t='), 'URLs are escaped in attributes');
});

test('bid-response markup never carries the exchange token: the browser token grants no priced notice', () => {
  const b = toBidResponse(outcome([win('1', 'adv-a', 2_010_000)]), tracking)!.seatbid[0]!.bid[0]!;
  const exchange = tokenOf(b.nurl);
  assert.ok(!b.adm.includes(exchange), 'the exchange token is not in the markup a viewer sees');
  const browser = /notice\/imp\?t=([A-Za-z0-9_-]+)"/.exec(b.adm)?.[1] ?? '';
  assert.notEqual(browser, exchange);
  const v = verifyToken(browser, tracking.secret, NOW);
  assert.ok(v.ok);
  assert.deepEqual([v.notices, v.maxPriceMicros, v.claims.landingUrl], [['imp', 'click', 'conv'], 0, 'https://brand.com/?a=1&b=2']);
});

test('bid-response is null without wins (the edge answers 204)', () => {
  assert.equal(toBidResponse(outcome([]), tracking), null);
});

test('bid-response converts micros to decimals exactly', () => {
  assert.equal(microsToDecimal(10_000), 0.01);
  assert.equal(microsToDecimal(123), 0.000123);
  assert.equal(microsToDecimal(3_000_000), 3);
});
