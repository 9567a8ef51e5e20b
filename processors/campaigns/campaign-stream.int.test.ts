/**
 * From the API to a follower of the compacted campaigns topic, on the local stack: changes arrive within
 * seconds without a restart, the newest version wins, a failed publish is repaired by the republisher,
 * and re-sending everything is harmless.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import postgres from 'postgres';
import { loadConfig } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka, type Producer } from '../runtime/kafka.js';
import { createRegistry } from '../runtime/metrics.js';
import { spawnService, type ServiceProcess } from '../testing/spawn-service.js';
import type { TableFollower } from '../runtime/table-follower.js';
import { AvroCodec } from '../../schemas/codec.js';
import { migrate } from '../../schemas/postgres/migrate.js';
import { campaignsSpecs } from './config.js';
import { CampaignStore } from './store.js';
import { CampaignPublisher } from './publisher.js';
import { createApiHandler } from './api.js';
import { createCampaignMetrics } from './metrics.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { purgeAdvertisers } from './campaign-cleanup.js';
import { bearer, operatorTokenFile, type OperatorTokenFile } from './auth-fixture.js';
import { TokenStore } from './token-store.js';
import type { Campaign } from '../domain/campaign.js';
import { waitFor } from '../testing/wait.js';
import { campaignsTopic } from '../testing/campaigns-topic.fixture.js';

const cfg = loadConfig(campaignsSpecs);
const log = createLogger('campaign-stream-test', 'error');
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'campaign-stream-test', log });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const sql = postgres(cfg.postgresUrl, { max: 4, onnotice: () => undefined });
const store = new CampaignStore(sql);
const advertiserId = `adv-stream-${randomUUID().slice(0, 8)}`;
let producer: Producer;
let follower: TableFollower<Campaign>;
let svc: ServiceProcess;
let operator: OperatorTokenFile;

before(async () => {
  operator = await operatorTokenFile();
  svc = await spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', { CAMPAIGNS_HOST: '127.0.0.1', ...operator.env });
  await migrate(sql);
  ({ producer, follower } = await campaignsTopic(kafka, codec, cfg, log));
  await store.upsertAdvertiser({ id: advertiserId, name: 'Stream test' });
});
after(async () => {
  await svc.stop();
  await purgeAdvertisers(sql, producer, [advertiserId]);
  await follower.stop();
  await producer.disconnect();
  await sql.end();
  await operator.remove();
});

async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers = { ...bearer(operator.token), ...(body ? { 'content-type': 'application/json' } : {}) };
  const res = await fetch(`${base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json() };
}

function body(overrides: Partial<Campaign> = {}): Record<string, unknown> {
  const { updatedAtMs: _u, ...rest } = makeCampaign({ id: `cmp-stream-${randomUUID()}`, advertiserId, creatives: [makeCreative({ id: `cr-${randomUUID()}` })], ...overrides });
  return rest;
}

test('campaign stream delivers a created, updated and paused campaign to a running follower within seconds', async () => {
  const created = await call(svc.url, 'POST', '/campaigns', body());
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.id;
  const waitedFrom = Date.now();
  await waitFor(() => follower.get(id) !== undefined, { what: 'the created campaign', timeoutMs: 10_000, intervalMs: 20 });
  const ms = Date.now() - waitedFrom;
  assert.ok(ms < 5000, `arrived after ${ms} ms`);
  const { version: _v, ...asCampaign } = created.body;
  assert.deepEqual(follower.get(id), asCampaign, 'the follower holds exactly what the API answered');

  const updated = await call(svc.url, 'PUT', `/campaigns/${id}`, { ...body(), id, bidCpmMicros: 6_000_000, creatives: created.body.creatives });
  assert.equal(updated.status, 200);
  await waitFor(() => follower.get(id)?.bidCpmMicros === 6_000_000, { what: 'the update', timeoutMs: 10_000, intervalMs: 20 });
  assert.equal(follower.get(id)?.updatedAtMs, updated.body.updatedAtMs);

  const paused = await call(svc.url, 'POST', `/campaigns/${id}/pause`, {});
  assert.equal(paused.status, 200);
  await waitFor(() => follower.get(id)?.status === 'paused', { what: 'the pause', timeoutMs: 10_000, intervalMs: 20 });
  assert.equal(follower.get(id)?.updatedAtMs, paused.body.updatedAtMs);
});

test('campaign stream keeps the newest version when an older one is re-sent late', async () => {
  const created = await store.createCampaign(makeCampaign({ ...body(), id: `cmp-stream-${randomUUID()}` } as unknown as Campaign));
  assert.ok(created.ok);
  const newer = await store.setStatus(created.value.id, 'paused');
  assert.ok(newer.ok);
  // A fresh publisher per send: one publisher remembers what it sent and would refuse the older version.
  const send = (c: Campaign) => new CampaignPublisher(producer, codec).publish(c);
  await send(newer.value);
  await send(created.value);
  const marker = await store.addCreative(created.value.id, makeCreative({ id: `cr-${randomUUID()}` }));
  assert.ok(marker.ok);
  await send(marker.value);
  await waitFor(() => follower.get(created.value.id)?.creatives.length === 2, { what: 'the last record', timeoutMs: 10_000, intervalMs: 20 });
  assert.equal(follower.get(created.value.id)?.status, 'paused', 'the late older (active) version did not win');
  const publisher = new CampaignPublisher(producer, codec);
  await publisher.publish(newer.value);
  assert.equal(await publisher.publish(created.value), false, 'a publisher never sends an older version after a newer one');
});

test('campaign stream: a change whose publish failed is answered 503, kept in Postgres and delivered by republishAll', async (t) => {
  const handler = createApiHandler({
    store, tokens: new TokenStore(sql), operatorToken: operator.token, log: createLogger('campaign-stream-test', 'silent'), registry: createRegistry('campaigns-test'), metrics: createCampaignMetrics(createRegistry('campaigns-test')),
    isReady: async () => true,
    publish: async () => Promise.reject(new Error('broker unreachable (simulated)')),
  });
  const server = createServer(handler).listen(0, '127.0.0.1');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const b = body();
  const r = await call(base, 'POST', '/campaigns', b);
  assert.deepEqual([r.status, r.body.error, r.body.id], [503, 'publish_failed', b['id']]);
  const saved = await store.getCampaign(b['id'] as string);
  assert.ok(saved, 'the change is committed in Postgres');
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(follower.get(saved.id), undefined, 'nothing was published');
  const result = await new CampaignPublisher(producer, codec).republishAll(store);
  assert.ok(result.sent > 0);
  await waitFor(() => follower.get(saved.id) !== undefined, { what: 'the republished campaign', timeoutMs: 10_000, intervalMs: 20 });
  assert.equal(follower.get(saved.id)?.updatedAtMs, saved.updatedAtMs);
});

test('campaign stream: republishAll is idempotent (a second run changes no campaign a follower holds)', async () => {
  const publisher = new CampaignPublisher(producer, codec);
  const first = await publisher.republishAll(store);
  const all = await store.listCampaigns();
  await waitFor(() => all.every((c) => follower.get(c.id)?.updatedAtMs === c.updatedAtMs), { what: 'the first republish', timeoutMs: 10_000, intervalMs: 20 });
  const snapshot = new Map([...follower.entries()].map(([k, v]) => [k, JSON.stringify(v)]));
  const second = await publisher.republishAll(store);
  assert.equal(second.sent, first.sent, 'the same campaigns are re-sent');
  // A marker written after the second republish proves the follower has read past all of it.
  const marker = await store.createCampaign(makeCampaign({ ...body(), id: `cmp-stream-${randomUUID()}` } as unknown as Campaign));
  assert.ok(marker.ok);
  await publisher.publish(marker.value);
  await waitFor(() => follower.get(marker.value.id) !== undefined, { what: 'the marker', timeoutMs: 10_000, intervalMs: 20 });
  for (const c of all) {
    assert.equal(JSON.stringify(follower.get(c.id)), snapshot.get(c.id), `campaign ${c.id} unchanged`);
    assert.equal(follower.get(c.id)?.updatedAtMs, c.updatedAtMs, `campaign ${c.id} matches Postgres`);
  }
});

test('campaign stream: tombstones (the test clean-up) remove campaigns from a running follower', async () => {
  const held = [...follower.entries()].filter(([, c]) => c.advertiserId === advertiserId).map(([id]) => id);
  assert.ok(held.length >= 4, `the follower holds this file's campaigns (${held.length})`);
  const purged = await purgeAdvertisers(sql, producer, [advertiserId]);
  assert.deepEqual([...purged].sort(), [...held].sort());
  await waitFor(() => purged.every((id) => follower.get(id) === undefined), { what: 'the tombstones', timeoutMs: 10_000, intervalMs: 20 });
  assert.equal(await store.getCampaign(purged[0]!), null);
});
