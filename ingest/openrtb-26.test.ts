/**
 * OpenRTB 2.6 fields of issue 10: auction types, devicetype 8, duplicate imp ids, currency codes, block
 * lists, banner/video constraints, native, pmp deals, regs (and the 2.5 forms) and the privacy decision.
 * Every refusal names its field; a consent string that cannot be decoded is never one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appliedAuctionType, parseOpenRtb, type Envelope } from './openrtb.js';
import { InvalidFieldError } from './fields.js';
import { IAB_GPP_USNAT, TEST_VENDOR, gppString, tcString } from '../processors/testing/consent.fixture.js';

type Body = Record<string, unknown> & { imp: Array<Record<string, unknown>> };
const env: Envelope = { receivedAtMs: 1_700_000_000_000, ingestNodeId: 'edge-1', openrtbVersion: '2.6' };
const valid = (): Body => ({
  id: 'req-26',
  imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }],
  site: { domain: 'news.example.com' },
  device: { ip: '192.0.2.1', devicetype: 2 },
  user: { id: 'u1' },
});
const parse = (mutate: (b: Body) => void, e: Envelope = env) => {
  const b = valid();
  mutate(b);
  return parseOpenRtb(b, e);
};

function rejects(mutate: (b: Body) => void, field: string, message?: RegExp): void {
  const b = valid();
  mutate(b);
  assert.throws(() => parseOpenRtb(b, env), (e: unknown) => {
    if (!(e instanceof InvalidFieldError)) return false;
    assert.equal(e.field, field, `${JSON.stringify(b).slice(0, 300)}: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  }, `expected an error on ${field}`);
}

const imp0 = (b: Body) => b.imp[0]!;
const CONSENT_ALL = tcString([1, 2, 3, 4], [TEST_VENDOR]);

test('openrtb 2.6: at 1, 2 or >= 500; the applied type follows the exchange\'s configuration, second price by default', () => {
  for (const [at, applied] of [[1, 1], [2, 2], [500, 2], [501, 2], [9999, 2]] as const) {
    const r = parse((b) => void (b.at = at));
    assert.equal(r.at, applied, `at ${at}`);
    assert.equal(r.atRequested, at);
  }
  const absent = parse(() => undefined);
  assert.deepEqual([absent.at, absent.atRequested], [2, 0], 'absent: second price, atRequested 0');
  const configured = { ...env, auctionTypes: { 500: 1, 501: 2 } as const };
  assert.equal(parse((b) => void (b.at = 500), configured).at, 1, 'the exchange says 500 is first price');
  assert.equal(parse((b) => void (b.at = 501), configured).at, 2);
  assert.equal(parse((b) => void (b.at = 502), configured).at, 2, 'unlisted: second price');
  assert.equal(parse((b) => void (b.at = 2), configured).at, 2);
  for (const at of [3, 4, 499, 0, -1]) rejects((b) => void (b.at = at), 'at', /must be 1 \(first price\), 2 \(second price\) or an exchange-specific value >= 500/);
  for (const at of [1.5, '1', true]) rejects((b) => void (b.at = at), 'at', /must be an integer/);
  assert.equal(appliedAuctionType(null), 2);
  assert.equal(appliedAuctionType(700, { 700: 1 }), 1);
});

test('openrtb 2.6: devicetype 1..8 (8 = out-of-home)', () => {
  for (const t of [1, 7, 8]) assert.equal(parse((b) => void ((b.device as Body).devicetype = t)).device?.devicetype, t);
  for (const t of [0, 9]) rejects((b) => void ((b.device as Body).devicetype = t), 'device.devicetype', /between 1 and 8/);
});

test('openrtb 2.6: a duplicate imp id is refused naming the second one', () => {
  rejects((b) => void (b.imp = [{ id: '1' }, { id: '2' }, { id: '1' }]), 'imp[2].id', /imp\[2\]\.id duplicates imp\[0\]\.id/);
  assert.deepEqual(parse((b) => void (b.imp = [{ id: '1' }, { id: '2' }])).imp.map((i) => i.id), ['1', '2']);
});

test('openrtb 2.6: currency codes must be 3 letters and a known ISO 4217 code (cur[], imp and deal bidfloorcur)', () => {
  const r = parse((b) => {
    b.cur = ['eur', 'USD'];
    imp0(b).bidfloorcur = 'gbp';
    imp0(b).pmp = { deals: [{ id: 'd1', bidfloor: 2, bidfloorcur: 'jpy' }] };
  });
  assert.deepEqual(r.cur, ['EUR', 'USD']);
  assert.equal(r.imp[0]?.bidfloorcur, 'GBP');
  assert.equal(r.imp[0]?.pmp?.deals[0]?.bidfloorcur, 'JPY');
  rejects((b) => void (b.cur = ['USD', 'ABC']), 'cur[1]', /not a known ISO-4217 currency code/);
  rejects((b) => void (b.cur = ['US']), 'cur[0]', /3-letter/);
  rejects((b) => void (b.cur = [1]), 'cur[0]');
  rejects((b) => void (b.cur = 'USD'), 'cur', /must be an array/);
  rejects((b) => void (imp0(b).bidfloorcur = 'XYZ'), 'imp[0].bidfloorcur', /not a known ISO-4217/);
  rejects((b) => void (imp0(b).bidfloorcur = 'EURO'), 'imp[0].bidfloorcur', /3-letter/);
  rejects((b) => void (imp0(b).bidfloorcur = 978), 'imp[0].bidfloorcur');
  rejects((b) => void (b.imp = [{ id: '1' }, { id: '2', pmp: { deals: [{ id: 'd1', bidfloorcur: 'ABC' }] } }]), 'imp[1].pmp.deals[0].bidfloorcur', /not a known ISO-4217/);
});

test('openrtb 2.6: block lists bcat, badv, bapp and the category taxonomy cattax', () => {
  const r = parse((b) => Object.assign(b, { bcat: ['IAB25', 'IAB26'], badv: ['bad.example'], bapp: ['com.bad.app'], cattax: 2 }));
  assert.deepEqual([r.bcat, r.badv, r.bapp, r.cattax], [['IAB25', 'IAB26'], ['bad.example'], ['com.bad.app'], 2]);
  const d = parse(() => undefined);
  assert.deepEqual([d.bcat, d.badv, d.bapp, d.cattax], [[], [], [], 1], 'defaults: nothing blocked, IAB 1.0');
  for (const cattax of [1, 7, 500]) assert.equal(parse((b) => void (b.cattax = cattax)).cattax, cattax);
  for (const cattax of [0, 8, 499]) rejects((b) => void (b.cattax = cattax), 'cattax', /1\.\.7 or an exchange-specific value >= 500/);
  rejects((b) => void (b.cattax = '2'), 'cattax', /integer/);
  rejects((b) => void (b.bapp = [7]), 'bapp[0]');
  rejects((b) => void (b.bapp = 'com.x'), 'bapp');
  rejects((b) => void (b.badv = [null]), 'badv[0]');
});

test('openrtb 2.6: banner btype/battr and video duration bounds, protocols, battr, mimes and size', () => {
  const r = parse((b) => {
    b.imp = [
      { id: '1', banner: { w: 300, h: 250, btype: [1, 4], battr: [3, 17] } },
      { id: '2', video: { mimes: ['video/mp4'], w: 640, h: 480, minduration: 5, maxduration: 30, protocols: [2, 3, 7, 8], battr: [6] } },
    ];
  });
  assert.deepEqual([r.imp[0]?.banner?.btype, r.imp[0]?.banner?.battr], [[1, 4], [3, 17]]);
  assert.deepEqual(r.imp[1]?.video, { mimes: ['video/mp4'], w: 640, h: 480, ext: null, minduration: 5, maxduration: 30, protocols: [2, 3, 7, 8], battr: [6] });
  const open = parse((b) => void (b.imp = [{ id: '1', video: { mimes: ['video/mp4'] } }])).imp[0]?.video;
  assert.deepEqual([open?.minduration, open?.maxduration, open?.protocols, open?.battr], [null, null, [], []], 'no bounds: null and []');
  assert.equal(parse((b) => void (b.imp = [{ id: '1', video: { minduration: 15, maxduration: 15 } }])).imp[0]?.video?.maxduration, 15, 'min = max is fine');
  rejects((b) => void (imp0(b).banner = { btype: ['a'] }), 'imp[0].banner.btype[0]', /integer/);
  rejects((b) => void (imp0(b).banner = { battr: [0] }), 'imp[0].banner.battr[0]');
  rejects((b) => void (imp0(b).banner = { battr: 3 }), 'imp[0].banner.battr', /array/);
  rejects((b) => void (imp0(b).video = { minduration: 30, maxduration: 5 }), 'imp[0].video.maxduration', /not be less than minduration \(30\)/);
  rejects((b) => void (imp0(b).video = { minduration: -1 }), 'imp[0].video.minduration');
  rejects((b) => void (imp0(b).video = { maxduration: 1.5 }), 'imp[0].video.maxduration');
  rejects((b) => void (imp0(b).video = { protocols: 'VAST4' }), 'imp[0].video.protocols');
  rejects((b) => void (imp0(b).video = { protocols: [2, 'x'] }), 'imp[0].video.protocols[1]');
  rejects((b) => void (imp0(b).video = { battr: [-2] }), 'imp[0].video.battr[0]');
  rejects((b) => void (imp0(b).video = { mimes: [4] }), 'imp[0].video.mimes[0]');
  rejects((b) => void (imp0(b).video = { w: -1 }), 'imp[0].video.w');
  rejects((b) => void (imp0(b).video = 'mp4'), 'imp[0].video');
});

test('openrtb 2.6: imp.native present marks the imp native (a valid request); its object stays in ext', () => {
  const r = parse((b) => void (b.imp = [{ id: '1', native: { request: '{"ver":"1.2","assets":[]}', ver: '1.2' } }, { id: '2', banner: { w: 1, h: 1 } }]));
  assert.equal(r.imp[0]?.native, true);
  assert.equal(r.imp[1]?.native, false);
  assert.deepEqual(JSON.parse(r.imp[0]?.ext ?? 'null'), { native: { request: '{"ver":"1.2","assets":[]}', ver: '1.2' } });
  rejects((b) => void (imp0(b).native = 'x'), 'imp[0].native', /object/);
});

test('openrtb 2.6: imp.pmp with its deals (floor in micros, currency, at, wseat, wadomain)', () => {
  const r = parse((b) => void (imp0(b).pmp = {
    private_auction: 1,
    deals: [
      { id: 'deal-1', bidfloor: 2.5, bidfloorcur: 'EUR', at: 3, wseat: ['seat-1'], wadomain: ['adv.example'] },
      { id: 'deal-2' },
    ],
  }));
  assert.deepEqual(r.imp[0]?.pmp, {
    privateAuction: true,
    deals: [
      { id: 'deal-1', bidfloorMicros: 2_500_000, bidfloorcur: 'EUR', at: 3, wseat: ['seat-1'], wadomain: ['adv.example'] },
      { id: 'deal-2', bidfloorMicros: 0, bidfloorcur: 'USD', at: null, wseat: [], wadomain: [] },
    ],
  });
  assert.equal(r.imp[0]?.ext, null, 'a fully mapped pmp is not repeated in ext');
  assert.equal(parse(() => undefined).imp[0]?.pmp, null);
  assert.equal(parse((b) => void (imp0(b).pmp = { deals: [] })).imp[0]?.pmp?.privateAuction, false, 'private_auction defaults to 0');
  const kept = parse((b) => void (imp0(b).pmp = { deals: [{ id: 'd', ext: { x: 1 } }] }));
  assert.deepEqual(JSON.parse(kept.imp[0]?.ext ?? 'null'), { pmp: { deals: [{ id: 'd', ext: { x: 1 } }] } }, 'unmapped deal fields: the pmp stays whole in ext');
  assert.equal(parse((b) => void (imp0(b).pmp = { deals: [{ id: 'd', at: 600 }] })).imp[0]?.pmp?.deals[0]?.at, 600);
  const p = 'imp[0].pmp';
  rejects((b) => void (imp0(b).pmp = { private_auction: 2 }), `${p}.private_auction`, /0 or 1/);
  rejects((b) => void (imp0(b).pmp = { deals: {} }), `${p}.deals`, /array/);
  rejects((b) => void (imp0(b).pmp = { deals: [{ bidfloor: 1 }] }), `${p}.deals[0].id`, /required/);
  rejects((b) => void (imp0(b).pmp = { deals: [{ id: 'd' }, { id: 'e', bidfloor: -1 }] }), `${p}.deals[1].bidfloor`, /negative/);
  rejects((b) => void (imp0(b).pmp = { deals: [{ id: 'd', bidfloor: '1' }] }), `${p}.deals[0].bidfloor`);
  rejects((b) => void (imp0(b).pmp = { deals: [{ id: 'd', at: 4 }] }), `${p}.deals[0].at`, /1, 2 or 3 or an exchange-specific/);
  rejects((b) => void (imp0(b).pmp = { deals: [{ id: 'd', wseat: 'seat' }] }), `${p}.deals[0].wseat`);
  rejects((b) => void (imp0(b).pmp = { deals: [{ id: 'd', wadomain: [1] }] }), `${p}.deals[0].wadomain[0]`);
  rejects((b) => void (imp0(b).pmp = { deals: ['d'] }), `${p}.deals[0]`);
  rejects((b) => void (imp0(b).pmp = { deals: [null] }), `${p}.deals[0]`, /object/);
  rejects((b) => void (imp0(b).pmp = 1), p);
});

test('openrtb 2.6: regs, user.consent and device.lmt/dnt, with the 2.5 forms under ext (2.6 wins when both are sent)', () => {
  const r = parse((b) => {
    b.regs = { coppa: 0, gdpr: 1, us_privacy: '1YNN', gpp: IAB_GPP_USNAT, gpp_sid: [7] };
    (b.user as Body).consent = CONSENT_ALL;
    Object.assign(b.device as Body, { lmt: 0, dnt: 0 });
  });
  assert.deepEqual(r.regs, { coppa: false, gdpr: true, usPrivacy: '1YNN', gpp: IAB_GPP_USNAT, gppSid: [7] });
  assert.equal(r.user?.consent, CONSENT_ALL);
  assert.deepEqual([r.device?.lmt, r.device?.dnt], [false, false]);
  assert.deepEqual(r.privacy, { basis: 'consent', personalData: true });

  const v25 = parse((b) => {
    b.regs = { ext: { gdpr: 1, us_privacy: '1YYN' } };
    (b.user as Body).ext = { consent: CONSENT_ALL };
  });
  assert.deepEqual([v25.regs?.gdpr, v25.regs?.usPrivacy, v25.user?.consent], [true, '1YYN', CONSENT_ALL]);
  assert.deepEqual(JSON.parse(v25.ext ?? 'null'), { regs: { ext: { gdpr: 1, us_privacy: '1YYN' } } }, 'regs.ext kept whole');
  const both = parse((b) => {
    b.regs = { gdpr: 0, us_privacy: '1NNN', ext: { gdpr: 1, us_privacy: '1YYN' } };
    (b.user as Body).consent = 'from-2.6';
    (b.user as Body).ext = { consent: 'from-2.5' };
  });
  assert.deepEqual([both.regs?.gdpr, both.regs?.usPrivacy, both.user?.consent], [false, '1NNN', 'from-2.6']);
  const odd = parse((b) => { b.regs = { ext: 'x' }; (b.user as Body).ext = [1]; });
  assert.deepEqual([odd.regs?.gdpr, odd.user?.consent, JSON.parse(odd.user?.ext ?? 'null')], [null, null, { ext: [1] }], 'an ext that is not an object is kept, not read');
  const none = parse(() => undefined);
  assert.deepEqual([none.regs, none.user?.consent, none.device?.lmt, none.device?.dnt], [null, null, null, null]);
  assert.deepEqual(parse((b) => void (b.regs = {})).regs, { coppa: false, gdpr: null, usPrivacy: null, gpp: null, gppSid: [] });

  rejects((b) => void (b.regs = { coppa: 2 }), 'regs.coppa', /0 or 1/);
  rejects((b) => void (b.regs = { gdpr: 'yes' }), 'regs.gdpr', /0 or 1/);
  rejects((b) => void (b.regs = { ext: { gdpr: 3 } }), 'regs.ext.gdpr', /0 or 1/);
  rejects((b) => void (b.regs = { us_privacy: 1 }), 'regs.us_privacy', /string/);
  rejects((b) => void (b.regs = { ext: { us_privacy: ['1YNN'] } }), 'regs.ext.us_privacy', /string/);
  rejects((b) => void (b.regs = { gpp: {} }), 'regs.gpp', /string/);
  rejects((b) => void (b.regs = { gpp_sid: ['2'] }), 'regs.gpp_sid[0]', /integer/);
  rejects((b) => void (b.regs = { gpp_sid: 7 }), 'regs.gpp_sid', /array/);
  rejects((b) => void (b.regs = 'gdpr'), 'regs', /object/);
  rejects((b) => void ((b.user as Body).consent = 1), 'user.consent', /string/);
  rejects((b) => void ((b.user as Body).ext = { consent: false }), 'user.ext.consent', /string/);
  rejects((b) => void ((b.device as Body).lmt = 2), 'device.lmt', /0 or 1/);
  rejects((b) => void ((b.device as Body).dnt = 'no'), 'device.dnt', /0 or 1/);
});

test('openrtb 2.6: every request carries its privacy decision', () => {
  const basis = (mutate: (b: Body) => void, e: Envelope = env) => parse(mutate, e).privacy?.basis;
  assert.deepEqual(parse(() => undefined).privacy, { basis: 'unrestricted', personalData: true });
  assert.equal(basis((b) => void (b.regs = { coppa: 1 })), 'coppa');
  assert.deepEqual(parse((b) => void (b.regs = { coppa: 1 })).privacy, { basis: 'coppa', personalData: false });
  assert.equal(basis((b) => void ((b.device as Body).lmt = 1)), 'lmt');
  assert.equal(basis((b) => void ((b.device as Body).dnt = 1)), 'lmt');
  assert.equal(basis((b) => void (b.regs = { gdpr: 1 })), 'gdpr_no_consent');
  assert.equal(basis((b) => { b.regs = { gdpr: 1 }; (b.user as Body).consent = CONSENT_ALL; }), 'consent');
  assert.equal(basis((b) => { b.regs = { gdpr: 1 }; (b.user as Body).consent = tcString([1, 4], [TEST_VENDOR]); }), 'gdpr_no_consent');
  assert.equal(basis((b) => { b.regs = { gdpr: 1 }; (b.user as Body).consent = CONSENT_ALL; }, { ...env, gvlVendorId: 42 }), 'gdpr_no_consent', 'INGEST_GVL_VENDOR_ID not consented');
  assert.equal(basis((b) => { b.regs = { gdpr: 1 }; (b.user as Body).consent = CONSENT_ALL; }, { ...env, gvlVendorId: TEST_VENDOR }), 'consent');
  assert.equal(basis((b) => void (b.regs = { us_privacy: '1YYN' })), 'us_privacy_opt_out');
  assert.equal(basis((b) => void (b.regs = { gpp: gppString('usnat', { SaleOptOut: 1 }), gpp_sid: [7] })), 'gpp_opt_out');
  assert.equal(basis((b) => void (b.regs = { gpp: IAB_GPP_USNAT, gpp_sid: [7] })), 'unrestricted');
});

test('openrtb 2.6: a malformed consent string is not a 400: it means no consent (or opted out)', () => {
  const basis = (mutate: (b: Body) => void) => parse(mutate).privacy?.basis;
  for (const consent of ['garbage', '', 'CO....', '!!!', 'BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA']) {
    assert.equal(basis((b) => { b.regs = { gdpr: 1 }; (b.user as Body).consent = consent; }), 'gdpr_no_consent', consent);
  }
  for (const usPrivacy of ['zzz', '', '1YYNN']) assert.equal(basis((b) => void (b.regs = { us_privacy: usPrivacy })), 'us_privacy_opt_out', usPrivacy);
  for (const gpp of ['DBABL~!!!', 'not-gpp', '']) assert.equal(basis((b) => void (b.regs = { gpp, gpp_sid: [7] })), 'gpp_opt_out', gpp);
});
