import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Campaign } from '../domain/campaign.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { CampaignIndex } from './campaign-index.js';
import { decideBids, impCandidates } from './decide.js';
import { parseRateTable } from '../domain/currency.js';
import { makeRequest } from '../testing/bid-request.fixture.js';
import { toProfile, toRequestView } from './request-view.js';
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
  assert.deepEqual(r.noBidReasons, {
    no_eligible_campaign: 0, below_floor: 1, budget_exhausted: 0, frequency_capped: 2, paced: 0,
    blocked: 0, deal_only: 0, currency_unsupported: 0, native_unsupported: 0,
  });
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

// ---- issue 10: privacy, block lists, deals, currency, video, native ----

const fx = (() => {
  const r = parseRateTable({ base: 'USD', asOfMs: 1, rates: { EUR: '0.8' } });
  assert.ok(r.ok);
  return r.table;
})();
const vidCreative = makeCreative({
  id: 'vid', imageUrl: '', width: 640, height: 360,
  video: { vastXml: '', vastTagUrl: 'https://ads.example.com/v.xml', durationSec: 15, mimes: ['video/mp4'], protocols: [7] },
});
const videoImp: ImpView = {
  id: 'imp-v', bidFloorMicros: 0, w: 640, h: 360, banner: null,
  video: { mimes: ['video/mp4'], minDurationSec: 5, maxDurationSec: 30, protocols: [7], w: 640, h: 360, battr: [] },
};

test('decide without personal data ignores interests and segments, and capped campaigns do not bid', () => {
  const base = makeRequest('r-1', { id: 'u-1', interests: ['sports'] }, { profile: { interests: { cars: 90 }, segments: [], engagement: 1 } });
  const restricted = { ...base, privacy: { basis: 'coppa', personalData: false } };
  assert.equal(toProfile(restricted), null);
  assert.equal(toRequestView(restricted).userId, null);
  assert.deepEqual([...(toProfile(base)?.interests ?? [])].sort(), ['cars', 'sports'], 'unrestricted: the request and profile interests');
  assert.equal(toRequestView({ ...base, privacy: null }).userId, 'u-1', 'no decision recorded = unrestricted');
  const view = { ...request, userId: null };
  const index = new CampaignIndex([
    makeCampaign({ id: 'interest', targeting: { interest: ['sports'] } }),
    makeCampaign({ id: 'capped', frequencyCap: { count: 5, per: 'day' } }),
    makeCampaign({ id: 'contextual', targeting: { country: ['USA'], domain: ['example.com'] } }),
  ]);
  const r = decideBids(view, impCandidates(view, toProfile(restricted), index), state(), NOW, noRand);
  assert.deepEqual(r.bids.map((b) => b.campaignId), ['contextual']);
  assert.equal(r.noBidReasons.frequency_capped, 1);
});

test('decide: a campaign whose every fitting creative is blocked does not bid (reason blocked); an allowed creative still bids', () => {
  const blockedReq: BidRequestView = { ...request, badv: ['brand.example.com'] };
  const r = decide([makeCampaign({ id: 'c1' })], state(), blockedReq);
  assert.deepEqual(r.bids, []);
  assert.equal(r.noBidReason, 'blocked');
  const two = makeCampaign({ id: 'c2', creatives: [makeCreative({ id: 'x' }), makeCreative({ id: 'ok', adomain: ['other.com'] })] });
  const r2 = decide([two], state(), blockedReq);
  assert.deepEqual(r2.bids.map((b) => b.creativeId), ['ok']);
});

test('decide: private auction bids only through a matching deal, at its fixed price, with the deal floor', () => {
  const pmpImp: ImpView = {
    ...imp, pmp: { privateAuction: true, deals: [{ id: 'd-1', bidFloorMicros: 3_000_000, bidFloorCur: 'USD', wseat: [], wadomain: [] }] },
  };
  const req = { ...request, imps: [pmpImp] };
  const r = decide([
    makeCampaign({ id: 'open' }),
    makeCampaign({ id: 'dealer', deals: [{ id: 'd-1', bidCpmMicros: 3_500_000 }] }),
    makeCampaign({ id: 'cheap', deals: [{ id: 'd-1', bidCpmMicros: 2_000_000 }] }),
  ], state(), req);
  assert.deepEqual(r.bids.map((b) => [b.campaignId, b.priceMicros]), [['dealer', 3_500_000]]);
  assert.deepEqual(r.sources.map((s) => [s.dealId, s.floorMicros]), [['d-1', 3_000_000]]);
  assert.equal(r.noBidReasons.deal_only, 1);
  assert.equal(r.noBidReasons.below_floor, 1);
});

test('decide: deal wseat and wadomain restrict who may bid; a deal without a price uses the campaign price', () => {
  const deal = (wseat: string[], wadomain: string[]): ImpView => ({
    ...imp, pmp: { privateAuction: true, deals: [{ id: 'd', bidFloorMicros: 1_000_000, bidFloorCur: 'USD', wseat, wadomain }] },
  });
  const c = makeCampaign({ id: 'c', deals: [{ id: 'd', bidCpmMicros: null }] });
  const bidsFor = (i: ImpView, options = {}) => decideBids({ ...request, imps: [i] }, [[c]], state(), NOW, noRand, options).bids.map((b) => b.priceMicros);
  assert.deepEqual(bidsFor(deal([], [])), [2_000_000]);
  assert.deepEqual(bidsFor(deal(['adv-1'], [])), [2_000_000], 'our advertiser id as the seat');
  assert.deepEqual(bidsFor(deal(['seat-9'], [])), []);
  assert.deepEqual(bidsFor(deal(['seat-9'], []), { seats: ['seat-9'] }), [2_000_000], 'a configured seat');
  assert.deepEqual(bidsFor(deal([], ['BRAND.example.com'])), [2_000_000]);
  assert.deepEqual(bidsFor(deal([], ['else.com'])), []);
});

test('decide: open imps with deals take both deal and open bids; deal-only campaigns bid only through deals', () => {
  const mixed: ImpView = { ...imp, pmp: { privateAuction: false, deals: [{ id: 'd', bidFloorMicros: 0, bidFloorCur: 'USD', wseat: [], wadomain: [] }] } };
  const r = decide([
    makeCampaign({ id: 'a-deal', deals: [{ id: 'd', bidCpmMicros: 900_000 }] }),
    makeCampaign({ id: 'b-open' }),
    makeCampaign({ id: 'c-dealonly', openAuction: false, deals: [{ id: 'other', bidCpmMicros: null }] }),
  ], state(), { ...request, imps: [mixed] });
  assert.deepEqual(r.sources.map((s) => [s.campaign.id, s.dealId, s.floorMicros]), [['a-deal', 'd', 0], ['b-open', '', 500_000]]);
  assert.equal(r.noBidReasons.deal_only, 1);
});

test('decide converts a EUR floor to USD (rounded up), and refuses floors and answers in currencies without a rate', () => {
  const eurImp: ImpView = { ...imp, bidFloorMicros: 1_800_000, bidFloorCur: 'EUR' }; // 1.80 EUR = 2.25 USD at 0.8
  const c = [makeCampaign({ id: 'c', bidCpmMicros: 2_200_000 }), makeCampaign({ id: 'd', bidCpmMicros: 2_250_000 })];
  const r = decideBids({ ...request, imps: [eurImp] }, [c], state(), NOW, noRand, { fx });
  assert.deepEqual(r.bids.map((b) => b.campaignId), ['d']);
  assert.deepEqual(r.impFloorsMicros, [2_250_000]);
  assert.deepEqual(r.currency, { currency: 'USD', fxRatePpm: 1_000_000 });
  const noTable = decideBids({ ...request, imps: [eurImp] }, [c], state(), NOW, noRand);
  assert.equal(noTable.noBidReason, 'currency_unsupported');
  assert.deepEqual(noTable.impFloorsMicros, [null]);
  const eurAnswer = decideBids({ ...request, cur: ['EUR'] }, [c], state(), NOW, noRand, { fx });
  assert.deepEqual(eurAnswer.currency, { currency: 'EUR', fxRatePpm: 800_000 });
  assert.equal(eurAnswer.bids.length, 2);
  const gbp = decideBids({ ...request, cur: ['GBP'] }, [c], state(), NOW, noRand, { fx });
  assert.equal(gbp.noBidReason, 'currency_unsupported');
  assert.deepEqual(gbp.bids, []);
});

test('decide serves video imps with fitting video creatives only (mtype 2), banner imps with banners (mtype 1)', () => {
  const c = makeCampaign({ id: 'c', creatives: [makeCreative({ id: 'ban' }), vidCreative] });
  const r = decideBids({ ...request, imps: [videoImp, imp] }, [[c], [c]], state(), NOW, noRand);
  assert.deepEqual(r.sources.map((s) => [s.creative.id, s.mtype]), [['vid', 2], ['ban', 1]]);
  const tooLong = decideBids({ ...request, imps: [{ ...videoImp, video: { ...videoImp.video!, maxDurationSec: 10 } }] }, [[c]], state(), NOW, noRand);
  assert.equal(tooLong.noBidReason, 'no_eligible_campaign');
});

test('decide declines native-only imps with native_unsupported', () => {
  const r = decideBids({ ...request, imps: [{ id: 'n', bidFloorMicros: 0, native: true, banner: null, video: null }] }, [[makeCampaign()]], state(), NOW, noRand);
  assert.equal(r.noBidReason, 'native_unsupported');
});

test('decide: of several usable deals the best-priced one is bid through (ties: the exchange order)', () => {
  const deal = (id: string, floor: number) => ({ id, bidFloorMicros: floor, bidFloorCur: 'USD', wseat: [], wadomain: [] });
  const pmpImp: ImpView = { ...imp, pmp: { privateAuction: true, deals: [deal('low', 1_000_000), deal('high', 1_000_000), deal('tie', 1_000_000)] } };
  const c = makeCampaign({ id: 'c', deals: [{ id: 'low', bidCpmMicros: 1_200_000 }, { id: 'high', bidCpmMicros: 3_000_000 }, { id: 'tie', bidCpmMicros: 3_000_000 }] });
  const r = decide([c], state(), { ...request, imps: [pmpImp] });
  assert.deepEqual(r.sources.map((s) => s.dealId), ['high']);
  assert.deepEqual(r.bids.map((b) => b.priceMicros), [3_000_000]);
});

test('decide: a deal with at = 3 is bid at exactly its agreed price when the campaign would pay that much, else not', () => {
  const fixed = (floor: number, at: number | null): ImpView => ({
    ...imp, pmp: { privateAuction: true, deals: [{ id: 'd', bidFloorMicros: floor, bidFloorCur: 'USD', at, wseat: [], wadomain: [] }] },
  });
  const priceOf = (campaignDealPrice: number | null, i: ImpView) => {
    const c = makeCampaign({ id: 'c', deals: [{ id: 'd', bidCpmMicros: campaignDealPrice }] });
    return decideBids({ ...request, imps: [i] }, [[c]], state(), NOW, noRand).bids.map((b) => b.priceMicros);
  };
  assert.deepEqual(priceOf(null, fixed(1_500_000, 3)), [1_500_000], 'the campaign price (2.00) reaches it: bid the agreed 1.50');
  assert.deepEqual(priceOf(null, fixed(1_500_000, 2)), [2_000_000], 'not a fixed-price deal: the campaign price');
  assert.deepEqual(priceOf(1_800_000, fixed(1_500_000, 3)), [1_500_000]);
  assert.deepEqual(priceOf(null, fixed(2_500_000, 3)), [], 'the campaign would not pay the agreed price');
  assert.deepEqual(priceOf(null, fixed(0, 3)), [2_000_000], 'no agreed price given: priced as usual');
});

test('decide: a usable deal that does not price falls back to the open auction when the imp and campaign allow it', () => {
  const pmp = (privateAuction: boolean): ImpView => ({
    ...imp, pmp: { privateAuction, deals: [{ id: 'd', bidFloorMicros: 5_000_000, bidFloorCur: 'USD', wseat: [], wadomain: [] }] },
  });
  const c = makeCampaign({ id: 'c', deals: [{ id: 'd', bidCpmMicros: null }] });
  const open = decide([c], state(), { ...request, imps: [pmp(false)] });
  assert.deepEqual(open.sources.map((s) => [s.dealId, s.floorMicros]), [['', 500_000]]);
  assert.deepEqual(open.bids.map((b) => b.priceMicros), [2_000_000]);
  const closed = decide([c], state(), { ...request, imps: [pmp(true)] });
  assert.deepEqual(closed.bids, []);
  assert.equal(closed.noBidReasons.below_floor, 1);
  const dealOnly = decide([{ ...c, openAuction: false }], state(), { ...request, imps: [pmp(false)] });
  assert.deepEqual(dealOnly.bids, []);
  assert.equal(dealOnly.noBidReasons.below_floor, 1);
});
