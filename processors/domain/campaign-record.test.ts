import { test } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { readFileSync } from 'node:fs';
import { loadSchema } from '../../schemas/topics.js';
import { campaignToRecord, recordToCampaign, type CampaignRecord } from './campaign-record.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { TARGETING_DIMENSIONS } from './campaign.js';

const type = avro.Type.forSchema(loadSchema('campaign.avsc') as avro.Schema);

const full = makeCampaign({
  id: 'cmp-0042',
  status: 'paused',
  bidCpmMicros: 7_999_999,
  endMs: Date.UTC(2030, 0, 1),
  timezone: 'America/New_York',
  dayparting: [{ days: [1, 2, 3], startMinute: 480, endMinute: 1200 }],
  frequencyCap: { count: 3, per: 'day' },
  pacing: 'even',
  targeting: { country: ['USA', 'GBR'], size: ['300x250', '728x90'], interest: ['sports'] },
  creatives: [makeCreative({ id: 'cr-a' }), makeCreative({ id: 'cr-b', width: 728, height: 90, adomain: [] })],
  updatedAtMs: 1_700_000_000_123,
});

test('campaign record round-trips a full campaign through Avro bytes', () => {
  const bytes = type.toBuffer(campaignToRecord(full));
  const back = recordToCampaign(type.fromBuffer(bytes) as CampaignRecord);
  assert.deepEqual(back, full);
});

test('campaign record round-trips a minimal campaign (no targeting, no end, no cap)', () => {
  const minimal = makeCampaign({ targeting: {}, endMs: null, frequencyCap: null, dayparting: [] });
  const back = recordToCampaign(type.fromBuffer(type.toBuffer(campaignToRecord(minimal))) as CampaignRecord);
  assert.deepEqual(back, minimal);
  assert.equal(back.endMs, null);
  assert.equal(back.frequencyCap, null);
});

test('campaign record fills every targeting dimension with an array, as the schema requires', () => {
  const r = campaignToRecord(makeCampaign({ targeting: { country: ['USA'] } }));
  assert.deepEqual(Object.keys(r.targeting).sort(), [...TARGETING_DIMENSIONS].sort());
  assert.deepEqual(r.targeting.country, ['USA']);
  assert.deepEqual(r.targeting.segment, []);
  assert.ok(type.isValid(r), 'the record is valid for campaign.avsc');
});

test('campaign record reading drops empty targeting lists (empty means no rule)', () => {
  const r = campaignToRecord(makeCampaign({ targeting: { country: [], domain: ['news.example.com'] } }));
  const back = recordToCampaign(type.fromBuffer(type.toBuffer(r)) as CampaignRecord);
  assert.deepEqual(back.targeting, { domain: ['news.example.com'] });
});

test('campaign record does not carry properties outside the schema', () => {
  const withVersion = { ...full, version: 7 };
  const r = campaignToRecord(withVersion);
  assert.equal('version' in r, false);
  assert.ok(type.isValid(r));
});

test('campaign record round-trips deals, a deal-only flag and a video creative with its block-list fields', () => {
  const c = makeCampaign({
    deals: [{ id: 'deal-1', bidCpmMicros: 4_500_000 }, { id: 'deal-2', bidCpmMicros: null }],
    openAuction: false,
    creatives: [makeCreative({
      id: 'v-1', imageUrl: '', width: 640, height: 360, cat: ['IAB1-2'], cattax: 1, bundle: 'com.brand.app', attr: [1, 6],
      video: { vastXml: '', vastTagUrl: 'https://ads.example.com/vast.xml', durationSec: 15, mimes: ['video/mp4'], protocols: [3, 7] },
    })],
  });
  const back = recordToCampaign(type.fromBuffer(type.toBuffer(campaignToRecord(c))) as CampaignRecord);
  assert.deepEqual(back, c);
});

test('a v1 campaign record (before deals and creative formats) reads with the defaults: open auction, no deals, banner', () => {
  const v1 = avro.Type.forSchema(JSON.parse(readFileSync(new URL('../../schemas/history/campaigns/v1.avsc', import.meta.url), 'utf8')) as avro.Schema);
  const old = v1.toBuffer(v1.clone(campaignToRecord(makeCampaign()), { wrapUnions: false, fieldHook: undefined } as never) as never);
  const resolver = type.createResolver(v1);
  const back = recordToCampaign(type.fromBuffer(old, resolver) as CampaignRecord);
  assert.equal(back.openAuction, true);
  assert.deepEqual(back.deals, []);
  assert.deepEqual(back.creatives[0]!.cat, []);
  assert.equal(back.creatives[0]!.cattax, 1);
  assert.equal(back.creatives[0]!.video, null);
});
