/**
 * The ingest edge against the real stack: every error answer, the Kafka round trip, and behaviour
 * while the broker is unreachable (Kafka is frozen with SIGSTOP, then resumed).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { spawnEdge, type EdgeProcess } from '../processors/testing/spawn-edge.js';
import { parseOpenRtb } from './openrtb.js';
import { loadConfig, commonSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka } from '../processors/runtime/kafka.js';
import { readTopic } from '../processors/runtime/read-topic.js';
import { AvroCodec } from '../schemas/codec.js';
import type { BidRequest } from '../schemas/bid-request.js';

const cfg = loadConfig(commonSpecs);
const topic = `bid-requests-test-${randomUUID()}`;
let edge: EdgeProcess;

before(async () => {
  edge = await spawnEdge({ INGEST_TOPIC: topic, TOPIC_PARTITIONS: '3' });
});
after(async () => {
  await edge.stop();
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'edge-test-cleanup', log: createLogger('test', 'silent') });
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

const ortb = (over: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.75 }],
  site: { domain: 'example.com', cat: ['IAB1'] },
  device: { ip: '192.0.2.1', devicetype: 2, geo: { country: 'USA' } },
  user: { id: `user-${randomUUID()}` },
  tmax: 150,
  ...over,
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}, url = edge.url) {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

test('edge answers 400 naming the field for invalid OpenRTB requests', async () => {
  const cases: Array<[unknown, string]> = [
    [{ ...ortb(), id: undefined }, 'id'],
    [ortb({ imp: [] }), 'imp'],
    [ortb({ imp: [{ id: '1', bidfloor: -1 }] }), 'imp[0].bidfloor'],
    [ortb({ tmax: 'soon' }), 'tmax'],
    [ortb({ app: { bundle: 'com.example' } }), 'site'],
  ];
  for (const [body, field] of cases) {
    const r = await post('/openrtb2/bid', body);
    assert.equal(r.status, 400, `status for ${field}`);
    assert.equal(r.json?.field, field);
    assert.equal(typeof r.json?.message, 'string');
  }
  const bad = await post('/openrtb2/bid', '{"id": "x", "imp": [');
  assert.equal(bad.status, 400);
  assert.equal(bad.json?.error, 'invalid_json');
  const version = await post('/openrtb2/bid', ortb(), { 'x-openrtb-version': '3.0' });
  assert.equal(version.status, 400);
  assert.equal(version.json?.field, 'x-openrtb-version');
});

test('edge answers 400 for an invalid simple request', async () => {
  const r = await post('/bid', { request_id: 'r', user_id: 'u', site: { domain: 'x.com' }, device: {} });
  assert.equal(r.status, 400);
  assert.equal(r.json?.field, 'device.ip');
});

test('edge answers 413 over the size limit, declared, streamed or inflated', async () => {
  const big = JSON.stringify(ortb({ pad: 'x'.repeat(70 * 1024) }));
  assert.equal((await post('/openrtb2/bid', big)).status, 413);
  const chunks = [Buffer.from(big.slice(0, 40_000)), Buffer.from(big.slice(40_000))];
  const stream = new ReadableStream({ pull(c) { const n = chunks.shift(); if (n) c.enqueue(n); else c.close(); } });
  const res = await fetch(`${edge.url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
  assert.equal(res.status, 413, 'chunked body without content-length');
  const bomb = gzipSync(Buffer.from(big));
  assert.ok(bomb.length < 64 * 1024);
  assert.equal((await post('/openrtb2/bid', bomb, { 'content-encoding': 'gzip' })).status, 413);
});

test('edge answers 415, 404 and 405 as usual', async () => {
  const r415 = await post('/openrtb2/bid', 'x', { 'content-type': 'text/plain' });
  assert.equal(r415.status, 415);
  assert.equal(r415.json?.error, 'unsupported_media_type');
  assert.equal(r415.headers.get('content-type'), 'application/json', 'error bodies are declared JSON');
  assert.equal((await fetch(`${edge.url}/nowhere`)).status, 404);
  const r405 = await fetch(`${edge.url}/openrtb2/bid`);
  assert.equal(r405.status, 405);
  assert.equal(r405.headers.get('allow'), 'POST');
  assert.equal(r405.headers.get('content-type'), 'application/json', 'extra headers come with the JSON content type');
  assert.equal((await fetch(`${edge.url}/health`)).status, 200);
});

test('edge writes an accepted OpenRTB request to Kafka, keyed by user, decoding to the same content', async () => {
  const body = ortb({ ext: { custom: true } });
  const r = await post('/openrtb2/bid', gzipSync(JSON.stringify(body)), { 'content-encoding': 'gzip', 'x-openrtb-version': '2.6' });
  assert.equal(r.status, 202);
  assert.equal(r.json?.id, body.id);
  const simple = { request_id: randomUUID(), user_id: 'simple-user', site: { domain: 'example.org' }, device: { ip: '198.51.100.7', type: 'tablet' }, floor: 0.2, size: '728x90' };
  assert.equal((await post('/bid', simple)).status, 202);

  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'edge-test', log: createLogger('test', 'silent') });
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const records = await readTopic(kafka, topic, { timeoutMs: 20_000 });
  const decoded = await Promise.all(records.map(async (rec) => ({ key: rec.key?.toString(), value: await codec.decode<BidRequest>(rec.value as Buffer) })));
  const mine = decoded.find((d) => d.value.id === body.id);
  assert.ok(mine, 'the accepted request is in the topic');
  assert.equal(mine.key, body.user.id);
  const expected = parseOpenRtb(body, { receivedAtMs: mine.value.receivedAtMs, ingestNodeId: mine.value.ingestNodeId, openrtbVersion: '2.6' });
  // The edge adds the exchange that sent it (`dev`: this edge runs in development mode, without keys).
  assert.deepEqual(JSON.parse(JSON.stringify(mine.value)), JSON.parse(JSON.stringify({ ...expected, exchange: 'dev' })));
  assert.ok(Math.abs(mine.value.receivedAtMs - Date.now()) < 60_000, 'receivedAtMs is a UTC ms timestamp of now');
  const s = decoded.find((d) => d.value.id === simple.request_id);
  assert.equal(s?.key, 'simple-user');
  assert.equal(s?.value.sourceFormat, 'SIMPLE');
  assert.equal(s?.value.imp[0]?.bidfloorMicros, 200_000);
});

test('edge enforces the API key (401) and the per-exchange rate limit (429); the deprecated INGEST_API_KEY is exchange "default"', async () => {
  // Exchanges proper (several, key hashes, per-IP failure bound, collisions): exchanges.int.test.ts.
  const guarded = await spawnEdge({ INGEST_TOPIC: topic, INGEST_API_KEY: 'secret', INGEST_RATE_LIMIT_RPS: '1', INGEST_RATE_LIMIT_BURST: '2', RTB_DEV_MODE: '0' });
  try {
    const none = await post('/openrtb2/bid', ortb(), {}, guarded.url);
    assert.equal(none.status, 401);
    assert.equal(none.json?.error, 'unauthorized');
    assert.equal((await post('/openrtb2/bid', ortb(), { 'x-api-key': 'wrong' }, guarded.url)).status, 401);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post('/openrtb2/bid', ortb(), { 'x-api-key': 'secret' }, guarded.url)).status);
    assert.deepEqual(statuses.slice(0, 2), [202, 202]);
    assert.ok(statuses.slice(2).includes(429), `burst of 2 then limited: ${statuses.join(',')}`);
    const limited = await post('/openrtb2/bid', ortb(), { 'x-api-key': 'secret' }, guarded.url);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  } finally {
    await guarded.stop();
  }
});

test('edge answers 503 with Retry-After while Kafka is unreachable, is not ready meanwhile, and recovers', async () => {
  const kafkaPid = Number(readFileSync(new URL('../.stack/kafka/kafka.pid', import.meta.url), 'utf8'));
  const fragile = await spawnEdge({ INGEST_TOPIC: topic, INGEST_DELIVERY_TIMEOUT_MS: '1500', INGEST_MAX_INFLIGHT: '1', INGEST_READY_STALL_MS: '300' });
  try {
    assert.equal((await fetch(`${fragile.url}/ready`)).status, 200, 'ready before');
    process.kill(kafkaPid, 'SIGSTOP');
    try {
      const first = post('/openrtb2/bid', ortb(), {}, fragile.url);
      await new Promise((r) => setTimeout(r, 200));
      const queueFull = await post('/openrtb2/bid', ortb(), {}, fragile.url);
      assert.equal(queueFull.status, 503, 'queue bound reached answers at once');
      assert.equal(queueFull.headers.get('retry-after'), '1');
      // Well before the 2 s metadata probe could notice: a request has waited 500 ms with no delivery.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await fetch(`${fragile.url}/ready`)).status, 503, 'not ready while deliveries are stalled');
      const timedOut = await first;
      assert.equal(timedOut.status, 503, 'undeliverable request is not acknowledged');
      assert.equal(timedOut.json?.error, 'unavailable');
    } finally {
      process.kill(kafkaPid, 'SIGCONT');
    }
    let status = 0;
    for (let i = 0; i < 60 && status !== 202; i++) {
      status = (await post('/openrtb2/bid', ortb(), {}, fragile.url)).status;
      if (status !== 202) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 202, 'accepts again once Kafka is back');
    let ready = 0;
    // The 2 s metadata probe may have failed during the freeze: its next round marks Kafka reachable again.
    for (let i = 0; i < 40 && ready !== 200; i++) {
      ready = (await fetch(`${fragile.url}/ready`)).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(ready, 200, 'ready again once deliveries settle');
  } finally {
    await fragile.stop();
  }
});

test('edge in synchronous mode answers 204 no-bid just before tmax when no outcome arrives, and still writes the request', async () => {
  const outcomes = `auction-outcomes-test-${randomUUID()}`;
  const sync = await spawnEdge({ INGEST_TOPIC: topic, INGEST_OPENRTB_MODE: 'sync', INGEST_OUTCOMES_TOPIC: outcomes, INGEST_TMAX_MARGIN_MS: '20' });
  try {
    const started = Date.now();
    const res = await fetch(`${sync.url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ortb({ tmax: 120 })) });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.ok(elapsed >= 80 && elapsed < 1000, `answered after ${elapsed} ms for tmax 120 - margin 20`);
    const simple = await post('/bid', { request_id: randomUUID(), user_id: 'u', site: { domain: 'x.com' }, device: { ip: '1.2.3.4' } }, {}, sync.url);
    assert.equal(simple.status, 202, 'the simple format stays asynchronous');
  } finally {
    await sync.stop();
    const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'edge-test-cleanup', log: createLogger('test', 'silent') });
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [outcomes] }).catch(() => undefined);
    await admin.disconnect();
  }
});
