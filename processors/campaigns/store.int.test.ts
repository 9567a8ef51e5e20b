/** CampaignStore against the real Postgres, in a throw-away schema migrated by schemas/postgres/migrate.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSchema } from '../runtime/fresh-schema.js';
import { CampaignStore } from './store.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';

async function setup(t: { after: (fn: () => Promise<void>) => void }, clock: () => number) {
  const { sql } = await freshSchema(t, 'store');
  const store = new CampaignStore(sql, clock);
  await store.upsertAdvertiser({ id: 'adv-1', name: 'Acme' });
  return { store, sql };
}

test('store creates a campaign and reads back exactly what was written, version 1, updatedAtMs from the clock', async (t) => {
  const { store } = await setup(t, () => 5000);
  const c = makeCampaign({
    id: 'cmp-1', targeting: { country: ['USA'], size: ['300x250'] }, frequencyCap: { count: 2, per: 'day' },
    dayparting: [{ days: [1], startMinute: 0, endMinute: 60 }], endMs: Date.UTC(2031, 0, 1),
    creatives: [makeCreative({ id: 'cr-b' }), makeCreative({ id: 'cr-a', width: 728, height: 90 })], updatedAtMs: 1,
  });
  const r = await store.createCampaign(c);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { ...c, updatedAtMs: 5000, version: 1 });
  assert.deepEqual(await store.getCampaign('cmp-1'), r.value);
  assert.deepEqual(r.value.creatives.map((x) => x.id), ['cr-b', 'cr-a'], 'creative order is kept');
});

test('store refuses duplicates, unknown advertisers and unknown campaigns without writing', async (t) => {
  const { store } = await setup(t, () => 1);
  assert.ok((await store.createCampaign(makeCampaign({ id: 'cmp-1', creatives: [makeCreative({ id: 'cr-1' })] }))).ok);
  assert.deepEqual(await store.createCampaign(makeCampaign({ id: 'cmp-1' })), { ok: false, reason: 'campaign_exists' });
  assert.deepEqual(await store.createCampaign(makeCampaign({ id: 'cmp-2', advertiserId: 'nobody' })), { ok: false, reason: 'advertiser_not_found' });
  assert.deepEqual(await store.createCampaign(makeCampaign({ id: 'cmp-3', creatives: [makeCreative({ id: 'cr-1' })] })), { ok: false, reason: 'creative_exists' });
  assert.equal(await store.getCampaign('cmp-3'), null, 'the refused create left no campaign row');
  assert.deepEqual(await store.updateCampaign(makeCampaign({ id: 'cmp-9' })), { ok: false, reason: 'campaign_not_found' });
  assert.deepEqual(await store.setStatus('cmp-9', 'paused'), { ok: false, reason: 'campaign_not_found' });
  assert.deepEqual(await store.createAdvertiser({ id: 'adv-1', name: 'Again' }), { ok: false, reason: 'advertiser_exists' });
});

test('store versions increase and updatedAtMs strictly increases even when the clock does not', async (t) => {
  let now = 1000;
  const { store } = await setup(t, () => now);
  const created = await store.createCampaign(makeCampaign({ id: 'cmp-1' }));
  assert.ok(created.ok);
  const updated = await store.updateCampaign(makeCampaign({ id: 'cmp-1', bidCpmMicros: 3_000_000 }));
  assert.ok(updated.ok);
  assert.equal(updated.value.version, 2);
  assert.equal(updated.value.updatedAtMs, 1001, 'same clock reading: previous + 1');
  now = 500;
  const paused = await store.setStatus('cmp-1', 'paused');
  assert.ok(paused.ok);
  assert.equal(paused.value.status, 'paused');
  assert.equal(paused.value.version, 3);
  assert.equal(paused.value.updatedAtMs, 1002, 'a clock stepping back cannot move updatedAtMs back');
  now = 9000;
  const added = await store.addCreative('cmp-1', makeCreative({ id: 'cr-new' }));
  assert.ok(added.ok);
  assert.equal(added.value.version, 4);
  assert.equal(added.value.updatedAtMs, 9000);
  assert.deepEqual(added.value.creatives.map((c) => c.id), ['cr-1', 'cr-new']);
});

test('store keeps an ended campaign ended and lists by filter', async (t) => {
  const { store } = await setup(t, () => 1);
  await store.upsertAdvertiser({ id: 'adv-2', name: 'Other' });
  assert.ok((await store.createCampaign(makeCampaign({ id: 'a', status: 'ended', creatives: [makeCreative({ id: 'x1' })] }))).ok);
  assert.ok((await store.createCampaign(makeCampaign({ id: 'b', advertiserId: 'adv-2', creatives: [makeCreative({ id: 'x2' })] }))).ok);
  assert.deepEqual(await store.setStatus('a', 'active'), { ok: false, reason: 'campaign_ended' });
  assert.deepEqual((await store.listCampaigns({ advertiserId: 'adv-2' })).map((c) => c.id), ['b']);
  assert.deepEqual((await store.listCampaigns({ status: 'ended' })).map((c) => c.id), ['a']);
  assert.deepEqual((await store.listCampaigns()).map((c) => c.id), ['a', 'b']);
  const pages: string[][] = [];
  await store.eachCampaignBatch(1, async (batch) => void pages.push(batch.map((c) => c.id)));
  assert.deepEqual(pages, [['a'], ['b']]);
});

test('store keeps deals, the deal-only flag and a video creative with its block-list fields', async (t) => {
  const { store } = await setup(t, () => 7000);
  const c = makeCampaign({
    id: 'cmp-v', deals: [{ id: 'deal-1', bidCpmMicros: 4_000_000 }, { id: 'deal-2', bidCpmMicros: null }], openAuction: false,
    creatives: [
      makeCreative({ id: 'cr-ban', cat: ['IAB2'], cattax: 1, bundle: 'com.brand.app', attr: [6] }),
      makeCreative({
        id: 'cr-vid', imageUrl: '', width: 640, height: 360, cat: ['IAB2-3'],
        video: { vastXml: '<VAST version="4.0"/>', vastTagUrl: '', durationSec: 30, mimes: ['video/mp4', 'video/webm'], protocols: [3, 7] },
      }),
    ],
  });
  const r = await store.createCampaign(c);
  assert.ok(r.ok);
  assert.deepEqual(r.value, { ...c, updatedAtMs: 7000, version: 1 });
  assert.deepEqual(await store.getCampaign('cmp-v'), r.value);
});
