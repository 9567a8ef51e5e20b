/** The notice routes in-process with an injected publisher: answers, methods, metrics, and Kafka failures (no servers needed). */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { PipelineError } from '../processors/runtime/errors.js';
import { createLogger } from '../processors/runtime/logger.js';
import type { TrackingEvent } from '../schemas/tracking-event.js';
import { loadIngestConfig } from './config.js';
import { createEdgeMetrics } from './metrics.js';
import { startEdge, type Edge } from './server.js';
import { signToken, type TrackingClaims } from './tracking-token.js';

const cfg = { ...loadIngestConfig({ INGEST_HOST: '127.0.0.1', INGEST_TRACKING_SECRET: 'routes-test-secret-0123' }), port: 0 };
const claims: TrackingClaims = { requestId: 'r-1', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22', auctionAtMs: 5, landingUrl: 'https://brand.example.com/l?x=1' };
const token = signToken(claims, cfg.trackingSecret);
const published: TrackingEvent[] = [];
let failWith: Error | null = null;
const registry = new Registry();
const edges: Edge[] = [];

async function start(): Promise<string> {
  const edge = await startEdge({
    cfg, log: createLogger('test', 'silent'), metrics: createEdgeMetrics(registry, () => 0), registry,
    publish: async () => undefined, isReady: () => true, now: () => 1_000,
    publishTracking: async (e) => {
      if (failWith) throw failWith;
      published.push(e);
    },
  });
  edges.push(edge);
  return `http://127.0.0.1:${edge.port}`;
}
const url = await start();
after(() => Promise.all(edges.map((e) => e.drain(1000))));

test('tracking-routes accepts a POSTed win notice with a body, and the connection stays usable', async () => {
  published.length = 0;
  const res = await fetch(`${url}/notice/win?t=${token}&price=2.5`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ignored' });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal((await fetch(`${url}/notice/bill?t=${token}&price=2.5`, { method: 'POST' })).status, 204, 'POST without a body');
  assert.deepEqual(published.map((e) => [e.type, e.priceMicros, e.costMicros, e.occurredAtMs]), [['WIN', 2_500_000, 2_500, 1_000], ['BILLING', 2_500_000, 2_500, 1_000]]);
});

test('tracking-routes answers the impression with a 1x1 GIF and the click with a redirect', async () => {
  const imp = await fetch(`${url}/notice/imp?t=${token}`);
  assert.equal(imp.status, 200);
  assert.equal(imp.headers.get('content-type'), 'image/gif');
  assert.equal(Buffer.from(await imp.arrayBuffer()).subarray(0, 6).toString(), 'GIF89a');
  const click = await fetch(`${url}/notice/click?t=${token}`, { redirect: 'manual' });
  assert.equal(click.status, 302);
  assert.equal(click.headers.get('location'), claims.landingUrl);
});

test('tracking-routes refuses methods a notice does not take, and unknown types', async () => {
  const post = await fetch(`${url}/notice/imp?t=${token}`, { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET');
  const put = await fetch(`${url}/notice/win?t=${token}&price=1`, { method: 'PUT' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, POST');
  for (const method of ['GET', 'POST', 'DELETE']) {
    const r = await fetch(`${url}/notice/nope?t=${token}`, { method });
    assert.equal(r.status, 404, method);
    assert.equal(((await r.json()) as { error: string }).error, 'not_found');
  }
});

test('tracking-routes will not redirect to a signed non-http landing URL', async () => {
  const bad = signToken({ ...claims, landingUrl: 'javascript:alert(1)' }, cfg.trackingSecret);
  const r = await fetch(`${url}/notice/click?t=${bad}`, { redirect: 'manual' });
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { error: string }).error, 'invalid_token');
});

test('tracking-routes answers 503 with Retry-After when Kafka does not acknowledge, 500 for a non-retryable failure', async () => {
  failWith = new PipelineError('KAFKA_PRODUCE_FAILED', 'broker down');
  try {
    const r = await fetch(`${url}/notice/conv?t=${token}`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(((await r.json()) as { error: string }).error, 'unavailable');
    failWith = new PipelineError('ENCODE_FAILED', 'bad');
    assert.equal((await fetch(`${url}/notice/conv?t=${token}`)).status, 500);
  } finally {
    failWith = null;
  }
  assert.equal((await fetch(`${url}/notice/conv?t=${token}`)).status, 204, 'recovers');
});

test('tracking-routes counts notices by type and status, including unknown and malformed ones', async () => {
  await fetch(`${url}/notice/win?t=garbage&price=1`);
  await fetch(`${url}/notice/win?t=${token}&price=-1`);
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of ['type="win",status="204"', 'type="win",status="400"', 'type="unknown",status="404"', 'type="imp",status="200"', 'type="click",status="302"', 'type="conv",status="503"']) {
    assert.ok(text.includes(`ingest_notices_total{${line}}`), line);
  }
});
