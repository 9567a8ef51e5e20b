/** The campaign management API as a real process (processors/campaigns/main.ts) on the local stack. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import postgres from 'postgres';
import { loadConfig } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka } from '../runtime/kafka.js';
import { spawnService, type ServiceProcess } from '../testing/spawn-service.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { purgeAdvertisers } from './campaign-cleanup.js';
import { bearer, operatorTokenFile, type OperatorTokenFile } from './auth-fixture.js';
import { campaignsSpecs } from './config.js';

let svc: ServiceProcess;
let operator: OperatorTokenFile;
const run = randomUUID().slice(0, 8);
const advertiserId = `adv-api-${run}`;
/** Every advertiser this file creates, purged (with its campaigns, tombstoned on the topic) at the end. */
const created: string[] = [advertiserId];

before(async () => {
  operator = await operatorTokenFile();
  svc = await spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', { CAMPAIGNS_HOST: '127.0.0.1', ...operator.env });
  const r = await call('POST', '/advertisers', { id: advertiserId, name: 'API test advertiser' });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
after(async () => {
  await svc.stop();
  const cfg = loadConfig(campaignsSpecs);
  const sql = postgres(cfg.postgresUrl, { max: 1, onnotice: () => undefined });
  const producer = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'api-test-cleanup', log: createLogger('api-test', 'error') }).producer();
  await producer.connect();
  await purgeAdvertisers(sql, producer, created);
  await producer.disconnect();
  await sql.end();
  await operator.remove();
});

/** A request with the operator token (unless `headers` brings another authorization). */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${svc.url}${path}`, {
    method,
    headers: body === undefined ? { ...bearer(operator.token), ...headers } : { 'content-type': 'application/json', ...bearer(operator.token), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // /metrics is text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A valid campaign body (no id, no updatedAtMs: the API assigns them). */
function campaignBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { id: _id, updatedAtMs: _u, ...rest } = makeCampaign({
    advertiserId, creatives: [makeCreative({ id: `cr-${randomUUID()}` })], targeting: { country: ['USA'], size: ['300x250'] },
  });
  return { ...rest, ...overrides };
}

test('campaigns API creates a campaign (201) that GET returns, with id, version 1 and updatedAtMs assigned', async () => {
  const created = await call('POST', '/campaigns', campaignBody({ name: 'Created' }));
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.body.id, /^cmp-/);
  assert.equal(created.body.version, 1);
  assert.ok(Math.abs(created.body.updatedAtMs - Date.now()) < 60_000, 'updatedAtMs is the server clock');
  assert.equal(created.headers.get('location'), `/campaigns/${created.body.id}`);
  const got = await call('GET', `/campaigns/${created.body.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, created.body);
  const listed = await call('GET', `/campaigns?advertiserId=${advertiserId}`);
  assert.ok(listed.body.campaigns.some((c: { id: string }) => c.id === created.body.id));
});

test('campaigns API keeps a client-chosen id and refuses it twice (409)', async () => {
  const id = `cmp-api-${randomUUID()}`;
  assert.equal((await call('POST', '/campaigns', campaignBody({ id }))).status, 201);
  const again = await call('POST', '/campaigns', campaignBody({ id }));
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'campaign_exists');
});

test('campaigns API answers 400 invalid_campaign naming the field for each invalid campaign', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ dailyBudgetMicros: 0 }, 'dailyBudgetMicros'],
    [{ lifetimeBudgetMicros: -5 }, 'lifetimeBudgetMicros'],
    [{ bidCpmMicros: 1.5 }, 'bidCpmMicros'],
    [{ startMs: Date.UTC(2025, 5, 1), endMs: Date.UTC(2025, 0, 1) }, 'endMs'],
    [{ targeting: { planet: ['mars'] } }, 'targeting.planet'],
    [{ targeting: { country: ['Narnia'] } }, 'targeting.country[0]'],
    [{ name: '' }, 'name'],
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ creatives: [] }, 'creatives'],
    [{ creatives: [{ ...makeCreative(), id: `cr-${randomUUID()}`, imageUrl: 'ftp://x' }] }, 'creatives[0].imageUrl'],
    [{ status: 'deleted' }, 'status'],
    [{ id: 'has spaces' }, 'id'],
  ];
  for (const [overrides, field] of cases) {
    const r = await call('POST', '/campaigns', campaignBody(overrides));
    assert.equal(r.status, 400, `${field}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_campaign');
    assert.ok(r.body.errors.some((e: { field: string; message: string }) => e.field === field && e.message.length > 0), `${field} named in ${JSON.stringify(r.body.errors)}`);
  }
  const notObject = await call('POST', '/campaigns', [1, 2]);
  assert.equal(notObject.status, 400);
  assert.equal(notObject.body.errors[0].field, '');
});

test('campaigns API answers 400 naming the field for money and times the schema cannot carry (2^53-ish), and stores nothing', async () => {
  for (const [field, value] of [
    ['lifetimeBudgetMicros', 2 ** 53 - 2], ['lifetimeBudgetMicros', 2 ** 53 - 1], ['dailyBudgetMicros', 2 ** 53 - 2], ['bidCpmMicros', 2 ** 53 - 2],
    ['bidCpmMicros', 1_000_000_001], ['lifetimeBudgetMicros', 10 ** 15 + 1], ['startMs', 2 ** 53 - 2], ['endMs', 2 ** 53 - 2], ['startMs', 0],
  ] as const) {
    const id = `cmp-api-huge-${randomUUID()}`;
    const r = await call('POST', '/campaigns', campaignBody({ id, dailyBudgetMicros: 1_000_000, [field]: value }));
    assert.equal(r.status, 400, `${field}=${value}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error, 'invalid_campaign');
    assert.ok(r.body.errors.some((e: { field: string }) => e.field === field), `${field} named in ${JSON.stringify(r.body.errors)}`);
    assert.equal((await call('GET', `/campaigns/${id}`)).status, 404, 'nothing was stored');
  }
  const atCaps = await call('POST', '/campaigns', campaignBody({ bidCpmMicros: 1_000_000_000, dailyBudgetMicros: 10 ** 15, lifetimeBudgetMicros: 10 ** 15, endMs: Date.UTC(2100, 0, 1) }));
  assert.equal(atCaps.status, 201, `the caps themselves are accepted and published: ${JSON.stringify(atCaps.body)}`);
});

test('campaigns API answers 404 for an unknown advertiser, campaign or route', async () => {
  const noAdv = await call('POST', '/campaigns', campaignBody({ advertiserId: `adv-missing-${run}` }));
  assert.deepEqual([noAdv.status, noAdv.body.error], [404, 'advertiser_not_found']);
  const missing = `cmp-missing-${randomUUID()}`;
  for (const [method, path, body] of [
    ['GET', `/campaigns/${missing}`, undefined], ['PUT', `/campaigns/${missing}`, campaignBody()],
    ['POST', `/campaigns/${missing}/pause`, {}], ['POST', `/campaigns/${missing}/resume`, {}],
    ['POST', `/campaigns/${missing}/creatives`, makeCreative()],
  ] as const) {
    const r = await call(method, path, body);
    assert.deepEqual([r.status, r.body.error], [404, 'campaign_not_found'], `${method} ${path}`);
  }
  const unknown = await call('GET', '/nothing-here');
  assert.deepEqual([unknown.status, unknown.body.error], [404, 'not_found']);
});

test('campaigns API update and pause/resume change what GET returns, with increasing versions', async () => {
  const created = (await call('POST', '/campaigns', campaignBody())).body;
  const put = await call('PUT', `/campaigns/${created.id}`, campaignBody({ bidCpmMicros: 4_500_000, creatives: created.creatives, name: 'Updated' }));
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.version, 2);
  assert.ok(put.body.updatedAtMs > created.updatedAtMs);
  let got = (await call('GET', `/campaigns/${created.id}`)).body;
  assert.deepEqual([got.bidCpmMicros, got.name, got.status], [4_500_000, 'Updated', 'active']);
  const paused = await call('POST', `/campaigns/${created.id}/pause`, {});
  assert.deepEqual([paused.status, paused.body.status, paused.body.version], [200, 'paused', 3]);
  got = (await call('GET', `/campaigns/${created.id}`)).body;
  assert.equal(got.status, 'paused');
  assert.ok((await call('GET', `/campaigns?status=paused&advertiserId=${advertiserId}`)).body.campaigns.some((c: { id: string }) => c.id === created.id));
  const resumed = await call('POST', `/campaigns/${created.id}/resume`, {});
  assert.deepEqual([resumed.status, resumed.body.status, resumed.body.version], [200, 'active', 4]);
  const mismatch = await call('PUT', `/campaigns/${created.id}`, campaignBody({ id: 'another-id' }));
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.body.errors[0].field, 'id');
});

test('campaigns API adds creatives (201), names the bad field (400) and refuses a taken creative id (409)', async () => {
  const created = (await call('POST', '/campaigns', campaignBody())).body;
  const added = await call('POST', `/campaigns/${created.id}/creatives`, makeCreative({ id: `cr-${randomUUID()}`, width: 728, height: 90 }));
  assert.equal(added.status, 201, JSON.stringify(added.body));
  assert.equal(added.body.creatives.length, 2);
  assert.equal((await call('GET', `/campaigns/${created.id}`)).body.creatives[1].width, 728);
  const bad = await call('POST', `/campaigns/${created.id}/creatives`, { ...makeCreative({ id: `cr-${randomUUID()}` }), height: 0 });
  assert.deepEqual([bad.status, bad.body.error, bad.body.errors[0].field], [400, 'invalid_creative', 'height']);
  const taken = await call('POST', `/campaigns/${created.id}/creatives`, makeCreative({ id: created.creatives[0].id }));
  assert.deepEqual([taken.status, taken.body.error], [409, 'creative_exists']);
});

test('campaigns API manages advertisers: 201, listed, 400 naming the field, 409 on a taken id', async () => {
  const id = `adv-${randomUUID()}`;
  created.push(id);
  assert.equal((await call('POST', '/advertisers', { id, name: 'Another' })).status, 201);
  assert.ok((await call('GET', '/advertisers')).body.advertisers.some((a: { id: string }) => a.id === id));
  const bad = await call('POST', '/advertisers', { name: '  ' });
  assert.deepEqual([bad.status, bad.body.error, bad.body.errors[0].field], [400, 'invalid_advertiser', 'name']);
  assert.equal((await call('POST', '/advertisers', { id, name: 'Again' })).status, 409);
  const generated = await call('POST', '/advertisers', { name: 'No id given' });
  created.push(generated.body.id);
  assert.match(generated.body.id, /^adv-/);
});

test('campaigns API answers protocol errors as JSON: 413, 415, invalid JSON, 405 with Allow', async () => {
  // A declared length over the limit is refused before the body is read, and the connection closed. The
  // client waits for that answer before sending (as an Expect: 100-continue client does): a client still
  // uploading the 1 MB when the server closed got EPIPE instead of reading the 413 (once in a fresh-clone run).
  const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${svc.url}/campaigns`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(1024 * 1024 + 10), ...bearer(operator.token) },
    }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  assert.deepEqual([big.status, JSON.parse(big.body).error], [413, 'payload_too_large']);
  // Streamed without a Content-Length: the limit applies to what arrives.
  const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${svc.url}/campaigns`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...bearer(operator.token) } }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    for (let i = 0; i < 9; i++) req.write(Buffer.alloc(128 * 1024, 0x20));
    req.end();
  });
  assert.deepEqual([chunked.status, JSON.parse(chunked.body).error], [413, 'payload_too_large']);
  const text = await call('POST', '/campaigns', 'name=x', { 'content-type': 'text/plain' });
  assert.deepEqual([text.status, text.body.error], [415, 'unsupported_media_type']);
  const noType = await fetch(`${svc.url}/campaigns`, { method: 'POST', body: '{}', headers: bearer(operator.token) });
  assert.equal(noType.status, 415);
  const broken = await call('POST', '/campaigns', '{"name": ');
  assert.deepEqual([broken.status, broken.body.error], [400, 'invalid_json']);
  const del = await call('DELETE', '/campaigns');
  assert.deepEqual([del.status, del.body.error, del.headers.get('allow')], [405, 'method_not_allowed', 'GET, POST']);
  const badQuery = await call('GET', '/campaigns?status=sleeping');
  assert.equal(badQuery.status, 400);
  assert.equal((await call('GET', '/health')).status, 200);
  assert.equal((await call('GET', '/ready')).status, 200);
});

test('campaigns API exposes Prometheus metrics with its request counts', async () => {
  const m = await call('GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.body, /campaigns_api_requests_total\{.*route="\/campaigns".*status="201".*\} \d+/);
  assert.match(m.body, /campaigns_published_total\{.*result="sent".*\} \d+/);
  assert.match(m.body, /process_cpu_user_seconds_total/);
});

test('campaigns API never answers 5xx to malformed bodies and stays up', async () => {
  const deep = '['.repeat(50_000) + ']'.repeat(50_000);
  const bodies = [
    '{"name":"nul \\u0000 inside"}', '{"a\\u0000":1}', deep, `[${'0,'.repeat(400_000)}0]`, '{"bidCpmMicros":1e400}', '"just a string"', 'null', '{}',
    JSON.stringify({ ...campaignBody(), name: 'nul \u0000 inside' }), JSON.stringify({ ...campaignBody(), bidCpmMicros: 2 ** 60 }), JSON.stringify({ ...campaignBody(), targeting: { country: 'USA' } }),
    JSON.stringify({ ...campaignBody(), creatives: [null] }), JSON.stringify({ ...campaignBody(), dayparting: [{ days: [9], startMinute: -1, endMinute: 2000 }] }),
    JSON.stringify({ ...campaignBody(), frequencyCap: { count: 0, per: 'week' } }), JSON.stringify({ ...campaignBody(), advertiserId: 'x'.repeat(300) }),
  ];
  for (const b of bodies) {
    for (const path of ['/campaigns', '/advertisers']) {
      const r = await call('POST', path, b);
      assert.ok(r.status >= 400 && r.status < 500, `${path} ${b.slice(0, 60)} -> ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      assert.equal(typeof r.body.error, 'string');
    }
  }
  const odd = await call('GET', '/campaigns/%E0%A4%A');
  assert.equal(odd.status, 404);
  assert.equal((await call('GET', '/health')).status, 200, 'still up');
});
