import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { MAX_TOKEN_CHARS, signToken, verifyToken, type TrackingClaims } from './tracking-token.js';

const secret = 'test-secret-0123456789';
const claims: TrackingClaims = {
  requestId: 'req-1', impId: '1', campaignId: 'cmp-1', creativeId: 'cr-1', advertiserId: 'adv-1', dayKey: '2026-11-22',
  auctionAtMs: 1_764_000_000_000, landingUrl: 'https://brand.example.com/landing?q=é&x=1',
};
const reason = (r: ReturnType<typeof verifyToken>): string => (r.ok ? 'ok' : r.reason);

test('tracking-token round-trips the claims through sign and verify', () => {
  const token = signToken(claims, secret);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/, 'URL- and HTML-safe, 128-bit signature');
  const v = verifyToken(token, secret);
  assert.ok(v.ok);
  assert.deepEqual(v.claims, claims);
  const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(payload), ['r', 'i', 'c', 'k', 'a', 'd', 't', 'l'], 'compact JSON');
});

test('tracking-token rejects a token signed with another secret', () => {
  assert.equal(reason(verifyToken(signToken(claims, 'another-secret-0123456789'), secret)), 'token signature does not match');
});

test('tracking-token rejects any tampering with the payload or the signature', () => {
  const token = signToken(claims, secret);
  const [payload, sig] = token.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ r: 'req-1', i: '1', c: 'cmp-1', k: 'cr-1', a: 'adv-1', d: '2026-11-22', t: 1, l: 'https://evil.example.com' })).toString('base64url');
  assert.equal(reason(verifyToken(`${forged}.${sig}`, secret)), 'token signature does not match', 'a new landing URL under the old signature');
  const flipped = payload.slice(0, 5) + (payload[5] === 'A' ? 'B' : 'A') + payload.slice(6);
  assert.equal(reason(verifyToken(`${flipped}.${sig}`, secret)), 'token signature does not match');
  const sigFlip = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
  assert.equal(reason(verifyToken(`${payload}.${sigFlip}`, secret)), 'token signature does not match');
});

test('tracking-token rejects missing, garbled and oversized tokens without throwing', () => {
  for (const t of [undefined, null, '']) assert.equal(reason(verifyToken(t, secret)), 'the t parameter is missing');
  for (const t of ['nodot', '.abc', 'abc.', 'a+b.cdefghijklmnopqrstuv', 'abc.def', `${'a'.repeat(10)}.${'b'.repeat(23)}`, 'a.b.c', '%%%.%%%']) {
    assert.equal(reason(verifyToken(t, secret)), 'token is malformed', t);
  }
  assert.equal(reason(verifyToken(`${'a'.repeat(MAX_TOKEN_CHARS)}.x`, secret)), 'token is too long');
});

test('tracking-token refuses a correctly signed payload of the wrong shape', () => {
  const signed = (json: string): string => {
    const p = Buffer.from(json).toString('base64url');
    return `${p}.${createHmac('sha256', secret).update(p).digest().subarray(0, 16).toString('base64url')}`;
  };
  assert.equal(reason(verifyToken(signed('not json'), secret)), 'token payload is not JSON');
  assert.equal(reason(verifyToken(signed('null'), secret)), 'token payload has the wrong shape');
  assert.equal(reason(verifyToken(signed('{"r":"x"}'), secret)), 'token payload has the wrong shape');
  assert.equal(reason(verifyToken(signed('{"r":"x","i":"1","c":"c","k":"k","a":"a","d":"d","t":1.5,"l":""}'), secret)), 'token payload has the wrong shape');
  assert.ok(verifyToken(signed('{"r":"x","i":"1","c":"c","k":"k","a":"a","d":"d","t":1,"l":""}'), secret).ok);
});
