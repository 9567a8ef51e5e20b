/** The notice routes in-process with an injected publisher: answers, methods, metrics, and Kafka failures (no servers needed). */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { PipelineError } from '../schemas/errors.js';
import { createLogger } from '../processors/runtime/logger.js';
import type { LossNotice, TrackingEvent } from '../schemas/tracking-event.js';
import { loadIngestConfig } from './config.js';
import { createEdgeMetrics } from './metrics.js';
import { startEdge, type Edge } from './server.js';
import { BROWSER_NOTICES, EXCHANGE_NOTICES, LOSS_NOTICES, signToken, type TrackingClaims } from './tracking-token.js';
import { Exchanges, parseExchanges } from './exchanges.js';
import { lossEventId } from './tracking-notice.js';

const env = { INGEST_HOST: '127.0.0.1', INGEST_TRACKING_SECRET: 'routes-test-key-0123456789', INGEST_TRACKING_SECRET_PREVIOUS: 'routes-old-key-9876543210' };
const cfg = { ...loadIngestConfig(env), port: 0 };
const NOW = 1_000_000;
let now = NOW;
const claims: TrackingClaims = {
  requestId: 'r-1', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22', auctionAtMs: 5, landingUrl: 'https://brand.example.com/l?x=1',
  exchange: '', dealId: '', privacyBasis: '', currency: 'USD', fxRatePpm: 1_000_000, test: false,
};
const expiresAtMs = NOW + 3_600_000;
/** What nurl/burl carry: win and bill, at most our bid price (2.5 CPM). */
const xtoken = signToken({ ...claims, landingUrl: '' }, { notices: EXCHANGE_NOTICES, maxPriceMicros: 2_500_000, expiresAtMs }, cfg.trackingSecret);
/** What the markup carries: imp, click, conv. */
const token = signToken(claims, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, cfg.trackingSecret);
/** What lurl carries: loss only, no price bound. */
const ltoken = signToken({ ...claims, landingUrl: '' }, { notices: LOSS_NOTICES, maxPriceMicros: 0, expiresAtMs }, cfg.trackingSecret);
const published: TrackingEvent[] = [];
const losses: LossNotice[] = [];
let failWith: Error | null = null;
/** Configured exchanges: one counts its win notice (nurl), one only bills (burl), one bills on its win notice. */
const exchanges = new Exchanges(parseExchanges(JSON.stringify([
  { id: 'ex-nurl', keys: ['nurl-exchange-key-0123456789'] }, { id: 'ex-burl', keys: ['burl-exchange-key-0123456789'], winNotice: 'burl' },
  { id: 'ex-bill-on-win', keys: ['bill-on-win-key-0123456789'], billOn: 'nurl' },
]), 'test'));
const registry = new Registry();
const edges: Edge[] = [];

async function start(config = cfg): Promise<string> {
  const edge = await startEdge({
    cfg: config, log: createLogger('test', 'silent'), metrics: createEdgeMetrics(config === cfg ? registry : new Registry(), () => 0), registry: config === cfg ? registry : new Registry(),
    publish: async () => undefined, isReady: () => true, now: () => now,
    publishTracking: async (e) => {
      if (failWith) throw failWith;
      published.push(e);
    },
    publishLoss: async (n) => {
      if (failWith) throw failWith;
      losses.push(n);
    },
    exchanges,
  });
  edges.push(edge);
  return `http://127.0.0.1:${edge.port}`;
}
const url = await start();
after(() => Promise.all(edges.map((e) => e.drain(1000))));

test('tracking-routes accepts a POSTed win notice with a body, and the connection stays usable', async () => {
  published.length = 0;
  const res = await fetch(`${url}/notice/win?t=${xtoken}&price=2.5`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'ignored' });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal((await fetch(`${url}/notice/bill?t=${xtoken}&price=2.5`, { method: 'POST' })).status, 204, 'POST without a body');
  assert.deepEqual(published.map((e) => [e.type, e.priceMicros, e.costMicros, e.occurredAtMs]), [['WIN', 2_500_000, 2_500, NOW], ['BILLING', 2_500_000, 2_500, NOW]]);
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
  const put = await fetch(`${url}/notice/win?t=${xtoken}&price=1`, { method: 'PUT' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, POST');
  for (const method of ['GET', 'POST', 'DELETE']) {
    const r = await fetch(`${url}/notice/nope?t=${token}`, { method });
    assert.equal(r.status, 404, method);
    assert.equal(((await r.json()) as { error: string }).error, 'not_found');
  }
});

test('tracking-routes will not redirect to a signed non-http landing URL', async () => {
  const bad = signToken({ ...claims, landingUrl: 'javascript:alert(1)' }, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, cfg.trackingSecret);
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
  await fetch(`${url}/notice/win?t=${xtoken}&price=-1`);
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of ['type="win",status="204"', 'type="win",status="400"', 'type="unknown",status="404"', 'type="imp",status="200"', 'type="click",status="302"', 'type="conv",status="503"']) {
    assert.ok(text.includes(`ingest_notices_total{${line}}`), line);
  }
});

const json = async (r: Response): Promise<Record<string, string>> => (await r.json()) as Record<string, string>;

test('tracking-routes refuses a billing price above the token\'s max price (our bid) and writes nothing', async () => {
  published.length = 0;
  const forged = await fetch(`${url}/notice/bill?t=${xtoken}&price=99999`);
  assert.equal(forged.status, 400);
  const body = await json(forged);
  assert.deepEqual([body.error, body.field], ['invalid_request', 'price']);
  assert.match(body.message!, /price must be at most 2\.5 \(the bid price/);
  assert.equal((await fetch(`${url}/notice/bill?t=${xtoken}&price=2.500001`)).status, 400, 'one micro above');
  assert.equal(published.length, 0);
  assert.equal((await fetch(`${url}/notice/bill?t=${xtoken}&price=2.5`)).status, 204, 'at the bid price');
  assert.equal((await fetch(`${url}/notice/win?t=${xtoken}&price=0`)).status, 204, 'zero');
  assert.deepEqual(published.map((e) => [e.type, e.priceMicros]), [['BILLING', 2_500_000], ['WIN', 0]]);
});

test('tracking-routes refuses a token on a notice type it does not grant: browser tokens cannot bill, exchange tokens cannot click', async () => {
  published.length = 0;
  for (const path of [`/notice/bill?t=${token}&price=0.01`, `/notice/win?t=${token}&price=0`, `/notice/click?t=${xtoken}`, `/notice/imp?t=${xtoken}`]) {
    const r = await fetch(`${url}${path}`, { redirect: 'manual' });
    assert.equal(r.status, 400, path.slice(0, 20));
    const body = await json(r);
    assert.equal(body.error, 'invalid_token');
    assert.match(body.message!, /^this token is not valid for \/notice\/(bill|win|click|imp) \(it is for /);
  }
  assert.equal(published.length, 0);
});

test('tracking-routes answers 410 for an expired token, and accepts tokens of the previous secret during a rotation', async () => {
  published.length = 0;
  now = expiresAtMs;
  try {
    const r = await fetch(`${url}/notice/bill?t=${xtoken}&price=1`);
    assert.equal(r.status, 410);
    const body = await json(r);
    assert.equal(body.error, 'token_expired');
    assert.match(body.message!, /^token expired at /);
  } finally {
    now = NOW;
  }
  const old = signToken(claims, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, cfg.trackingSecretPrevious);
  assert.equal((await fetch(`${url}/notice/imp?t=${old}`)).status, 200, 'signed with INGEST_TRACKING_SECRET_PREVIOUS');
  const other = signToken(claims, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, 'some-other-key-0123456789');
  assert.equal((await fetch(`${url}/notice/imp?t=${other}`)).status, 400);
  assert.equal(published.length, 1);
});

test('tracking-routes rate-limits notices per client IP with 429 and Retry-After, apart from bid traffic', async () => {
  const limited = await start({ ...loadIngestConfig({ ...env, INGEST_NOTICE_RATE_LIMIT_RPS: '1', INGEST_NOTICE_RATE_LIMIT_BURST: '2', INGEST_RATE_LIMIT_RPS: '1', INGEST_RATE_LIMIT_BURST: '1' }), port: 0 });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await fetch(`${limited}/notice/imp?t=${token}`)).status);
  const r = await fetch(`${limited}/notice/nope`);
  assert.deepEqual(statuses, [200, 200, 429]);
  assert.equal(r.status, 429, 'every /notice/ path takes from the bucket');
  assert.equal(r.headers.get('retry-after'), '1');
  assert.equal((await json(r)).error, 'rate_limited');
  const bid = await fetch(`${limited}/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.notEqual(bid.status, 429, 'the bid routes have their own bucket');
});

test('tracking-routes records a loss notice (GET or POST): reason and price substituted, or the literal macros', async () => {
  losses.length = 0;
  published.length = 0;
  assert.equal((await fetch(`${url}/notice/loss?t=${ltoken}&reason=102&price=3.5`)).status, 204, 'the winner\'s price may exceed our bid');
  assert.equal((await fetch(`${url}/notice/loss?t=${ltoken}&reason=\${AUCTION_LOSS}&price=\${AUCTION_PRICE}`, { method: 'POST', body: 'x' })).status, 204);
  assert.equal((await fetch(`${url}/notice/loss?t=${ltoken}`)).status, 204, 'neither parameter');
  assert.deepEqual(losses.map((n) => [n.lossReason, n.priceMicros, n.eventId]), [[102, 3_500_000, lossEventId('r-1', '1')], [-1, 0, lossEventId('r-1', '1')], [-1, 0, lossEventId('r-1', '1')]]);
  assert.equal(published.length, 0, 'nothing on tracking-events');
});

test('tracking-routes refuses a garbage loss reason naming reason, and a loss token anywhere else', async () => {
  losses.length = 0;
  for (const reason of ['abc', '-1', '1.5']) {
    const r = await fetch(`${url}/notice/loss?t=${ltoken}&reason=${reason}`);
    assert.equal(r.status, 400, reason);
    const body = await json(r);
    assert.deepEqual([body.error, body.field], ['invalid_request', 'reason']);
  }
  for (const path of [`/notice/win?t=${ltoken}&price=0`, `/notice/bill?t=${ltoken}&price=0`, `/notice/loss?t=${xtoken}&reason=1`, `/notice/loss?t=${token}&reason=1`]) {
    const r = await fetch(`${url}${path}`);
    assert.equal(r.status, 400, path.slice(0, 20));
    assert.equal((await json(r)).error, 'invalid_token');
  }
  assert.equal(losses.length, 0);
  assert.equal((await fetch(`${url}/notice/loss?t=${ltoken}`, { method: 'PUT' })).headers.get('allow'), 'GET, POST');
});

test('tracking-routes sets exchangeWin on the WIN of a nurl exchange and on the BILLING of a burl exchange', async () => {
  published.length = 0;
  for (const exchange of ['ex-nurl', 'ex-burl', 'gone']) {
    const t = signToken({ ...claims, requestId: `${exchange}:r`, exchange, landingUrl: '' }, { notices: EXCHANGE_NOTICES, maxPriceMicros: 2_500_000, expiresAtMs }, cfg.trackingSecret);
    assert.equal((await fetch(`${url}/notice/win?t=${t}&price=1`)).status, 204);
    assert.equal((await fetch(`${url}/notice/bill?t=${t}&price=1`)).status, 204);
  }
  assert.deepEqual(published.map((e) => [e.exchange, e.type, e.exchangeWin]), [
    ['ex-nurl', 'WIN', true], ['ex-nurl', 'BILLING', false], ['ex-burl', 'WIN', false], ['ex-burl', 'BILLING', true],
    ['gone', 'WIN', true], ['gone', 'BILLING', false],
  ], 'an exchange no longer configured: the default, nurl');
});

test('tracking-routes writes an exchange\'s win notice as WIN and BILLING when it bills on the win notice (billOn nurl); a later burl is the same BILLING event', async () => {
  published.length = 0;
  const t = signToken({ ...claims, requestId: 'ex-bill-on-win:r', exchange: 'ex-bill-on-win', landingUrl: '' }, { notices: EXCHANGE_NOTICES, maxPriceMicros: 2_500_000, expiresAtMs }, cfg.trackingSecret);
  assert.equal((await fetch(`${url}/notice/win?t=${t}&price=2`)).status, 204);
  assert.deepEqual(published.map((e) => [e.type, e.exchangeWin, e.priceMicros, e.costMicros]).sort(), [['BILLING', false, 2_000_000, 2_000], ['WIN', true, 2_000_000, 2_000]]);
  assert.equal((await fetch(`${url}/notice/bill?t=${t}&price=2`)).status, 204);
  const bills = published.filter((e) => e.type === 'BILLING');
  assert.equal(bills.length, 2);
  assert.equal(bills[0]!.eventId, bills[1]!.eventId, 'the burl repeats the billing the nurl made: one event id, counted once downstream');
});
