/**
 * Tracking notices against the real stack: the edge verifies the token, writes the TrackingEvent to
 * its own topic (Avro under the registry), and answers; repeats, redirects and every error answer.
 * Issue 11: forged billing prices above our bid, browser tokens on exchange notices, expired tokens and
 * notice floods are refused; the secret comes from a file, a rotated-out secret still verifies, and the
 * edge refuses to start without a secret of its own.
 * Issue 10: the answer's own notice URLs (bid-response.ts) called on the real edge: a win notice whose
 * ${AUCTION_PRICE} is in the EUR answer currency lands in base (USD) micros; a loss notice lands on its
 * topic; exchangeWin follows each exchange's winNotice.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnEdge, type EdgeProcess } from '../processors/testing/spawn-edge.js';
import { loadConfig, commonSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka } from '../processors/runtime/kafka.js';
import { readTopic } from '../processors/runtime/read-topic.js';
import { AvroCodec } from '../schemas/codec.js';
import type { LossNotice, TrackingEvent } from '../schemas/tracking-event.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import { toBidResponse } from './bid-response.js';
import { BROWSER_NOTICES, EXCHANGE_NOTICES, signToken, type TrackingClaims } from './tracking-token.js';
import { eventIdFor, lossEventId, trackingEvent } from './tracking-notice.js';

const cfg = loadConfig(commonSpecs);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'tracking-test', log: createLogger('test', 'silent') });
const run = randomUUID();
const topic = `bid-requests-test-${run}`;
const trackingTopic = `tracking-events-test-${run}`;
const lossTopic = `loss-notices-test-${run}`;
const secret = randomBytes(32).toString('base64');
const previous = randomBytes(32).toString('base64');
/** Outside RTB_DEV_MODE the edge also needs an exchange configured (ingest/exchanges.ts). */
const exchangeKey = randomBytes(24).toString('base64url');
const billKey = randomBytes(24).toString('base64url');
/** Two exchanges: `tracking-t` counts its win notice (nurl, the default) as the win, `tracking-b` only bills (burl). */
const INGEST_EXCHANGES = JSON.stringify([
  { id: 'tracking-t', keyHashes: [createHash('sha256').update(exchangeKey).digest('hex')] },
  { id: 'tracking-b', keyHashes: [createHash('sha256').update(billKey).digest('hex')], winNotice: 'burl' },
]);
let dir: string;
let edge: EdgeProcess;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracking-int-'));
  await writeFile(join(dir, 'tracking-secret'), `${secret}\n`, { mode: 0o600 });
  // The secret from a file (INGEST_TRACKING_SECRET_FILE), as docker-compose and Kubernetes mount it; the previous one during a rotation.
  edge = await spawnEdge({
    INGEST_TOPIC: topic, INGEST_TRACKING_TOPIC: trackingTopic, INGEST_LOSS_TOPIC: lossTopic, INGEST_TRACKING_SECRET: '', INGEST_TRACKING_SECRET_FILE: join(dir, 'tracking-secret'),
    INGEST_TRACKING_SECRET_PREVIOUS: previous, TOPIC_PARTITIONS: '3', INGEST_NODE_ID: 'edge-t', RTB_DEV_MODE: '0', INGEST_EXCHANGES,
  });
});
after(async () => {
  await edge.stop();
  await rm(dir, { recursive: true, force: true });
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, trackingTopic, lossTopic] }).catch(() => undefined);
  await admin.disconnect();
});

const claimsFor = (requestId: string): TrackingClaims => ({
  requestId, impId: '1', campaignId: 'cmp-t', creativeId: 'cr-t', advertiserId: 'adv-t', dayKey: '2026-11-22',
  auctionAtMs: 1_764_000_000_000, landingUrl: `https://brand.example.com/landing?r=${requestId}&utm=x`,
  exchange: '', dealId: '', privacyBasis: '', currency: 'USD', fxRatePpm: 1_000_000, test: false,
});
const DAY = 86_400_000;
/** The two tokens of one win, as bid-response.ts makes them: our bid (the max price) 2.5 CPM unless given. */
const tokensFor = (claims: TrackingClaims, maxPriceMicros = 2_500_000, expiresAtMs = Date.now() + 7 * DAY, key = secret) => ({
  exchange: signToken({ ...claims, landingUrl: '' }, { notices: EXCHANGE_NOTICES, maxPriceMicros, expiresAtMs }, key),
  browser: signToken(claims, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, key),
});
const get = (path: string, base = edge.url) => fetch(`${base}${path}`, { redirect: 'manual' });
async function trackingRecords(): Promise<Array<{ key: string | undefined; value: TrackingEvent }>> {
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const records = await readTopic(kafka, trackingTopic, { timeoutMs: 20_000 });
  return Promise.all(records.map(async (r) => ({ key: r.key?.toString(), value: await codec.decode<TrackingEvent>(r.value as Buffer) })));
}
const errorOf = async (r: Response): Promise<{ error: string; message: string; field?: string }> => (await r.json()) as { error: string; message: string; field?: string };

test('tracking: each notice type with a valid token writes its TrackingEvent, keyed by request id', async () => {
  const claims = claimsFor(`req-${randomUUID()}`);
  const t = tokensFor(claims);
  const answers = {
    WIN: await get(`/notice/win?t=${t.exchange}&price=2.015`),
    BILLING: await fetch(`${edge.url}/notice/bill?t=${t.exchange}&price=2%2E015`, { method: 'POST', body: '' }),
    IMPRESSION: await get(`/notice/imp?t=${t.browser}`),
    CLICK: await get(`/notice/click?t=${t.browser}`),
    CONVERSION: await get(`/notice/conv?t=${t.browser}`),
  };
  assert.deepEqual(Object.values(answers).map((r) => r.status), [204, 204, 200, 302, 204]);
  assert.equal(answers.IMPRESSION.headers.get('content-type'), 'image/gif');
  assert.equal(answers.CLICK.headers.get('location'), claims.landingUrl, 'click redirects to the signed landing URL');

  const mine = (await trackingRecords()).filter((r) => r.value.requestId === claims.requestId);
  assert.equal(mine.length, 5);
  for (const r of mine) {
    assert.equal(r.key, claims.requestId);
    const price = r.value.type === 'WIN' || r.value.type === 'BILLING' ? 2_015_000 : 0;
    const fromToken = r.value.type === 'WIN' || r.value.type === 'BILLING' ? { ...claims, landingUrl: '' } : claims;
    // No exchange in these tokens: the default win notice, nurl, makes the WIN the exchange win.
    assert.deepEqual({ ...r.value }, trackingEvent(fromToken, r.value.type, price, r.value.occurredAtMs, 'edge-t', r.value.type === 'WIN'));
    assert.ok(Math.abs(r.value.occurredAtMs - Date.now()) < 60_000, 'occurredAtMs is now');
  }
  assert.deepEqual(mine.map((r) => r.value.type).sort(), ['BILLING', 'CLICK', 'CONVERSION', 'IMPRESSION', 'WIN']);
  assert.equal(mine.find((r) => r.value.type === 'WIN')?.value.costMicros, 2_015);
});

test('tracking: a forged billing price above our bid is refused (400 naming price); the exchange\'s genuine billing is then the one recorded', async () => {
  const claims = claimsFor(`forged-${randomUUID()}`);
  const t = tokensFor(claims, 2_500_000);
  // A viewer sees only the markup: its token cannot bill at all.
  const fromMarkup = await get(`/notice/bill?t=${t.browser}&price=99999`);
  assert.equal(fromMarkup.status, 400);
  assert.deepEqual([(await errorOf(fromMarkup)).error], ['invalid_token']);
  // Whoever holds the exchange token still cannot report more than we bid.
  for (const price of ['99999', '2.500001']) {
    const forged = await get(`/notice/bill?t=${t.exchange}&price=${price}`);
    assert.equal(forged.status, 400, price);
    const body = await errorOf(forged);
    assert.deepEqual([body.error, body.field], ['invalid_request', 'price']);
    assert.match(body.message, /^price must be at most 2\.5 \(the bid price/);
  }
  // The exchange's own billing notice, after the forgeries: accepted, and the only BILLING event of this win.
  assert.equal((await fetch(`${edge.url}/notice/bill?t=${t.exchange}&price=1.75`, { method: 'POST' })).status, 204);
  const mine = (await trackingRecords()).filter((r) => r.value.requestId === claims.requestId);
  assert.deepEqual(mine.map((r) => [r.value.type, r.value.priceMicros, r.value.costMicros, r.value.eventId]), [['BILLING', 1_750_000, 1_750, eventIdFor(claims.requestId, '1', 'BILLING')]],
    'nothing forged reached tracking-events, so the aggregate sees the genuine billing as the first of its event id');
});

test('tracking: a browser token on an exchange notice, an exchange token on a browser notice, and an expired token are refused and write nothing', async () => {
  const claims = claimsFor(`types-${randomUUID()}`);
  const t = tokensFor(claims);
  for (const path of [`/notice/bill?t=${t.browser}&price=0.01`, `/notice/win?t=${t.browser}&price=1`, `/notice/click?t=${t.exchange}`, `/notice/imp?t=${t.exchange}`]) {
    const r = await get(path);
    assert.equal(r.status, 400, path.slice(0, 20));
    assert.equal(r.headers.get('location'), null);
    const body = await errorOf(r);
    assert.equal(body.error, 'invalid_token');
    assert.match(body.message, /^this token is not valid for \/notice\//);
  }
  const old = tokensFor(claims, 2_500_000, Date.now() - 1000);
  for (const path of [`/notice/bill?t=${old.exchange}&price=1`, `/notice/click?t=${old.browser}`]) {
    const r = await get(path);
    assert.equal(r.status, 410, path.slice(0, 20));
    const body = await errorOf(r);
    assert.equal(body.error, 'token_expired');
    assert.match(body.message, /^token expired at \d{4}-\d\d-\d\dT/);
  }
  assert.equal((await trackingRecords()).filter((r) => r.value.requestId === claims.requestId).length, 0);
});

test('tracking: the click redirect goes only to the landing URL its token names; tokens of the previous secret still verify', async () => {
  const claims = claimsFor(`click-${randomUUID()}`);
  const t = tokensFor(claims);
  for (const extra of ['', '&url=https://evil.example.com', '&l=https://evil.example.com&redirect=//evil.example.com']) {
    const r = await get(`/notice/click?t=${t.browser}${extra}`);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), claims.landingUrl, extra);
  }
  const rotated = tokensFor(claimsFor(`rot-${randomUUID()}`), 2_500_000, Date.now() + DAY, previous);
  assert.equal((await get(`/notice/imp?t=${rotated.browser}`)).status, 200, 'signed with INGEST_TRACKING_SECRET_PREVIOUS');
  assert.equal((await get(`/notice/win?t=${rotated.exchange}&price=1`)).status, 204);
});

test('tracking: a repeated notice is answered the same and written again with the same event id', async () => {
  const claims = claimsFor(`rep-${randomUUID()}`);
  const t = tokensFor(claims);
  assert.equal((await get(`/notice/win?t=${t.exchange}&price=1.5`)).status, 204);
  assert.equal((await get(`/notice/win?t=${t.exchange}&price=1.5`)).status, 204);
  const wins = (await trackingRecords()).filter((r) => r.value.requestId === claims.requestId);
  assert.equal(wins.length, 2, 'both notices are recorded; the aggregate removes the duplicate');
  assert.deepEqual(wins.map((r) => r.value.eventId), [eventIdFor(claims.requestId, '1', 'WIN'), eventIdFor(claims.requestId, '1', 'WIN')]);
});

test('tracking: forged, garbled or missing tokens answer 400 and write nothing', async () => {
  const claims = claimsFor(`bad-${randomUUID()}`);
  const forged = tokensFor({ ...claims, landingUrl: 'https://evil.example.com' }, 2_500_000, Date.now() + DAY, randomBytes(32).toString('base64')).browser;
  const good = Buffer.from(tokensFor(claims).browser, 'base64url');
  const evil = Buffer.from(tokensFor({ ...claims, landingUrl: 'https://evil.example.com' }).browser, 'base64url');
  const tampered = Buffer.concat([evil.subarray(0, evil.length - 16), good.subarray(good.length - 16)]).toString('base64url');
  const legacy = `${Buffer.from(JSON.stringify({ r: claims.requestId })).toString('base64url')}.${'A'.repeat(22)}`;
  for (const path of [`/notice/click?t=${forged}`, `/notice/click?t=${tampered}`, `/notice/win?t=${legacy}&price=1`, '/notice/imp?t=%00%ff', '/notice/conv', `/notice/imp?t=${'A'.repeat(9000)}`]) {
    const r = await get(path);
    assert.equal(r.status, 400, path.slice(0, 60));
    assert.equal(r.headers.get('location'), null);
    assert.equal((await errorOf(r)).error, 'invalid_token');
  }
  assert.equal((await trackingRecords()).filter((r) => r.value.requestId === claims.requestId).length, 0);
});

test('tracking: a missing, negative, non-numeric or huge price answers 400 naming price', async () => {
  const t = tokensFor(claimsFor(`price-${randomUUID()}`)).exchange;
  for (const price of ['', '-1', 'abc', '${AUCTION_PRICE}', '1e400', '99999999999']) {
    const r = await get(`/notice/win?t=${t}&price=${encodeURIComponent(price)}`);
    assert.equal(r.status, 400, price);
    const body = await errorOf(r);
    assert.deepEqual([body.error, body.field], ['invalid_request', 'price']);
  }
  assert.equal((await get(`/notice/bill?t=${t}`)).status, 400, 'no price at all');
});

test('tracking: notices are rate limited per client IP (429 with Retry-After), in a bucket apart from bid traffic', async () => {
  const limited = await spawnEdge({
    INGEST_TOPIC: topic, INGEST_TRACKING_TOPIC: trackingTopic, INGEST_LOSS_TOPIC: lossTopic, INGEST_TRACKING_SECRET: secret, TOPIC_PARTITIONS: '3', RTB_DEV_MODE: '0', INGEST_EXCHANGES,
    INGEST_NOTICE_RATE_LIMIT_RPS: '1', INGEST_NOTICE_RATE_LIMIT_BURST: '3',
  });
  try {
    const t = tokensFor(claimsFor(`flood-${randomUUID()}`)).browser;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(`/notice/imp?t=${t}`, limited.url)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    const r = await get(`/notice/imp?t=${t}`, limited.url);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal((await errorOf(r)).error, 'rate_limited');
    const bid = await fetch(`${limited.url}/bid`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': exchangeKey }, body: '{}' });
    assert.equal(bid.status, 400, 'bid traffic is not limited by the notice bucket (400: the empty body)');
    await new Promise((res) => setTimeout(res, 1100));
    assert.equal((await get(`/notice/imp?t=${t}`, limited.url)).status, 200, 'refilled after a second');
    assert.match(await (await get('/metrics', limited.url)).text(), /ingest_notices_total\{type="imp",status="429"[^}]*\} [1-9]/);
  } finally {
    await limited.stop();
  }
});

test('tracking: the edge refuses to start without a secret of its own, naming the variable and how to make one; RTB_DEV_MODE=1 warns instead', async () => {
  const base = { INGEST_TOPIC: topic, INGEST_TRACKING_TOPIC: trackingTopic, TOPIC_PARTITIONS: '3', RTB_DEV_MODE: '0', INGEST_TRACKING_SECRET_FILE: '', INGEST_EXCHANGES };
  await assert.rejects(spawnEdge({ ...base, INGEST_TRACKING_SECRET: '' }), /exited with code 1[\s\S]*INGEST_TRACKING_SECRET is not set: refusing to start; generate one with `openssl rand -base64 32`/);
  await assert.rejects(spawnEdge({ ...base, INGEST_TRACKING_SECRET: 'rtb-dev-tracking-secret-not-for-production' }), /exited with code 1[\s\S]*INGEST_TRACKING_SECRET is a published example value: refusing to start/);
  await assert.rejects(spawnEdge({ ...base, INGEST_TRACKING_SECRET: secret, INGEST_TRACKING_SECRET_FILE: join(dir, 'tracking-secret') }), /exited with code 1[\s\S]*set INGEST_TRACKING_SECRET or INGEST_TRACKING_SECRET_FILE, not both/);
  const dev = await spawnEdge({ ...base, RTB_DEV_MODE: '1', INGEST_TRACKING_SECRET: 'rtb-dev-tracking-secret-not-for-production' });
  try {
    assert.match(dev.output(), /RTB_DEV_MODE=1: INGEST_TRACKING_SECRET is a published example value; accepted in development mode only/);
  } finally {
    await dev.stop();
  }
});

async function lossRecords(): Promise<Array<{ key: string | undefined; value: LossNotice }>> {
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const records = await readTopic(kafka, lossTopic, { timeoutMs: 20_000 });
  return Promise.all(records.map(async (r) => ({ key: r.key?.toString(), value: await codec.decode<LossNotice>(r.value as Buffer) })));
}

/** An answer in EUR (0.92135 EUR per USD) to exchange `exchange`, as the edge builds it, with notice URLs on this edge. */
function eurAnswer(exchange: string, id: string) {
  const outcome: AuctionOutcome = {
    requestId: id, userId: null, at: 2, test: false, receivedAtMs: Date.now(), decidedAtMs: Date.now(), impCount: 1, bids: [], noBidReason: null, nbr: null,
    exchange, currency: 'EUR', fxRatePpm: 921_350, privacyBasis: 'unrestricted',
    wins: [{
      impId: '1', campaignId: 'cmp-eur', advertiserId: 'adv-eur', creativeId: 'cr-eur', bidPriceMicros: 2_500_000, clearingPriceMicros: 2_000_000, costMicros: 2_000,
      adomain: ['brand.example.com'], w: 300, h: 250, dayKey: '2026-11-30', title: 't', imageUrl: 'https://cdn.example.com/a.png', landingUrl: 'https://brand.example.com/',
      dealId: 'deal-eu', mtype: 1, cat: ['IAB1'], cattax: 1, vastXml: '', vastTagUrl: '', durationSec: 0,
    }],
  };
  const response = toBidResponse(outcome, { publicUrl: edge.url, secret, nowMs: Date.now() });
  assert.ok(response);
  return { bid: response.seatbid[0]!.bid[0]!, cur: response.cur, key: `${exchange}:${id}` };
}
/** What the exchange does with a notice URL: substitute the macros, then call it. */
const call = (url: string, macros: Record<string, string>) => fetch(Object.entries(macros).reduce((u, [m, v]) => u.replaceAll(`\${${m}}`, v), url), { redirect: 'manual' });

test('tracking: a win notice priced in the EUR answer currency lands in base micros; exchangeWin follows the exchange\'s winNotice', async () => {
  const nurlExchange = eurAnswer('tracking-t', `eur-${randomUUID()}`);
  const burlExchange = eurAnswer('tracking-b', `eur-${randomUUID()}`);
  assert.deepEqual([nurlExchange.cur, nurlExchange.bid.price, nurlExchange.bid.dealid], ['EUR', 1.8427, 'deal-eu'], '2.00 USD at 0.92135');
  for (const a of [nurlExchange, burlExchange]) {
    // The exchange cleared at 1.75 EUR (second price), reported the same on nurl and burl.
    assert.equal((await call(a.bid.nurl, { AUCTION_PRICE: '1.75' })).status, 204);
    assert.equal((await call(a.bid.burl, { AUCTION_PRICE: '1.75' })).status, 204);
  }
  assert.equal((await call(nurlExchange.bid.nurl, { AUCTION_PRICE: '1.842701' })).status, 400, 'above the price we answered, in EUR');
  const mine = (await trackingRecords()).filter((r) => [nurlExchange.key, burlExchange.key].includes(r.value.requestId));
  assert.deepEqual(mine.map((r) => [r.value.exchange, r.value.type, r.value.exchangeWin]).sort(), [
    ['tracking-b', 'BILLING', true], ['tracking-b', 'WIN', false], ['tracking-t', 'BILLING', false], ['tracking-t', 'WIN', true],
  ]);
  for (const r of mine) {
    // floor(1.75 EUR / 0.92135) = 1.899386 USD CPM; its cost floor(1899386 / 1000).
    assert.deepEqual([r.value.currency, r.value.reportedPriceMicros, r.value.priceMicros, r.value.costMicros, r.value.dealId, r.value.privacyBasis, r.value.test],
      ['EUR', 1_750_000, 1_899_386, 1_899, 'deal-eu', 'unrestricted', false]);
  }
});

test('tracking: a loss notice from lurl lands on loss-notices: reason and price substituted, or the macros left literal', async () => {
  const a = eurAnswer('tracking-t', `loss-${randomUUID()}`);
  const b = eurAnswer('tracking-t', `loss-${randomUUID()}`);
  assert.equal((await call(a.bid.lurl, { AUCTION_LOSS: '102', AUCTION_PRICE: '2.303375' })).status, 204);
  assert.equal((await call(b.bid.lurl, {})).status, 204, 'an exchange that substitutes nothing');
  const bad = await call(b.bid.lurl, { AUCTION_LOSS: 'lost' });
  assert.equal(bad.status, 400);
  assert.equal((await errorOf(bad)).field, 'reason');
  assert.equal((await call(a.bid.nurl.replace('/notice/win?', '/notice/loss?'), { AUCTION_PRICE: '1' })).status, 400, 'the nurl token does not grant the loss notice');
  const mine = (await lossRecords()).filter((r) => [a.key, b.key].includes(r.value.requestId));
  assert.deepEqual(mine.map((r) => [r.key, r.value.eventId, r.value.lossReason, r.value.priceMicros, r.value.exchange, r.value.campaignId, r.value.dealId]).sort(), [
    [a.key, lossEventId(a.key, '1'), 102, 2_500_000, 'tracking-t', 'cmp-eur', 'deal-eu'],
    [b.key, lossEventId(b.key, '1'), -1, 0, 'tracking-t', 'cmp-eur', 'deal-eu'],
  ].sort(), 'the winner\'s 2.303375 EUR is 2.50 USD');
  assert.equal((await trackingRecords()).filter((r) => [a.key, b.key].includes(r.value.requestId)).length, 0, 'nothing on tracking-events');
});
