import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, validateCampaign } from './validate-campaign.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';

/** Validates a fixture campaign with some fields replaced (undefined removes the field). */
function check(overrides: Record<string, unknown>) {
  const input: Record<string, unknown> = { ...makeCampaign(), ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete input[k];
  return validateCampaign(input);
}

function fields(overrides: Record<string, unknown>): string[] {
  const r = check(overrides);
  assert.equal(r.ok, false, 'expected validation to fail');
  return r.ok ? [] : r.errors.map((e) => e.field);
}

test('validateCampaign accepts a complete campaign and returns it unchanged', () => {
  const c = makeCampaign({ targeting: { country: ['USA', 'de'], size: ['300x250'] }, dayparting: [{ days: [1, 2], startMinute: 540, endMinute: 1020 }] });
  const r = validateCampaign(c);
  assert.ok(r.ok);
  assert.deepEqual(r.campaign, c);
});

test('validateCampaign fills documented defaults for optional fields', () => {
  const r = check({ status: undefined, endMs: undefined, timezone: undefined, dayparting: undefined, frequencyCap: undefined, pacing: undefined, targeting: undefined });
  assert.ok(r.ok);
  assert.equal(r.campaign.status, 'active');
  assert.equal(r.campaign.endMs, null);
  assert.equal(r.campaign.timezone, 'UTC');
  assert.deepEqual(r.campaign.dayparting, []);
  assert.equal(r.campaign.frequencyCap, null);
  assert.equal(r.campaign.pacing, 'even');
  assert.deepEqual(r.campaign.targeting, {});
});

test('validateCampaign rejects non-objects with a root error', () => {
  for (const bad of [null, 42, 'x', []]) {
    const r = validateCampaign(bad);
    assert.equal(r.ok, false);
  }
});

test('validateCampaign names zero, negative and fractional budgets', () => {
  assert.deepEqual(fields({ dailyBudgetMicros: 0 }), ['dailyBudgetMicros']);
  assert.deepEqual(fields({ lifetimeBudgetMicros: -5 }), ['lifetimeBudgetMicros']);
  assert.deepEqual(fields({ bidCpmMicros: 1.5 }), ['bidCpmMicros']);
  assert.deepEqual(fields({ bidCpmMicros: '2000000' }), ['bidCpmMicros']);
});

test('validateCampaign rejects a daily budget above the lifetime budget', () => {
  assert.deepEqual(fields({ dailyBudgetMicros: 10, lifetimeBudgetMicros: 5 }), ['dailyBudgetMicros']);
});

test('validateCampaign rejects an end at or before the start', () => {
  const start = Date.UTC(2025, 0, 1);
  assert.deepEqual(fields({ startMs: start, endMs: start }), ['endMs']);
  assert.deepEqual(fields({ startMs: start, endMs: start - 10 }), ['endMs']);
});

test('validateCampaign bounds money and times to what every hop carries exactly (Avro long, Lua doubles), naming the field', () => {
  // 2^53 - 1 is a safe integer that avsc cannot encode as a long; 2^60 is not even exact in a double.
  for (const huge of [2 ** 53 - 1, 2 ** 53 - 2, 2 ** 60, 1e300]) {
    assert.deepEqual(fields({ bidCpmMicros: huge }), ['bidCpmMicros'], `bid ${huge}`);
    assert.deepEqual(fields({ dailyBudgetMicros: huge }), ['dailyBudgetMicros'], `daily ${huge}`);
    assert.deepEqual(fields({ dailyBudgetMicros: 1, lifetimeBudgetMicros: huge }), ['lifetimeBudgetMicros'], `lifetime ${huge}`);
    assert.deepEqual(fields({ startMs: huge, endMs: null }), ['startMs'], `start ${huge}`);
    assert.deepEqual(fields({ endMs: huge }), ['endMs'], `end ${huge}`);
  }
  assert.deepEqual(fields({ bidCpmMicros: LIMITS.maxBidCpmMicros + 1 }), ['bidCpmMicros']);
  assert.ok(check({ bidCpmMicros: LIMITS.maxBidCpmMicros }).ok, 'the cap itself is allowed');
  assert.ok(check({ dailyBudgetMicros: LIMITS.maxBudgetMicros, lifetimeBudgetMicros: LIMITS.maxBudgetMicros }).ok);
  assert.deepEqual(fields({ lifetimeBudgetMicros: LIMITS.maxBudgetMicros + 1 }), ['lifetimeBudgetMicros']);
  assert.deepEqual(fields({ startMs: 0 }), ['startMs'], '1970 is before 2000');
  assert.deepEqual(fields({ startMs: Date.UTC(1999, 11, 31) }), ['startMs']);
  assert.deepEqual(fields({ endMs: Date.UTC(2100, 0, 2) }), ['endMs']);
  assert.ok(check({ startMs: LIMITS.minTimeMs, endMs: LIMITS.maxTimeMs }).ok);
  const r = check({ lifetimeBudgetMicros: 2 ** 53 - 2 });
  assert.match(r.ok ? '' : r.errors[0]!.message, /between 1 and 1000000000000000/);
  assert.deepEqual(fields({ creatives: [makeCreative({ adomain: Array.from({ length: 51 }, (_, i) => `d${i}.example.com`) })] }), ['creatives[0].adomain']);
  assert.deepEqual(fields({ name: 'x'.repeat(501) }), ['name']);
});

test('validateCampaign rejects an unknown time zone', () => {
  assert.deepEqual(fields({ timezone: 'Mars/Olympus' }), ['timezone']);
  assert.ok(check({ timezone: 'America/New_York' }).ok);
});

test('validateCampaign rejects unknown status and pacing values', () => {
  assert.deepEqual(fields({ status: 'running', pacing: 'fast' }), ['status', 'pacing']);
});

test('validateCampaign names an unknown targeting type', () => {
  const r = check({ targeting: { country: ['USA'], browser: ['chrome'] } });
  assert.ok(!r.ok);
  assert.equal(r.errors[0]?.field, 'targeting.browser');
  assert.match(r.errors[0]?.message ?? '', /unknown targeting type/);
});

test('validateCampaign names each bad targeting value by index', () => {
  assert.deepEqual(fields({ targeting: { country: ['USA', 'Narnia'] } }), ['targeting.country[1]']);
  assert.deepEqual(fields({ targeting: { deviceType: ['phone'] } }), ['targeting.deviceType[0]']);
  assert.deepEqual(fields({ targeting: { size: ['300x250', '300 by 250'] } }), ['targeting.size[1]']);
  assert.deepEqual(fields({ targeting: { category: ['sports'] } }), ['targeting.category[0]']);
  assert.deepEqual(fields({ targeting: { domain: ['https://example.com/x'] } }), ['targeting.domain[0]']);
  assert.deepEqual(fields({ targeting: { interest: [7] } }), ['targeting.interest[0]']);
  assert.deepEqual(fields({ targeting: { segment: 'vip' } }), ['targeting.segment']);
});

test('validateCampaign accepts targeting values in any case and alpha-2 countries', () => {
  assert.ok(check({ targeting: { country: ['us', 'GBR'], deviceType: ['Mobile'], category: ['iab1-2', '483'], size: ['728X90'] } }).ok);
});

test('validateCampaign names bad daypart minutes and days', () => {
  assert.deepEqual(fields({ dayparting: [{ days: [1], startMinute: 600, endMinute: 600 }] }), ['dayparting[0].endMinute']);
  assert.deepEqual(fields({ dayparting: [{ days: [1], startMinute: -1, endMinute: 60 }] }), ['dayparting[0].startMinute']);
  assert.deepEqual(fields({ dayparting: [{ days: [1], startMinute: 0, endMinute: 1441 }] }), ['dayparting[0].endMinute']);
  assert.deepEqual(fields({ dayparting: [{ days: [7], startMinute: 0, endMinute: 60 }] }), ['dayparting[0].days']);
  assert.deepEqual(fields({ dayparting: [{ days: [], startMinute: 0, endMinute: 60 }] }), ['dayparting[0].days']);
});

test('validateCampaign requires at least one creative', () => {
  assert.deepEqual(fields({ creatives: [] }), ['creatives']);
  assert.deepEqual(fields({ creatives: undefined }), ['creatives']);
});

test('validateCampaign names bad creative URLs, sizes and duplicate ids', () => {
  const good = makeCampaign().creatives[0]!;
  assert.deepEqual(fields({ creatives: [{ ...good, imageUrl: 'not a url' }] }), ['creatives[0].imageUrl']);
  assert.deepEqual(fields({ creatives: [{ ...good, landingUrl: 'javascript:alert(1)' }] }), ['creatives[0].landingUrl']);
  assert.deepEqual(fields({ creatives: [good, { ...good, width: 0 }] }), ['creatives[1].width']);
  assert.deepEqual(fields({ creatives: [good, { ...good }] }), ['creatives[1].id']);
  assert.deepEqual(fields({ creatives: [{ ...good, adomain: ['not a domain'] }] }), ['creatives[0].adomain']);
});

test('validateCampaign names a bad frequency cap', () => {
  assert.deepEqual(fields({ frequencyCap: { count: 0, per: 'day' } }), ['frequencyCap.count']);
  assert.deepEqual(fields({ frequencyCap: { count: 3, per: 'week' } }), ['frequencyCap.per']);
  const r = check({ frequencyCap: { count: 3 } });
  assert.ok(r.ok);
  assert.deepEqual(r.campaign.frequencyCap, { count: 3, per: 'day' });
});

test('validateCampaign reports every problem at once, not just the first', () => {
  assert.deepEqual(fields({ name: '', dailyBudgetMicros: 0, timezone: 'Nowhere' }), ['name', 'dailyBudgetMicros', 'timezone']);
});

const vast = '<VAST version="4.0"><Ad/></VAST>';
const videoInput = (video: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'v-1', title: 'Video', landingUrl: 'https://brand.example.com/v', adomain: ['brand.example.com'],
  video: { vastXml: vast, durationSec: 15, mimes: ['video/MP4'], protocols: [7], w: 640, h: 360, ...video }, ...extra,
});

test('validateCampaign accepts a video creative (size from video.w/h, no image) and block-list fields, filling defaults', () => {
  const r = check({
    creatives: [
      { ...makeCreative(), cat: ['IAB2-1'], cattax: 2, bundle: 'com.brand.app', attr: [1, 6], video: undefined },
      videoInput({}),
      videoInput({ vastXml: undefined, vastTagUrl: 'https://ads.example.com/vast.xml' }, { id: 'v-2' }),
    ],
    deals: [{ id: 'deal-1', bidCpmMicros: 3_000_000 }, { id: 'deal-2' }],
    openAuction: false,
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  const [banner, v1, v2] = r.campaign.creatives;
  assert.deepEqual([banner!.cat, banner!.cattax, banner!.bundle, banner!.attr, banner!.video], [['IAB2-1'], 2, 'com.brand.app', [1, 6], null]);
  assert.deepEqual([v1!.width, v1!.height, v1!.imageUrl, v1!.cat, v1!.cattax, v1!.bundle], [640, 360, '', [], 1, null]);
  assert.deepEqual(v1!.video, { vastXml: vast, vastTagUrl: '', durationSec: 15, mimes: ['video/mp4'], protocols: [7] });
  assert.equal(v2!.video?.vastTagUrl, 'https://ads.example.com/vast.xml');
  assert.deepEqual(r.campaign.deals, [{ id: 'deal-1', bidCpmMicros: 3_000_000 }, { id: 'deal-2', bidCpmMicros: null }]);
  assert.equal(r.campaign.openAuction, false);
  const plain = check({ deals: undefined, openAuction: undefined });
  assert.ok(plain.ok);
  assert.deepEqual([plain.campaign.deals, plain.campaign.openAuction], [[], true]);
});

test('validateCampaign names the field of each bad video, block-list and deal value', () => {
  const cr = (extra: Record<string, unknown>) => ({ creatives: [{ ...makeCreative(), ...extra }] });
  assert.deepEqual(fields({ creatives: [videoInput({ vastTagUrl: 'https://x.example.com/v.xml' })] }), ['creatives[0].video.vastXml']);
  assert.deepEqual(fields({ creatives: [videoInput({ vastXml: '<html>' })] }), ['creatives[0].video.vastXml']);
  assert.deepEqual(fields({ creatives: [videoInput({ vastXml: undefined, vastTagUrl: 'http://x.example.com/v.xml' })] }), ['creatives[0].video.vastTagUrl']);
  assert.deepEqual(fields({ creatives: [videoInput({ durationSec: 0 })] }), ['creatives[0].video.durationSec']);
  assert.deepEqual(fields({ creatives: [videoInput({ mimes: [] })] }), ['creatives[0].video.mimes']);
  assert.deepEqual(fields({ creatives: [videoInput({ mimes: ['mp4'] })] }), ['creatives[0].video.mimes']);
  assert.deepEqual(fields({ creatives: [videoInput({ protocols: ['7'] })] }), ['creatives[0].video.protocols']);
  assert.deepEqual(fields({ creatives: [videoInput({ w: 0 })] }), ['creatives[0].video.w']);
  assert.deepEqual(fields(cr({ cat: 'IAB1' })), ['creatives[0].cat']);
  assert.deepEqual(fields(cr({ cattax: 0 })), ['creatives[0].cattax']);
  assert.deepEqual(fields(cr({ bundle: 7 })), ['creatives[0].bundle']);
  assert.deepEqual(fields(cr({ attr: [1.5] })), ['creatives[0].attr']);
  assert.deepEqual(fields({ deals: [{ id: 'd', bidCpmMicros: -1 }] }), ['deals[0].bidCpmMicros']);
  assert.deepEqual(fields({ deals: [{ id: 'd' }, { id: 'd' }] }), ['deals[1].id']);
  assert.deepEqual(fields({ deals: 'd' }), ['deals']);
  assert.deepEqual(fields({ openAuction: 'no' }), ['openAuction']);
  assert.deepEqual(fields({ openAuction: false, deals: [] }), ['openAuction']);
});
