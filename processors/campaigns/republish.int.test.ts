/**
 * The republisher against a campaign row the Avro schema cannot carry (written straight into Postgres,
 * around the API's validation): it is skipped, counted and logged by id and reason, the campaigns after
 * it are still published, and the service still starts. Each test has its own Postgres schema; records go
 * to the shared campaigns topic and are tombstoned at the end.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka, type Producer } from '../runtime/kafka.js';
import { spawnService } from '../testing/spawn-service.js';
import type { TableFollower } from '../runtime/table-follower.js';
import { AvroCodec } from '../../schemas/codec.js';
import { freshSchema, type FreshSchema } from '../runtime/fresh-schema.js';
import { campaignsSpecs } from './config.js';
import { CampaignStore } from './store.js';
import { CampaignPublisher, type PublishResult } from './publisher.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { purgeAdvertisers } from './campaign-cleanup.js';
import { bearer, operatorTokenFile } from './auth-fixture.js';
import type { Campaign } from '../domain/campaign.js';
import { waitFor } from '../testing/wait.js';
import { campaignsTopic } from '../testing/campaigns-topic.fixture.js';

const cfg = loadConfig(campaignsSpecs);
const log = createLogger('republish-test', 'error');
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'republish-test', log });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
let producer: Producer;
let follower: TableFollower<Campaign>;

before(async () => {
  ({ producer, follower } = await campaignsTopic(kafka, codec, cfg, log));
});
after(async () => {
  await follower.stop();
  await producer.disconnect();
});

/**
 * A schema with an advertiser, one good campaign before the bad row, the bad row (a lifetime budget of
 * 2^53 - 1: a bigint Postgres keeps and a safe JS integer, but beyond what avsc writes as an Avro long),
 * and good ones after it, in id order (the republisher's order).
 */
async function catalogueWithBadRow(t: { after: (fn: () => Promise<void>) => void }): Promise<{ db: FreshSchema; store: CampaignStore; adv: string; bad: string; good: string[] }> {
  const db = await freshSchema(t, 'republish');
  const store = new CampaignStore(db.sql);
  const run = randomUUID().slice(0, 8);
  const adv = `adv-republish-${run}`;
  await store.upsertAdvertiser({ id: adv, name: 'Republish test' });
  const id = (n: number): string => `cmp-republish-${run}-${n}`;
  const good = [id(1), id(3), id(4)];
  for (const g of good) {
    const r = await store.createCampaign(makeCampaign({ id: g, advertiserId: adv, creatives: [makeCreative({ id: `${g}-cr` })] }));
    assert.ok(r.ok);
  }
  const bad = id(2);
  await db.sql`insert into campaigns (id, advertiser_id, name, status, bid_cpm_micros, daily_budget_micros, lifetime_budget_micros, start_ms, updated_at_ms)
    values (${bad}, ${adv}, 'Too big for Avro', 'active', 2000000, 1000000, ${'9007199254740991'}, ${Date.UTC(2024, 0, 1)}, ${Date.now()})`;
  return { db, store, adv, bad, good };
}

test('republishAll skips and reports a campaign the schema cannot carry, and still publishes every later one', async (t) => {
  const { db, store, adv, bad, good } = await catalogueWithBadRow(t);
  try {
    const results: PublishResult[] = [];
    const reported: Array<[string, string]> = [];
    // One campaign per batch: the bad row's batch comes before the later ones (a failure used to end the run there).
    const r = await new CampaignPublisher(producer, codec, (x) => results.push(x)).republishAll(store, { batchSize: 1, onUnpublishable: (id, reason) => reported.push([id, reason]) });
    assert.deepEqual(r, { sent: 3, skipped: 0, unpublishable: 1 });
    assert.deepEqual(reported.map(([id]) => id), [bad]);
    assert.match(reported[0]![1], /lifetimeBudgetMicros/, 'the reason names the field');
    assert.equal(results.filter((x) => x === 'unpublishable').length, 1, 'counted');
    await waitFor(() => good.every((g) => follower.get(g) !== undefined), { what: 'the good campaigns, before and after the bad one', timeoutMs: 15_000, intervalMs: 50 });
    assert.equal(follower.get(bad), undefined, 'the bad one was not sent');
  } finally {
    await purgeAdvertisers(db.sql, producer, [adv]);
  }
});

test('the campaigns service starts despite an unpublishable row: start-up and periodic re-sends skip it, count it, log it, and publish the rest', async (t) => {
  const { db, store, adv, bad, good } = await catalogueWithBadRow(t);
  const operator = await operatorTokenFile();
  t.after(() => operator.remove());
  try {
    // Changed in Postgres only: just the service's start-up re-send can bring this version to the topic.
    const bumped = Date.now() + 1;
    await db.sql`update campaigns set updated_at_ms = ${bumped}, version = version + 1 where id = ${good[2]!}`;
    const svc = await spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', {
      CAMPAIGNS_HOST: '127.0.0.1', POSTGRES_URL: db.url, CAMPAIGNS_REPUBLISH_MS: '1000', ...operator.env,
    }, 60_000);
    t.after(() => svc.stop());
    await waitFor(() => follower.get(good[2]!)?.updatedAtMs === bumped, { what: 'the start-up re-send of the campaign after the bad row', timeoutMs: 15_000, intervalMs: 50 });

    // A campaign created after start-up, behind the bad row in id order, straight in Postgres: the periodic re-send delivers it.
    const later = `${good[2]}-later`;
    assert.ok((await store.createCampaign(makeCampaign({ id: later, advertiserId: adv, creatives: [makeCreative({ id: `${later}-cr` })] }))).ok);
    await waitFor(() => follower.get(later) !== undefined, { what: 'the periodic re-send of a later campaign', timeoutMs: 15_000, intervalMs: 50 });

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    const count = Number(/campaigns_published_total\{[^}]*result="unpublishable"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    assert.ok(count >= 2, `counted at start-up and again by the periodic re-send (${count})`);
    assert.match(svc.output(), new RegExp(`"campaign":"${bad}".*lifetimeBudgetMicros.*cannot be published|cannot be published.*${bad}`), 'an error log names the campaign and the reason');
    assert.equal(follower.get(bad), undefined);
    // Changing the bad row through the API cannot publish it either: said plainly, not "will be retried".
    const paused = await fetch(`${svc.url}/campaigns/${bad}/pause`, { method: 'POST', headers: { ...bearer(operator.token), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(paused.status, 500);
    assert.equal(((await paused.json()) as { error: string }).error, 'unpublishable');
    assert.equal((await fetch(`${svc.url}/ready`)).status, 200, 'still serving');
  } finally {
    await purgeAdvertisers(db.sql, producer, [adv]);
  }
});
