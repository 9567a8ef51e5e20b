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
    auctionAtMs: 1_700_000_000_123, landingUrl: '', exchange: '', dealId: '', privacyBasis: '', currency: 'USD', fxRatePpm: 1_000_000, test: false,
  });
  assert.deepEqual(v.notices, ['win', 'bill'], 'priced exchange notices only (lurl has a token of its own)');
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

test('bid-response answers in the outcome\'s currency: prices converted with its rate, rounded down; the tokens carry currency, rate, deal, basis, test', () => {
  const o: AuctionOutcome = {
    ...outcome([{ ...win('1', 'adv-a', 2_010_000), dealId: 'deal-9', cat: ['IAB1-2'], cattax: 2 }, win('2', 'adv-b', 1_234_567)]),
    exchange: 'exa', currency: 'EUR', fxRatePpm: 921_350, privacyBasis: 'consent', test: true,
  };
  const r = toBidResponse(o, tracking)!;
  assert.equal(r.cur, 'EUR');
  const [a, b] = [r.seatbid[0]!.bid[0]!, r.seatbid[1]!.bid[0]!];
  assert.equal(a.price, 1.851913, 'floor(2010000 x 0.92135) micros = 1851913');
  assert.equal(b.price, 1.137468, 'floor(1234567 x 0.92135) = floor(1137468.3...)');
  assert.deepEqual([a.dealid, a.cat, a.cattax, a.mtype, a.crid, a.adomain], ['deal-9', ['IAB1-2'], 2, 1, 'cr-1', ['brand.com']]);
  assert.ok(!('dealid' in b) && !('cattax' in b), 'no dealid in the open auction; cattax only when not 1');
  const v = verifyToken(tokenOf(a.nurl), tracking.secret, NOW);
  assert.ok(v.ok);
  assert.equal(v.maxPriceMicros, 1_851_913, 'bounded by the price as answered, in the answer currency');
  assert.deepEqual([v.claims.currency, v.claims.fxRatePpm, v.claims.dealId, v.claims.privacyBasis, v.claims.test, v.claims.exchange, v.claims.requestId],
    ['EUR', 921_350, 'deal-9', 'consent', true, 'exa', 'exa:r1']);
});

test('bid-response carries lurl with both macros and a token granting only the loss notice', () => {
  const b = toBidResponse(outcome([win('1', 'adv-a', 2_010_000)]), tracking)!.seatbid[0]!.bid[0]!;
  assert.match(b.lurl, /^https:\/\/edge\.example\.com\/notice\/loss\?t=[A-Za-z0-9_-]+&reason=\$\{AUCTION_LOSS\}&price=\$\{AUCTION_PRICE\}$/);
  const v = verifyToken(tokenOf(b.lurl), tracking.secret, NOW);
  assert.ok(v.ok);
  assert.deepEqual([v.notices, v.maxPriceMicros, v.claims.landingUrl], [['loss'], 0, '']);
  assert.notEqual(tokenOf(b.lurl), tokenOf(b.nurl));
});

test('bid-response answers a video win with VAST carrying our impression and click notices; an untrackable one is left out', () => {
  const vastXml = '<VAST version="4.2"><Ad id="a"><InLine><AdSystem>x</AdSystem><AdTitle>t</AdTitle><Impression><![CDATA[https://theirs.example/imp]]></Impression>'
    + '<Creatives><Creative><Linear><Duration>00:00:15</Duration><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360"><![CDATA[https://cdn.example/v.mp4]]></MediaFile></MediaFiles>'
    + '<VideoClicks><ClickThrough><![CDATA[https://brand.com/]]></ClickThrough></VideoClicks></Linear></Creative></Creatives></InLine></Ad></VAST>';
  const video = { ...win('1', 'adv-a', 2_010_000), mtype: 2, vastXml, vastTagUrl: '', durationSec: 15 };
  const b = toBidResponse(outcome([video]), tracking)!.seatbid[0]!.bid[0]!;
  assert.equal(b.mtype, 2);
  const browser = /notice\/imp\?t=([A-Za-z0-9_-]+)\]/.exec(b.adm)?.[1] ?? '';
  assert.ok(browser.length > 0);
  assert.ok(b.adm.includes(`<Impression><![CDATA[https://edge.example.com/notice/imp?t=${browser}]]></Impression><Impression><![CDATA[https://theirs.example/imp]]>`));
  assert.ok(b.adm.includes(`</ClickThrough><ClickTracking><![CDATA[https://edge.example.com/notice/click?t=${browser}]]></ClickTracking></VideoClicks>`));
  assert.ok(!b.adm.includes('<a href'), 'no banner markup');
  const tag = toBidResponse(outcome([{ ...video, vastXml: '', vastTagUrl: 'https://ads.example/vast?id=1&x=2' }]), tracking)!.seatbid[0]!.bid[0]!;
  assert.match(tag.adm, /<Wrapper>.*<VASTAdTagURI><!\[CDATA\[https:\/\/ads\.example\/vast\?id=1&x=2\]\]><\/VASTAdTagURI><\/Wrapper>/);
  // Neither editable XML nor a tag URL: not answered (rather than serving an impression we cannot count).
  const broken = { ...video, impId: '2', vastXml: 'not vast at all', vastTagUrl: '' };
  const r = toBidResponse(outcome([broken, win('3', 'adv-b', 1_000_000)]), tracking)!;
  assert.deepEqual(r.seatbid.flatMap((s) => s.bid.map((x) => x.impid)), ['3']);
  assert.equal(toBidResponse(outcome([broken]), tracking), null);
});

test('bid-response does not answer an outcome whose rate is unusable', () => {
  for (const fxRatePpm of [0, -5, 1.5, Number.NaN]) assert.equal(toBidResponse({ ...outcome([win('1', 'adv-a', 2_010_000)]), currency: 'EUR', fxRatePpm }, tracking), null, String(fxRatePpm));
});
