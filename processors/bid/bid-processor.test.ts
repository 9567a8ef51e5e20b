import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bidProcessor } from './bid-processor.js';
import { CampaignIndex } from './campaign-index.js';
import { makeCampaign } from '../campaigns/campaign-fixture.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import type { InRecord } from '../runtime/processor.js';
import type { BidState } from './types.js';
import type { StateQuery } from './bid-state.js';

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
const empty = (): BidState => ({ spentTodayMicros: new Map(), spentLifetimeMicros: new Map(), frequencyCounts: new Map(), perf: new Map() });

async function run(index: CampaignIndex, r: BidRequest, readState: (q: readonly StateQuery[], n: number) => Promise<BidState[]> = async (q) => q.map(empty)) {
  const queries: StateQuery[][] = [];
  const p = bidProcessor({ input: 'in', output: 'bids', index, now: () => NOW, rand: () => 0, readState: async (q, n) => (queries.push([...q]), readState(q, n)) });
  const r1 = rec(r);
  const ctx = await p.prepare!([r1]);
  const out = await p.process(r1, ctx);
  return { out, queries };
}

test('bid-processor emits every eligible bid in one record keyed by request id', async () => {
  const index = new CampaignIndex([
    makeCampaign({ id: 'c-a', bidCpmMicros: 2_000_000, targeting: { country: ['usa'] } }),
    makeCampaign({ id: 'c-b', bidCpmMicros: 3_000_000, targeting: { interest: ['sports'] }, frequencyCap: { count: 3, per: 'day' }, dailyBudgetMicros: 50_000_000 }),
    makeCampaign({ id: 'c-x', targeting: { country: ['gbr'] } }),
  ]);
  const { out, queries } = await run(index, request());
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
  assert.deepEqual(queries[0]?.[0]?.campaigns.map((c) => c.id).sort(), ['c-a', 'c-b'], 'state is read only for targeted campaigns');
  assert.equal(queries[0]?.[0]?.userId, 'u1');
});

test('bid-processor reports the no-bid reason when nothing bids', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', targeting: { country: ['gbr'] } })]);
  const set = (await run(index, request())).out[0]?.value as BidSet;
  assert.deepEqual(set.bids, []);
  assert.equal(set.noBidReason, 'no_eligible_campaign');
});

test('bid-processor skips a campaign whose counters say its budget is spent', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', dailyBudgetMicros: 1_000_000 })]);
  const full = async (q: readonly StateQuery[]) => q.map(() => ({ ...empty(), spentTodayMicros: new Map([['c-a', 1_000_000]]) }));
  const set = (await run(index, request(), full)).out[0]?.value as BidSet;
  assert.equal(set.noBidReason, 'budget_exhausted');
});

test('bid-processor decides with empty counters when Redis fails, instead of stalling', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a' })]);
  const set = (await run(index, request(), async () => { throw new Error('redis down'); })).out[0]?.value as BidSet;
  assert.deepEqual(set.bids.map((b) => b.campaignId), ['c-a']);
});

test('bid-processor sees a campaign change at once (the index is followed, not reloaded)', async () => {
  const index = new CampaignIndex([makeCampaign({ id: 'c-a', updatedAtMs: 1 })]);
  assert.equal(((await run(index, request())).out[0]?.value as BidSet).bids.length, 1);
  index.upsert(makeCampaign({ id: 'c-a', status: 'paused', updatedAtMs: 2 }));
  assert.equal(((await run(index, request())).out[0]?.value as BidSet).bids.length, 0);
});
