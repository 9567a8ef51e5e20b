/**
 * Tracking notices against the real stack: the edge verifies the token, writes the TrackingEvent to
 * its own topic (Avro under the registry), and answers; repeats, redirects and every error answer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnEdge, type EdgeProcess } from './spawn-edge.js';
import { loadConfig, commonSpecs } from '../processors/runtime/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka } from '../processors/runtime/kafka.js';
import { readTopic } from '../processors/runtime/read-topic.js';
import { AvroCodec } from '../schemas/codec.js';
import type { TrackingEvent } from '../schemas/tracking-event.js';
import { signToken, type TrackingClaims } from './tracking-token.js';
import { eventIdFor, trackingEvent } from './tracking-notice.js';

const cfg = loadConfig(commonSpecs);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'tracking-test', log: createLogger('test', 'silent') });
const run = randomUUID();
const topic = `bid-requests-test-${run}`;
const trackingTopic = `tracking-events-test-${run}`;
const secret = `tracking-test-secret-${run}`;
let edge: EdgeProcess;

before(async () => {
  edge = await spawnEdge({ INGEST_TOPIC: topic, INGEST_TRACKING_TOPIC: trackingTopic, INGEST_TRACKING_SECRET: secret, TOPIC_PARTITIONS: '3', INGEST_NODE_ID: 'edge-t' });
});
after(async () => {
  await edge.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, trackingTopic] }).catch(() => undefined);
  await admin.disconnect();
});

const claimsFor = (requestId: string): TrackingClaims => ({
  requestId, impId: '1', campaignId: 'cmp-t', creativeId: 'cr-t', advertiserId: 'adv-t', dayKey: '2026-11-22',
  auctionAtMs: 1_764_000_000_000, landingUrl: `https://brand.example.com/landing?r=${requestId}&utm=x`,
});
const get = (path: string) => fetch(`${edge.url}${path}`, { redirect: 'manual' });
async function trackingRecords(): Promise<Array<{ key: string | undefined; value: TrackingEvent }>> {
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const records = await readTopic(kafka, trackingTopic, { timeoutMs: 20_000 });
  return Promise.all(records.map(async (r) => ({ key: r.key?.toString(), value: await codec.decode<TrackingEvent>(r.value as Buffer) })));
}

test('tracking: each notice type with a valid token writes its TrackingEvent, keyed by request id', async () => {
  const claims = claimsFor(`req-${randomUUID()}`);
  const t = signToken(claims, secret);
  const answers = {
    WIN: await get(`/notice/win?t=${t}&price=2.015`),
    BILLING: await fetch(`${edge.url}/notice/bill?t=${t}&price=2%2E015`, { method: 'POST', body: '' }),
    IMPRESSION: await get(`/notice/imp?t=${t}`),
    CLICK: await get(`/notice/click?t=${t}`),
    CONVERSION: await get(`/notice/conv?t=${t}`),
  };
  assert.deepEqual(Object.values(answers).map((r) => r.status), [204, 204, 200, 302, 204]);
  assert.equal(answers.IMPRESSION.headers.get('content-type'), 'image/gif');
  assert.equal(answers.CLICK.headers.get('location'), claims.landingUrl, 'click redirects to the signed landing URL');

  const mine = (await trackingRecords()).filter((r) => r.value.requestId === claims.requestId);
  assert.equal(mine.length, 5);
  for (const r of mine) {
    assert.equal(r.key, claims.requestId);
    const price = r.value.type === 'WIN' || r.value.type === 'BILLING' ? 2_015_000 : 0;
    assert.deepEqual({ ...r.value }, trackingEvent(claims, r.value.type, price, r.value.occurredAtMs, 'edge-t'));
    assert.ok(Math.abs(r.value.occurredAtMs - Date.now()) < 60_000, 'occurredAtMs is now');
  }
  assert.deepEqual(mine.map((r) => r.value.type).sort(), ['BILLING', 'CLICK', 'CONVERSION', 'IMPRESSION', 'WIN']);
  assert.equal(mine.find((r) => r.value.type === 'WIN')?.value.costMicros, 2_015);
});

test('tracking: a repeated notice is answered the same and written again with the same event id', async () => {
  const claims = claimsFor(`rep-${randomUUID()}`);
  const t = signToken(claims, secret);
  assert.equal((await get(`/notice/win?t=${t}&price=1.5`)).status, 204);
  assert.equal((await get(`/notice/win?t=${t}&price=1.5`)).status, 204);
  const wins = (await trackingRecords()).filter((r) => r.value.requestId === claims.requestId);
  assert.equal(wins.length, 2, 'both notices are recorded; the aggregate removes the duplicate');
  assert.deepEqual(wins.map((r) => r.value.eventId), [eventIdFor(claims.requestId, '1', 'WIN'), eventIdFor(claims.requestId, '1', 'WIN')]);
});

test('tracking: forged, garbled or missing tokens answer 400 and write nothing', async () => {
  const claims = claimsFor(`bad-${randomUUID()}`);
  const forged = signToken({ ...claims, landingUrl: 'https://evil.example.com' }, 'not-the-edge-secret-at-all');
  const [payload, sig] = signToken(claims, secret).split('.') as [string, string];
  const tampered = `${signToken({ ...claims, landingUrl: 'https://evil.example.com' }, secret).split('.')[0]}.${sig}`;
  for (const path of [`/notice/click?t=${forged}`, `/notice/click?t=${tampered}`, `/notice/win?t=${payload}&price=1`, '/notice/imp?t=%00%ff', '/notice/conv', `/notice/imp?t=${'A'.repeat(9000)}.x`]) {
    const r = await get(path);
    assert.equal(r.status, 400, path.slice(0, 60));
    assert.equal(r.headers.get('location'), null);
    assert.equal(((await r.json()) as { error: string }).error, 'invalid_token');
  }
  assert.equal((await trackingRecords()).filter((r) => r.value.requestId === claims.requestId).length, 0);
});

test('tracking: a missing, negative, non-numeric or huge price answers 400 naming price', async () => {
  const t = signToken(claimsFor(`price-${randomUUID()}`), secret);
  for (const price of ['', '-1', 'abc', '${AUCTION_PRICE}', '1e400', '99999999999']) {
    const r = await get(`/notice/win?t=${t}&price=${encodeURIComponent(price)}`);
    assert.equal(r.status, 400, price);
    const body = (await r.json()) as { error: string; field: string };
    assert.deepEqual([body.error, body.field], ['invalid_request', 'price']);
  }
  assert.equal((await get(`/notice/bill?t=${t}`)).status, 400, 'no price at all');
});

test('tracking: an unknown notice type answers 404, and the edge still serves', async () => {
  const t = signToken(claimsFor('x'), secret);
  const r = await get(`/notice/open?t=${t}`);
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as { error: string }).error, 'not_found');
  assert.equal((await get('/health')).status, 200);
  const metrics = await (await get('/metrics')).text();
  assert.match(metrics, /ingest_notices_total\{type="unknown",status="404"[^}]*\} [1-9]/);
  assert.match(metrics, /ingest_notices_total\{type="win",status="204"[^}]*\} [1-9]/);
});
