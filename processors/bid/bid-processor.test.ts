import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter } from 'prom-client';
import { bidProcessor } from './bid-processor.js';
import { parseRateTable } from '../domain/currency.js';
import { CampaignIndex } from './campaign-index.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import type { InRecord } from '../runtime/processor.js';
import type { FrequencyQuery } from './bid-state.js';
import type { CampaignCounters } from './counter-snapshot.js';

const NOW = Date.UTC(2026, 10, 22, 12);
function request(over: Partial<BidRequest> = {}): BidRequest {
  return {
    id: 'req-1', imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 500_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: { id: null, domain: 'news.example.com', page: null, cat: ['IAB17'], publisherId: null, ext: null }, app: null,
    device: { ua: null, ip: '192.0.2.1', devicetype: 2, os: null, geo: { country: 'USA', region: null, city: null, ext: null }, ext: null },
    user: { id: 'u1', buyeruid: null, segments: [], interests: [], ext: null }, tmax: 120, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null,
    receivedAtMs: NOW - 5, ingestNodeId: 'e', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'ENRICHED',
    profile: { interests: { sports: 80 }, segments: ['auto-intender'], engagement: 50 }, ...over,
  };
}
const rec = (value: BidRequest): InRecord<BidRequest> => ({ topic: 'in', partition: 0, offset: '0', key: 'u1', value, timestampMs: NOW });
const counters = (spent: Record<string, number> = {}): CampaignCounters => ({ spentTodayMicros: new Map(Object.entries(spent)), spentLifetimeMicros: new Map(), perf: new Map() });
type ReadFrequencies = (q: readonly FrequencyQuery[], n: number) => Promise<readonly ReadonlyMap<string, number>[]>;

interface RunOptions {
  campaignCounters?: CampaignCounters | null;
  readFrequencies?: ReadFrequencies;
}

async function run(index: CampaignIndex, r: BidRequest, o: RunOptions = {}) {
  const queries: FrequencyQuery[][] = [];
  const unavailable = new Counter({ name: 'unavailable', help: 'h', registers: [] });
  const decisions = new Counter({ name: 'decisions', help: 'h', labelNames: ['result'], registers: [] });
  const readFrequencies: ReadFrequencies = o.readFrequencies ?? (async (q) => q.map(() => new Map()));
  const p = bidProcessor({
    input: 'in', output: 'bids', index, now: () => NOW, rand: () => 0, metrics: { stateUnavailable: unavailable, decisions },
    campaignCounters: () => (o.campaignCounters === undefined ? counters() : o.campaignCounters),
    readFrequencies: async (q, n) => (queries.push([...q]), readFrequencies(q, n)),
  });
  const r1 = rec(r);
  const ctx = await p.prepare!([r1]);
  const out = await p.process(r1, ctx);
  return { out, queries, unavailable: (await unavailable.get()).values[0]?.value ?? 0 };
}

test('bid-processor emits every eligible bid in one record keyed by request id', async () => {
  const index = new CampaignIndex([
    makeCampaign({ id: 'c-a', bidCpmMicros: 2_000_000, targeting: { country: ['usa'] } }),
    makeCampaign({ id: 'c-b', bidCpmMicros: 3_000_000, targeting: { interest: ['sports'] }, frequencyCap: { count: 3, per: 'day' }, dailyBudgetMicros: 50_000_000 }),
    makeCampaign({ id: 'c-x', targeting: { country: ['gbr'] }, frequencyCap: { count: 3, per: 'day' } }),
  ]);
  const { out, queries, unavailable } = await run(index, request());
  assert.equal(out.length, 1);
  assert.equal(out[0]?.topic, 'bids');
  assert.equal(out[0]?.key, 'req-1');
  const set = out[0]?.value as BidSet;
  assert.deepEqual(set.bids.map((b) => b.campaignId).sort(), ['c-a', 'c-b']);
  const b = set.bids.find((x) => x.campaignId === 'c-b')!;
  assert.equal(b.frequencyCap, 3);
  assert.equal(b.dailyBudgetMicros, 50_000_000);
  assert.equal(b.dayKey, '2026-11-22');
  assert.equal(b.dayEndsAtMs, Date.UTC(2026, 10, 23));
  assert.ok(b.priceMicros >= 500_000);
  assert.deepEqual(set.imps, [{ impId: '1', floorMicros: 500_000 }]);
  assert.equal(set.noBidReason, null);
  assert.deepEqual(queries[0]?.[0]?.campaigns.map((c) => c.id), ['c-b'], 'frequency counts are read only for targeted, capped campaigns');
  assert.equal(queries[0]?.[0]?.userId, 'u1');
  assert.equal(unavailable, 0);
});

test('bid-processor reports the no-bid reason when nothing bids', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', targeting: { country: ['gbr'] } })]);
  const set = (await run(index, request())).out[0]?.value as BidSet;
  assert.deepEqual(set.bids, []);
  assert.equal(set.noBidReason, 'no_eligible_campaign');
});

test('bid-processor carries the request\'s exchange to the BidSet (the auction keys reservations by it)', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', targeting: { country: ['usa'] } })]);
  assert.equal(((await run(index, request({ exchange: 'exa' }))).out[0]?.value as BidSet).exchange, 'exa');
  assert.equal(((await run(index, request())).out[0]?.value as BidSet).exchange, '', 'a record from before exchanges');
});

test('bid-processor skips a campaign whose counters say its budget is spent', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', dailyBudgetMicros: 1_000_000 })]);
  const set = (await run(index, request(), { campaignCounters: counters({ 'c-a': 1_000_000 }) })).out[0]?.value as BidSet;
  assert.equal(set.noBidReason, 'budget_exhausted');
});

test('bid-processor skips a capped campaign the user has seen enough today', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', frequencyCap: { count: 2, per: 'day' } })]);
  const seen = async (q: readonly FrequencyQuery[]) => q.map(() => new Map([['c-a', 2]]));
  const set = (await run(index, request(), { readFrequencies: seen })).out[0]?.value as BidSet;
  assert.equal(set.noBidReason, 'frequency_capped');
});

test('bid-processor decides with empty counters when Redis fails, instead of stalling', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', frequencyCap: { count: 1, per: 'day' } })]);
  const { out, unavailable } = await run(index, request(), { readFrequencies: async () => { throw new Error('redis down'); } });
  assert.deepEqual((out[0]?.value as BidSet).bids.map((b) => b.campaignId), ['c-a']);
  assert.equal(unavailable, 1, 'counted in bid_state_unavailable_total');
});

test('bid-processor decides with empty campaign counters when the snapshot is too old, and counts it', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a' })]);
  const { out, unavailable } = await run(index, request(), { campaignCounters: null });
  assert.deepEqual((out[0]?.value as BidSet).bids.map((b) => b.campaignId), ['c-a']);
  assert.equal(unavailable, 1);
});

test('bid-processor looks up candidates once per imp for prepare and process together', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a' })]);
  let lookups = 0;
  const candidates = index.candidates.bind(index);
  index.candidates = (attrs) => (lookups++, candidates(attrs));
  const imp = request().imp[0]!;
  const set = (await run(index, request({ imp: [imp, { ...imp, id: '2' }] }))).out[0]?.value as BidSet;
  assert.deepEqual(set.bids.map((b) => b.impId), ['1', '2']);
  assert.equal(lookups, 2);
});

test('bid-processor records the privacy basis, answer currency, USD floors and the deal and creative details of each bid', async () => {
  const table = parseRateTable({ base: 'USD', asOfMs: NOW, rates: { EUR: '0.8' } });
  assert.ok(table.ok);
  const index = new CampaignIndex([makeCampaign({
    id: 'c-v', deals: [{ id: 'deal-9', bidCpmMicros: 4_000_000 }],
    creatives: [makeCreative({
      id: 'v', imageUrl: '', width: 640, height: 360, cat: ['IAB2'], cattax: 1,
      video: { vastXml: '<VAST version="4.0"/>', vastTagUrl: '', durationSec: 20, mimes: ['video/mp4'], protocols: [7] },
    })],
  })]);
  const r = request({
    cur: ['EUR'], privacy: { basis: 'gdpr_no_consent', personalData: false },
    imp: [{
      id: '1', banner: null, bidfloorMicros: 800_000, bidfloorcur: 'EUR', tagid: null, secure: null, ext: null,
      video: { mimes: ['video/mp4'], w: 640, h: 360, ext: null, minduration: 5, maxduration: 30, protocols: [7], battr: [] },
      pmp: { privateAuction: true, deals: [{ id: 'deal-9', bidfloorMicros: 2_400_000, bidfloorcur: 'EUR', at: null, wseat: [], wadomain: [] }] },
    }],
  });
  const queries: FrequencyQuery[][] = [];
  const p = bidProcessor({
    input: 'in', output: 'bids', index, now: () => NOW, rand: () => 0, fx: () => table.table,
    campaignCounters: () => counters(), readFrequencies: async (q) => (queries.push([...q]), q.map(() => new Map())),
  });
  const r1 = rec(r);
  const set = (await p.process(r1, await p.prepare!([r1])))[0]!.value as BidSet;
  assert.equal(set.privacyBasis, 'gdpr_no_consent');
  assert.equal(set.userId, null, 'no personal data: no user id');
  assert.equal(queries[0]![0]!.userId, null);
  assert.deepEqual([set.currency, set.fxRatePpm], ['EUR', 800_000]);
  assert.deepEqual(set.imps, [{ impId: '1', floorMicros: 1_000_000 }], '0.80 EUR = 1.00 USD');
  assert.equal(set.bids.length, 1);
  const b = set.bids[0]!;
  assert.deepEqual(
    [b.dealId, b.floorMicros, b.priceMicros, b.mtype, b.cat, b.cattax, b.vastXml, b.vastTagUrl, b.durationSec],
    ['deal-9', 3_000_000, 4_000_000, 2, ['IAB2'], 1, '<VAST version="4.0"/>', '', 20],
  );
});

test('bid-processor: an old request without a privacy decision is recorded as unrestricted, in USD', async () => {
  const { out } = await run(new CampaignIndex([makeCampaign({ id: 'c-a' })]), request());
  const set = out[0]!.value as BidSet;
  assert.deepEqual([set.privacyBasis, set.currency, set.fxRatePpm, set.bids[0]?.dealId, set.bids[0]?.mtype], ['unrestricted', 'USD', 1_000_000, '', 1]);
});
