import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Campaign } from '../domain/campaign.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { CampaignIndex } from './campaign-index.js';
import { decideBids, impCandidates } from './decide.js';
import type { BidRequestView, BidState, ImpView, PerfStats } from './types.js';

const NOW = Date.UTC(2024, 6, 1, 12); // Monday noon UTC: half of a UTC campaign's day
const imp: ImpView = { id: 'imp-1', bidFloorMicros: 500_000, w: 300, h: 250 };
const request: BidRequestView = { id: 'req-1', imps: [imp], country: 'USA', deviceType: 2, domain: 'news.example.com', userId: 'user-1' };

interface StateInit {
  spent?: Record<string, number>;
  lifetime?: Record<string, number>;
  freq?: Record<string, number>;
  perf?: Record<string, PerfStats>;
}
function state(s: StateInit = {}): BidState {
  const m = <T>(r: Record<string, T> | undefined) => new Map(Object.entries(r ?? {}));
  return { spentTodayMicros: m(s.spent), spentLifetimeMicros: m(s.lifetime), frequencyCounts: m(s.freq), perf: m(s.perf) };
}
const noRand = () => {
  throw new Error('rand must not be called');
};
const profile = { interests: ['sports'], segments: [] };
function decide(campaigns: Campaign[], s: BidState = state(), req: BidRequestView = request, rand: () => number = noRand) {
  return decideBids(req, impCandidates(req, profile, new CampaignIndex(campaigns)), s, NOW, rand);
}

test('decide bids the base CPM with a fitting creative for a matching campaign', () => {
  const r = decide([makeCampaign({ id: 'c1', targeting: { country: ['US'], domain: ['example.com'] } })]);
  assert.equal(r.noBidReason, null);
  assert.deepEqual(r.bids, [{ impId: 'imp-1', campaignId: 'c1', advertiserId: 'adv-1', creativeId: 'cr-1', priceMicros: 2_000_000, adomain: ['brand.example.com'], w: 300, h: 250 }]);
});

test('decide reports no_eligible_campaign when targeting excludes everyone', () => {
  const r = decide([makeCampaign({ targeting: { country: ['DEU'] } }), makeCampaign({ id: 'c2', targeting: { interest: ['cars'] } })]);
  assert.deepEqual(r.bids, []);
  assert.equal(r.noBidReason, 'no_eligible_campaign');
  assert.equal(r.noBidReasons.no_eligible_campaign, 1);
});

test('decide skips campaigns outside their flight dates or daypart', () => {
  const r = decide([
    makeCampaign({ id: 'ended', endMs: NOW }),
    makeCampaign({ id: 'future', startMs: NOW + 1 }),
    makeCampaign({ id: 'night', dayparting: [{ days: [1], startMinute: 0, endMinute: 360 }] }),
  ]);
  assert.equal(r.noBidReason, 'no_eligible_campaign');
});

test('decide skips campaigns with no creative that fits the slot', () => {
  const r = decide([makeCampaign({ creatives: [makeCreative({ width: 728, height: 90 })] })]);
  assert.equal(r.noBidReason, 'no_eligible_campaign');
  const fits = decide([makeCampaign({ creatives: [makeCreative({ id: 'lb', width: 728, height: 90 })] })], state(), { ...request, imps: [{ ...imp, formats: [{ w: 728, h: 90 }] }] });
  assert.equal(fits.bids[0]?.creativeId, 'lb');
  assert.deepEqual([fits.bids[0]?.w, fits.bids[0]?.h], [728, 90]);
});

test('decide reports budget_exhausted for a spent daily or lifetime budget', () => {
  const c = makeCampaign({ dailyBudgetMicros: 10_000_000, lifetimeBudgetMicros: 50_000_000 });
  assert.equal(decide([c], state({ spent: { 'c-1': 10_000_000 } })).noBidReason, 'budget_exhausted');
  assert.equal(decide([c], state({ lifetime: { 'c-1': 50_000_000 } })).noBidReason, 'budget_exhausted');
  assert.equal(decide([c], state({ spent: { 'c-1': 9_999_000 }, lifetime: { 'c-1': 49_999_000 } })).bids.length, 1);
});

test('decide reports budget_exhausted when the remaining budget cannot pay one impression at the floor', () => {
  const c = makeCampaign({ dailyBudgetMicros: 10_000_000 });
  // Floor 500,000 CPM costs 500 micros per impression.
  assert.equal(decide([c], state({ spent: { 'c-1': 10_000_000 - 499 } })).noBidReason, 'budget_exhausted');
  assert.equal(decide([c], state({ spent: { 'c-1': 10_000_000 - 500 } })).bids.length, 1);
});

test('decide enforces the frequency cap per user', () => {
  const c = makeCampaign({ frequencyCap: { count: 3, per: 'day' } });
  assert.equal(decide([c], state({ freq: { 'c-1': 3 } })).noBidReason, 'frequency_capped');
  assert.equal(decide([c], state({ freq: { 'c-1': 2 } })).bids.length, 1);
  assert.equal(decide([c], state(), { ...request, userId: null }).noBidReason, 'frequency_capped');
  assert.equal(decide([makeCampaign()], state(), { ...request, userId: null }).bids.length, 1);
});

test('decide paces an even campaign ahead of target by the random draw', () => {
  // Noon: target 50,000,000 of 100,000,000; 55,000,000 spent is half the tolerance → factor 500,000.
  const c = makeCampaign({ pacing: 'even' });
  const s = state({ spent: { 'c-1': 55_000_000 } });
  assert.equal(decide([c], s, request, () => 0.5).noBidReason, 'paced');
  assert.equal(decide([c], s, request, () => 0.499999).bids.length, 1);
});

test('decide paces without drawing when the factor is 0 and never draws when unthrottled', () => {
  const ahead = makeCampaign({ pacing: 'even' });
  assert.equal(decide([ahead], state({ spent: { 'c-1': 60_000_000 } })).noBidReason, 'paced');
  assert.equal(decide([ahead], state({ spent: { 'c-1': 40_000_000 } })).bids.length, 1);
  assert.equal(decide([makeCampaign({ pacing: 'asap' })], state({ spent: { 'c-1': 99_000_000 } })).bids.length, 1);
});

test('decide reports below_floor when the priced bid is under the floor', () => {
  const c = makeCampaign({ bidCpmMicros: 400_000 });
  const r = decide([c]);
  assert.equal(r.noBidReason, 'below_floor');
  assert.equal(r.noBidReasons.below_floor, 1);
});

test('decide prices with the performance multiplier', () => {
  const c = makeCampaign({ bidCpmMicros: 400_000 });
  // CTR well above the prior clamps to 2.0: 800,000 clears the 500,000 floor.
  const r = decide([c], state({ perf: { 'c-1': { impressions: 100_000, clicks: 1_000 } } }));
  assert.equal(r.bids[0]?.priceMicros, 800_000);
  const poor = decide([makeCampaign()], state({ perf: { 'c-1': { impressions: 1_000_000, clicks: 0 } } }));
  assert.equal(poor.bids[0]?.priceMicros, 1_000_000);
});

test('decide aggregates reasons and reports the most frequent one', () => {
  const r = decide([
    makeCampaign({ id: 'a', bidCpmMicros: 100 }),
    makeCampaign({ id: 'b', frequencyCap: { count: 1, per: 'day' } }),
    makeCampaign({ id: 'c', frequencyCap: { count: 1, per: 'day' } }),
    makeCampaign({ id: 'd', targeting: { country: ['FRA'] } }),
  ], state({ freq: { b: 1, c: 5 } }));
  assert.deepEqual(r.noBidReasons, { no_eligible_campaign: 0, below_floor: 1, budget_exhausted: 0, frequency_capped: 2, paced: 0 });
  assert.equal(r.noBidReason, 'frequency_capped');
});

test('decide bids per imp and counts campaign-level reasons once per request', () => {
  const imps: ImpView[] = [imp, { id: 'imp-2', bidFloorMicros: 0, formats: [{ w: 300, h: 250 }] }, { id: 'imp-3', bidFloorMicros: 0, w: 1, h: 1 }];
  const r = decide([makeCampaign({ id: 'ok' }), makeCampaign({ id: 'spent', dailyBudgetMicros: 1 })], state({ spent: { spent: 1 } }), { ...request, imps });
  assert.deepEqual(r.bids.map((b) => [b.impId, b.campaignId]), [['imp-1', 'ok'], ['imp-2', 'ok']]);
  assert.equal(r.noBidReasons.budget_exhausted, 1);
  assert.equal(r.noBidReasons.no_eligible_campaign, 1);
});

test('decide is deterministic: campaign-id order and a seeded draw give the same result', () => {
  const campaigns = ['z', 'm', 'a'].map((id) => makeCampaign({ id, pacing: 'even' }));
  const s = state({ spent: { z: 55_000_000, m: 55_000_000, a: 55_000_000 } });
  const seeded = () => {
    const seq = [0.1, 0.9, 0.2];
    let i = 0;
    return () => seq[i++]!;
  };
  // Visited a, m, z: a draws 0.1 (bids), m draws 0.9 (paced), z draws 0.2 (bids).
  const r1 = decide(campaigns, s, request, seeded());
  assert.deepEqual(r1.bids.map((b) => b.campaignId), ['a', 'z']);
  assert.equal(r1.noBidReasons.paced, 1);
  const r2 = decide([...campaigns].reverse(), s, request, seeded());
  assert.deepEqual(r2, r1);
});

test('decide with no imps reports no_eligible_campaign', () => {
  const r = decide([makeCampaign()], state(), { ...request, imps: [] });
  assert.deepEqual(r.bids, []);
  assert.equal(r.noBidReason, 'no_eligible_campaign');
});

test('decide candidates are per imp, matching only, in campaign-id order', () => {
  const imps: ImpView[] = [imp, { id: 'imp-2', bidFloorMicros: 0, w: 728, h: 90 }];
  const index = new CampaignIndex([
    makeCampaign({ id: 'z' }), makeCampaign({ id: 'a', targeting: { size: ['300x250'] } }),
    makeCampaign({ id: 'lb', targeting: { size: ['728x90'] } }), makeCampaign({ id: 'fr', targeting: { country: ['FRA'] } }),
  ]);
  const perImp = impCandidates({ ...request, imps }, profile, index);
  assert.deepEqual(perImp.map((list) => list.map((c) => c.id)), [['a', 'z'], ['lb', 'z']]);
});

test('decide evaluates only the candidates it is given, and names the campaign and creative of each bid', () => {
  const [a, b] = [makeCampaign({ id: 'a' }), makeCampaign({ id: 'b', creatives: [makeCreative({ id: 'cr-b' })] })];
  const r = decideBids(request, [[b]], state(), NOW, noRand);
  assert.deepEqual(r.bids.map((x) => x.campaignId), ['b']);
  assert.deepEqual(r.sources.map((x) => [x.campaign.id, x.creative.id]), [['b', 'cr-b']]);
  assert.equal(decideBids(request, [[]], state(), NOW, noRand).noBidReason, 'no_eligible_campaign', `${a.id} is not considered`);
});
