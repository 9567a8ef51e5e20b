import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { InvalidFieldError } from './fields.js';
import {
  MAX_PRICE_CPM, checkPriceBound, eventIdFor, isExchangeWin, lossEventId, lossNotice, noticeUrls, parseLossPriceMicros, parseLossReason, parsePriceMicros, redirectTarget, trackingEvent,
} from './tracking-notice.js';
import type { TrackingClaims } from './tracking-token.js';

test('tracking-notice parses a decimal CPM into integer micros, dropping digits beyond the micro', () => {
  const cases: Array<[string, number]> = [
    ['1.5', 1_500_000], ['0', 0], ['2', 2_000_000], ['0.000001', 1], ['3.1234567', 3_123_456], ['.25', 250_000], ['7.', 7_000_000],
    ['007.50', 7_500_000], ['0.1', 100_000], [String(MAX_PRICE_CPM), MAX_PRICE_CPM * 1_000_000], ['1.10', 1_100_000],
  ];
  for (const [raw, micros] of cases) assert.equal(parsePriceMicros(raw), micros, raw);
  assert.equal(parsePriceMicros(new URLSearchParams('price=1%2E5').get('price')), 1_500_000, 'URL-encoded by the exchange');
});

test('tracking-notice rejects a missing, negative, non-numeric or huge price, naming price', () => {
  const bad = [null, undefined, '', '-1', '-0.5', 'abc', '1,5', '1e3', ' 1', '1 ', '0x10', 'NaN', 'Infinity', '${AUCTION_PRICE}', '1.2.3',
    String(MAX_PRICE_CPM + 1), `${MAX_PRICE_CPM}.000001`, '9'.repeat(400), `1.${'9'.repeat(500)}0x`];
  for (const raw of bad) {
    assert.throws(() => parsePriceMicros(raw), (e) => e instanceof InvalidFieldError && e.field === 'price', String(raw));
  }
  assert.throws(() => parsePriceMicros('-1'), /price must be >= 0/);
  assert.throws(() => parsePriceMicros(null), /price is required/);
});

test('tracking-notice event ids are stable per request, imp and type and differ otherwise', () => {
  const id = eventIdFor('r1', '1', 'WIN');
  assert.equal(id, createHash('sha256').update('r1|1|WIN').digest('hex').slice(0, 32));
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(eventIdFor('r1', '1', 'WIN'), id, 'a repeated notice has the same id');
  assert.notEqual(eventIdFor('r1', '1', 'BILLING'), id);
  assert.notEqual(eventIdFor('r1', '2', 'WIN'), id);
  assert.notEqual(eventIdFor('r2', '1', 'WIN'), id);
});

const claims: TrackingClaims = {
  requestId: 'ex:r1', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22', auctionAtMs: 100, landingUrl: 'https://x.example',
  exchange: 'ex', dealId: '', privacyBasis: 'unrestricted', currency: 'USD', fxRatePpm: 1_000_000, test: false,
};

test('tracking-notice builds the TrackingEvent from the token and the price', () => {
  assert.deepEqual(trackingEvent(claims, 'WIN', 2_010_999, 500, 'edge-1', true), {
    eventId: eventIdFor('ex:r1', '1', 'WIN'), type: 'WIN', requestId: 'ex:r1', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a',
    dayKey: '2026-11-22', priceMicros: 2_010_999, costMicros: 2_010, auctionAtMs: 100, occurredAtMs: 500, ingestNodeId: 'edge-1',
    exchange: 'ex', exchangeWin: true, test: false, dealId: '', privacyBasis: 'unrestricted', currency: 'USD', reportedPriceMicros: 2_010_999,
  });
  const click = trackingEvent(claims, 'CLICK', 0, 500, 'edge-1');
  assert.deepEqual([click.priceMicros, click.costMicros, click.eventId, click.exchangeWin], [0, 0, eventIdFor('ex:r1', '1', 'CLICK'), false]);
});

test('tracking-notice converts a price reported in the answer currency back to base micros with the token\'s rate, rounding down', () => {
  // 0.92135 EUR per USD: a 2.000000 USD CPM was answered as 1.842700 EUR.
  const eur = { ...claims, currency: 'EUR', fxRatePpm: 921_350, dealId: 'd-1', test: true };
  const e = trackingEvent(eur, 'BILLING', 1_842_700, 500, 'edge-1');
  assert.deepEqual([e.reportedPriceMicros, e.currency, e.priceMicros, e.costMicros, e.dealId, e.test], [1_842_700, 'EUR', 2_000_000, 2_000, 'd-1', true]);
  assert.equal(trackingEvent(eur, 'WIN', 1_842_699, 500, 'edge-1').priceMicros, 1_999_998, 'floor(1842699 / 0.92135)');
  // A weak currency: 16,250 per USD, a 1000 USD CPM (micros x rate is far above 2^53, exact nonetheless).
  const idr = { ...claims, currency: 'IDR', fxRatePpm: 16_250_000_000 };
  assert.equal(trackingEvent(idr, 'WIN', 16_250_000_000_000, 500, 'edge-1').priceMicros, 1_000_000_000);
});

test('tracking-notice: exchangeWin is the WIN notice for nurl exchanges and the BILLING notice for burl ones', () => {
  assert.deepEqual(['WIN', 'BILLING', 'IMPRESSION'].map((t) => isExchangeWin(t as 'WIN', 'nurl')), [true, false, false]);
  assert.deepEqual(['WIN', 'BILLING', 'IMPRESSION'].map((t) => isExchangeWin(t as 'WIN', 'burl')), [false, true, false]);
});

test('tracking-notice loss reason: an integer >= 0; absent or the literal macro is -1; anything else names reason', () => {
  assert.deepEqual(['0', '102', '1000', '2147483647'].map(parseLossReason), [0, 102, 1000, 2147483647]);
  assert.deepEqual([null, undefined, '', '${AUCTION_LOSS}'].map(parseLossReason), [-1, -1, -1, -1]);
  for (const bad of ['-1', '1.5', 'abc', '2147483648', '99999999999', ' 1', '1e2', '${AUCTION_PRICE}']) {
    assert.throws(() => parseLossReason(bad), (e) => e instanceof InvalidFieldError && e.field === 'reason', bad);
  }
  assert.deepEqual([null, '', '${AUCTION_PRICE}', '3.5'].map(parseLossPriceMicros), [0, 0, 0, 3_500_000]);
  assert.throws(() => parseLossPriceMicros('x'), (e) => e instanceof InvalidFieldError && e.field === 'price');
});

test('tracking-notice builds the LossNotice: one event id per request and imp, price in base micros, in the answer currency', () => {
  const eur = { ...claims, currency: 'EUR', fxRatePpm: 921_350, dealId: 'd-1' };
  assert.deepEqual(lossNotice(eur, 102, 1_842_700, 700, 'edge-1'), {
    eventId: lossEventId('ex:r1', '1'), requestId: 'ex:r1', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22',
    exchange: 'ex', lossReason: 102, priceMicros: 2_000_000, test: false, dealId: 'd-1', privacyBasis: 'unrestricted', currency: 'EUR', auctionAtMs: 100, occurredAtMs: 700, ingestNodeId: 'edge-1',
  });
  assert.equal(lossEventId('ex:r1', '1'), createHash('sha256').update('ex:r1|1|LOSS').digest('hex').slice(0, 32));
  assert.notEqual(lossEventId('ex:r1', '2'), lossEventId('ex:r1', '1'));
  assert.ok(!['WIN', 'BILLING', 'IMPRESSION', 'CLICK', 'CONVERSION'].some((t) => eventIdFor('ex:r1', '1', t as 'WIN') === lossEventId('ex:r1', '1')));
});

test('tracking-notice builds every notice URL from the public base: the exchange token in nurl/burl only, the loss token in lurl', () => {
  assert.deepEqual(noticeUrls('http://127.0.0.1:8080/', 'EXCH', 'BROW', 'LOSS'), {
    nurl: 'http://127.0.0.1:8080/notice/win?t=EXCH&price=${AUCTION_PRICE}',
    burl: 'http://127.0.0.1:8080/notice/bill?t=EXCH&price=${AUCTION_PRICE}',
    lurl: 'http://127.0.0.1:8080/notice/loss?t=LOSS&reason=${AUCTION_LOSS}&price=${AUCTION_PRICE}',
    impression: 'http://127.0.0.1:8080/notice/imp?t=BROW',
    click: 'http://127.0.0.1:8080/notice/click?t=BROW',
    conversion: 'http://127.0.0.1:8080/notice/conv?t=BROW',
  });
});

test('tracking-notice refuses a price above the token\'s max price (our bid), naming price', () => {
  checkPriceBound(2_010_000, 2_010_000);
  checkPriceBound(0, 2_010_000);
  assert.throws(() => checkPriceBound(2_010_001, 2_010_000), (e) => e instanceof InvalidFieldError && e.field === 'price' && /price must be at most 2\.01 \(the bid price/.test(e.message));
  assert.throws(() => checkPriceBound(1, 0), (e) => e instanceof InvalidFieldError && e.field === 'price', 'a token without a price bound takes no price');
});

test('tracking-notice redirects only to http(s) landing URLs', () => {
  assert.equal(redirectTarget('https://brand.example.com/a?b=1'), 'https://brand.example.com/a?b=1');
  for (const bad of ['', 'javascript:alert(1)', 'data:text/html,x', '//evil.example.com', 'not a url']) assert.equal(redirectTarget(bad), null, bad);
});
