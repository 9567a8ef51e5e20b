import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  BROWSER_NOTICES, EXCHANGE_NOTICES, LOSS_NOTICES, MAX_TOKEN_CHARS, NOTICE_BITS, TOKEN_VERSION, grants, signToken, verifyToken, type TokenGrant, type TrackingClaims,
} from './tracking-token.js';
import { ingestSpecs } from './config.js';
import { aggregateSpecs } from '../processors/aggregate/config.js';

const secret = 'test-key-0123456789-abcdefghij';
const NOW = 1_764_000_000_000;
const claims: TrackingClaims = {
  requestId: '5f0c9a4e-8b1d-4c55-9a0e-2f7d3c1b6a90', impId: '1', campaignId: 'cmp-0001', creativeId: 'cr-0001-1', advertiserId: 'adv-01', dayKey: '2026-11-22',
  auctionAtMs: NOW - 50, landingUrl: 'https://brand.example.com/landing?q=é&x=1',
  exchange: 'exchange-a', dealId: 'deal-7', privacyBasis: 'consent', currency: 'EUR', fxRatePpm: 921_350, test: true,
};
const exchange: TokenGrant = { notices: EXCHANGE_NOTICES, maxPriceMicros: 2_010_000, expiresAtMs: NOW + 7 * 86_400_000 };
const browser: TokenGrant = { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs: NOW + 7 * 86_400_000 };
const reason = (r: ReturnType<typeof verifyToken>): string => (r.ok ? 'ok' : r.reason);
/** Signs arbitrary payload bytes as the edge would (for payloads signToken cannot make). */
const signed = (payload: Buffer, key = secret): string =>
  Buffer.concat([payload, createHmac('sha256', key).update(payload).digest().subarray(0, 16)]).toString('base64url');

test('tracking-token round-trips the claims and the grant, URL- and HTML-safe and short', () => {
  const t = signToken(claims, browser, secret);
  assert.match(t, /^[A-Za-z0-9_-]+$/, 'base64url only: no escaping in a URL or in HTML');
  const v = verifyToken(t, secret, NOW);
  assert.ok(v.ok);
  assert.deepEqual(v.claims, claims);
  assert.deepEqual([v.notices, v.maxPriceMicros, v.expiresAtMs, v.previousSecret], [['imp', 'click', 'conv'], 0, browser.expiresAtMs, false]);
  assert.equal(Buffer.from(t, 'base64url')[0], TOKEN_VERSION, 'the first byte is the version');

  const x = signToken({ ...claims, landingUrl: '' }, exchange, secret);
  const vx = verifyToken(x, secret, NOW);
  assert.ok(vx.ok);
  assert.deepEqual([vx.notices, vx.maxPriceMicros, vx.claims.landingUrl], [['win', 'bill'], 2_010_000, '']);
  // A UUID request id, exchange, deal, basis, currency: 25 header + 104 string bytes + 16 signature = 145 bytes, 194 characters.
  assert.ok(x.length <= 200, `the exchange token is ${x.length} characters`);
  const open = verifyToken(signToken({ ...claims, dealId: '', test: false, fxRatePpm: 1_000_000, currency: 'USD' }, exchange, secret), secret, NOW);
  assert.ok(open.ok);
  assert.deepEqual([open.claims.test, open.claims.dealId, open.claims.fxRatePpm, open.claims.currency], [false, '', 1_000_000, 'USD']);
  assert.throws(() => signToken({ ...claims, fxRatePpm: 0 }, exchange, secret), RangeError, 'a rate of 0 could never convert a price back');
  assert.equal(t.length - x.length, Math.ceil((Buffer.byteLength(claims.landingUrl) * 4) / 3), 'the browser token adds only the landing URL');
});

test('tracking-token binds the notice types: a browser token grants no priced notice, an exchange token no click, a loss token only the loss', () => {
  const b = verifyToken(signToken(claims, browser, secret), secret, NOW);
  const x = verifyToken(signToken({ ...claims, landingUrl: '' }, exchange, secret), secret, NOW);
  const l = verifyToken(signToken({ ...claims, landingUrl: '' }, { ...exchange, notices: LOSS_NOTICES, maxPriceMicros: 0 }, secret), secret, NOW);
  assert.ok(b.ok && x.ok && l.ok);
  assert.deepEqual(['win', 'bill', 'loss', 'imp', 'click', 'conv'].map((n) => grants(b, n as keyof typeof NOTICE_BITS)), [false, false, false, true, true, true]);
  assert.deepEqual(['win', 'bill', 'loss', 'imp', 'click', 'conv'].map((n) => grants(x, n as keyof typeof NOTICE_BITS)), [true, true, false, false, false, false]);
  assert.deepEqual(['win', 'bill', 'loss', 'imp', 'click', 'conv'].map((n) => grants(l, n as keyof typeof NOTICE_BITS)), [false, false, true, false, false, false]);
  // Turning a browser token into a billing one means changing the type byte: the signature no longer matches.
  const raw = Buffer.from(signToken(claims, browser, secret), 'base64url');
  raw[1] = NOTICE_BITS.bill;
  assert.equal(reason(verifyToken(raw.toString('base64url'), secret, NOW)), 'token signature does not match');
});

test('tracking-token carries the max price exactly, up to the highest accepted CPM', () => {
  for (const max of [0, 1, 2_010_000, 100_000 * 1_000_000]) {
    const v = verifyToken(signToken(claims, { ...exchange, maxPriceMicros: max }, secret), secret, NOW);
    assert.ok(v.ok);
    assert.equal(v.maxPriceMicros, max);
  }
  assert.throws(() => signToken(claims, { ...exchange, maxPriceMicros: -1 }, secret), RangeError);
  assert.throws(() => signToken(claims, { ...exchange, maxPriceMicros: 1.5 }, secret), RangeError);
});

test('tracking-token expires: valid until its expiry (to the second), refused with code expired from then on', () => {
  const t = signToken(claims, { ...browser, expiresAtMs: NOW + 1_500 }, secret);
  const v = verifyToken(t, secret, NOW);
  assert.ok(v.ok);
  assert.equal(v.expiresAtMs, NOW + 2_000, 'kept to the second, rounded up');
  assert.ok(verifyToken(t, secret, NOW + 1_999).ok);
  const expired = verifyToken(t, secret, NOW + 2_000);
  assert.ok(!expired.ok);
  assert.equal(expired.code, 'expired');
  assert.match(expired.reason, /^token expired at 2025-11-24T16:00:02\.000Z/);
});

test('tracking-token rotation: signed with the current secret, verified with the current then the previous one', () => {
  const old = 'previous-key-9876543210-zyxwvut';
  const fromOld = signToken(claims, browser, old);
  assert.equal(reason(verifyToken(fromOld, secret, NOW)), 'token signature does not match', 'without the previous secret');
  const v = verifyToken(fromOld, [secret, old], NOW);
  assert.ok(v.ok);
  assert.equal(v.previousSecret, true);
  const fromNew = verifyToken(signToken(claims, browser, secret), [secret, old], NOW);
  assert.ok(fromNew.ok);
  assert.equal(fromNew.previousSecret, false);
  assert.equal(reason(verifyToken(fromOld, [secret, ''], NOW)), 'token signature does not match', 'an empty previous secret is no secret');
  assert.equal(reason(verifyToken(signToken(claims, browser, 'a-third-key-000111222333'), [secret, old], NOW)), 'token signature does not match');
});

test('tracking-token rejects any tampering with the payload or the signature', () => {
  const t = signToken(claims, exchange, secret);
  const raw = Buffer.from(t, 'base64url');
  for (let i = 1; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i]! ^= 0x01;
    assert.equal(reason(verifyToken(bad.toString('base64url'), secret, NOW)), 'token signature does not match', `byte ${i}`);
  }
  const raised = Buffer.from(signToken({ ...claims, landingUrl: '' }, { ...exchange, maxPriceMicros: 99_999_000_000 }, 'not-the-edge-key-000111222'), 'base64url');
  raised.set(raw.subarray(raw.length - 16), raised.length - 16);
  assert.equal(reason(verifyToken(raised.toString('base64url'), secret, NOW)), 'token signature does not match', 'a raised max price under the old signature');
  assert.equal(reason(verifyToken(signToken({ ...claims, landingUrl: 'https://evil.example.com' }, browser, 'another-key-0123456789'), secret, NOW)), 'token signature does not match');
});

test('tracking-token rejects missing, garbled, old-format, other-version and oversized tokens without throwing', () => {
  for (const t of [undefined, null, '']) assert.equal(reason(verifyToken(t, secret, NOW)), 'the t parameter is missing');
  const good = signToken(claims, browser, secret);
  const v1json = `${Buffer.from(JSON.stringify({ r: 'x' })).toString('base64url')}.${'A'.repeat(22)}`;
  for (const t of ['a+b', 'abc', 'a.b', '%%%', v1json, good.slice(0, 40)]) {
    assert.equal(reason(verifyToken(t, secret, NOW)), 'token is malformed', t.slice(0, 30));
  }
  // A trailing character is either a non-canonical spelling (malformed) or one more byte (the signature no
  // longer matches), depending on the token's length modulo 3: refused either way.
  for (const t of [`${good}A`, `${good}AA`, `${good}AAA`]) assert.ok(!verifyToken(t, secret, NOW).ok, 'trailing characters');
  const raw = Buffer.from(good, 'base64url');
  raw[0] = 3;
  assert.equal(reason(verifyToken(raw.toString('base64url'), secret, NOW)), 'token version 3 is not supported (this edge reads versions 1 and 2)');
  assert.equal(reason(verifyToken('A'.repeat(MAX_TOKEN_CHARS + 1), secret, NOW)), 'token is too long');
});

test('tracking-token refuses a correctly signed version 1 payload of the wrong shape', () => {
  const header = (): Buffer => {
    const h = Buffer.alloc(18);
    h[0] = 1;
    h[1] = NOTICE_BITS.imp;
    h.writeUInt32BE(Math.ceil(NOW / 1000) + 60, 2);
    return h;
  };
  const strings = (...s: string[]): Buffer => Buffer.concat(s.flatMap((x) => [Buffer.from([Buffer.byteLength(x)]), Buffer.from(x)]));
  assert.equal(reason(verifyToken(signed(Buffer.concat([header(), strings('r', 'i', 'c', 'k', 'a', 'd')])), secret, NOW)), 'token payload has the wrong shape', 'a string missing');
  assert.equal(reason(verifyToken(signed(Buffer.concat([header(), strings('r', 'i', 'c', 'k', 'a', 'd', ''), Buffer.from([0])])), secret, NOW)), 'token payload has the wrong shape', 'trailing bytes');
  assert.equal(reason(verifyToken(signed(Buffer.concat([header(), strings('r', '', 'c', 'k', 'a', 'd', '')])), secret, NOW)), 'token payload has the wrong shape', 'an empty id');
  assert.equal(reason(verifyToken(signed(Buffer.concat([header(), Buffer.from([0x7f]), strings('i', 'c', 'k', 'a', 'd', '')])), secret, NOW)), 'token payload has the wrong shape', 'a length past the end');
  assert.ok(verifyToken(signed(Buffer.concat([header(), strings('r', 'i', 'c', 'k', 'a', 'd', '')])), secret, NOW).ok);
});

test('tracking-token lifetime stays within the de-duplication horizon: an accepted repeat is always recognised', () => {
  // The aggregate remembers an event id for AGGREGATE_DEDUP_TTL_MS from its first sighting, which is after the
  // bid; a token expires INGEST_NOTICE_TOKEN_TTL_MS after the bid. A longer token life would let a repeat of a
  // billing notice arrive after its id was forgotten and be counted twice.
  assert.ok(ingestSpecs.noticeTokenTtlMs.default <= aggregateSpecs.dedupTtlMs.default);
  assert.equal(ingestSpecs.noticeTokenTtlMs.default, 7 * 86_400_000);
});

/** A version 1 token as the issue 5 edge signed it: 18-byte header, 7 strings. */
function v1Token(c: { requestId: string; landingUrl: string }, mask: number, maxPriceMicros: number, expiresAtMs: number): string {
  const h = Buffer.alloc(18);
  h[0] = 1;
  h[1] = mask;
  h.writeUInt32BE(Math.ceil(expiresAtMs / 1000), 2);
  h.writeUIntBE(NOW - 50, 6, 6);
  h.writeUIntBE(maxPriceMicros, 12, 6);
  const strings = [c.requestId, '1', 'cmp-0001', 'cr-0001-1', 'adv-01', '2026-11-22', c.landingUrl].flatMap((x) => [Buffer.from([Buffer.byteLength(x)]), Buffer.from(x)]);
  return signed(Buffer.concat([h, ...strings]));
}

test('tracking-token still verifies version 1 tokens (issued before the upgrade): USD at rate 1, not test, no deal, exchange from the request key', () => {
  const v = verifyToken(v1Token({ requestId: 'exchange-a:r%3A1', landingUrl: '' }, NOTICE_BITS.win | NOTICE_BITS.bill | NOTICE_BITS.loss, 2_010_000, NOW + 60_000), secret, NOW);
  assert.ok(v.ok, reason(v));
  assert.deepEqual(v.claims, {
    requestId: 'exchange-a:r%3A1', impId: '1', campaignId: 'cmp-0001', creativeId: 'cr-0001-1', advertiserId: 'adv-01', dayKey: '2026-11-22', auctionAtMs: NOW - 50, landingUrl: '',
    exchange: 'exchange-a', dealId: '', privacyBasis: '', currency: 'USD', fxRatePpm: 1_000_000, test: false,
  });
  assert.deepEqual([v.notices, v.maxPriceMicros], [['win', 'bill', 'loss'], 2_010_000]);
  const bare = verifyToken(v1Token({ requestId: 'r1', landingUrl: 'https://x.example' }, NOTICE_BITS.imp, 0, NOW + 60_000), secret, NOW);
  assert.ok(bare.ok);
  assert.equal(bare.claims.exchange, '', 'a bare id from before exchanges');
});

test('tracking-token refuses a version 2 payload without a currency or with a zero rate', () => {
  const t = Buffer.from(signToken(claims, exchange, secret), 'base64url');
  const payload = t.subarray(0, t.length - 16);
  const zeroRate = Buffer.from(payload);
  zeroRate.writeUIntBE(0, 18, 6);
  assert.equal(reason(verifyToken(signed(zeroRate), secret, NOW)), 'token payload has the wrong shape');
  const noCurrency = Buffer.concat([payload.subarray(0, payload.length - 4), Buffer.from([0])]);
  assert.equal(reason(verifyToken(signed(noCurrency), secret, NOW)), 'token payload has the wrong shape');
});
