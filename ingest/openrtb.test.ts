import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpenRtb } from './openrtb.js';
import { InvalidFieldError } from './fields.js';

const env = { receivedAtMs: 1_700_000_000_000, ingestNodeId: 'edge-1', openrtbVersion: '2.6' };
const valid = () => ({
  id: 'req-1',
  imp: [{ id: '1', banner: { w: 300, h: 250, format: [{ w: 320, h: 50 }] }, bidfloor: 0.5, bidfloorcur: 'usd', tagid: 't', secure: 1 }],
  site: { id: 's', domain: 'news.example.com', page: 'https://news.example.com/a', cat: ['IAB1-2'], publisher: { id: 'p1', name: 'P' } },
  device: { ua: 'UA', ip: '192.0.2.1', devicetype: 4, os: 'iOS', geo: { country: 'usa', region: 'CA', city: 'SF' } },
  user: { id: 'u1', buyeruid: 'b1', keywords: 'sports, travel', data: [{ id: 'd', segment: [{ id: 'seg1' }, { id: 'seg2', name: 'n' }] }] },
  tmax: 120,
  at: 1,
  cur: ['USD'],
  bcat: ['IAB25'],
  badv: ['bad.com'],
  test: 0,
});

function rejects(mutate: (b: ReturnType<typeof valid>) => unknown, field: string): void {
  const b = valid();
  const body = mutate(b) ?? b;
  assert.throws(() => parseOpenRtb(body, env), (e: unknown) => e instanceof InvalidFieldError && e.field === field, `expected an error on ${field}`);
}

test('openrtb maps every field, converting the floor to integer micros', () => {
  const r = parseOpenRtb(valid(), env);
  assert.equal(r.id, 'req-1');
  assert.equal(r.imp[0]?.bidfloorMicros, 500_000);
  assert.equal(r.imp[0]?.bidfloorcur, 'USD');
  assert.deepEqual(r.imp[0]?.banner, { w: 300, h: 250, format: [{ w: 320, h: 50 }], ext: null, btype: [], battr: [] });
  assert.equal(r.imp[0]?.secure, true);
  assert.equal(r.site?.publisherId, 'p1');
  assert.equal(r.device?.geo?.country, 'USA');
  assert.deepEqual(r.user?.segments, ['seg1', 'seg2']);
  assert.deepEqual(r.user?.interests, ['sports', 'travel']);
  assert.equal(r.at, 1);
  assert.equal(r.tmax, 120);
  assert.equal(r.test, false);
  assert.equal(r.receivedAtMs, env.receivedAtMs);
  assert.equal(r.sourceFormat, 'OPENRTB');
  assert.equal(r.openrtbVersion, '2.6');
});

test('openrtb keeps unknown fields as ext JSON at each level', () => {
  // Issue 10: regs is mapped now; a regs with unmapped fields (no ext of its own) stays whole in the request's ext.
  const b = { ...valid(), ext: { prebid: { x: 1 } }, regs: { coppa: 1, ext: { dsa: { required: 1 } } } };
  (b.imp[0] as Record<string, unknown>).instl = 1;
  const r = parseOpenRtb(b, env);
  assert.deepEqual(JSON.parse(r.ext ?? 'null'), { ext: { prebid: { x: 1 } }, regs: { coppa: 1, ext: { dsa: { required: 1 } } } });
  assert.equal(r.regs?.coppa, true);
  assert.equal(parseOpenRtb({ ...valid(), regs: { coppa: 1 } }, env).ext, null, 'a fully mapped regs is not repeated in ext');
  assert.deepEqual(JSON.parse(r.imp[0]?.ext ?? 'null'), { instl: 1 });
  assert.deepEqual(JSON.parse(r.user?.ext ?? 'null').data[0].segment[1], { id: 'seg2', name: 'n' });
  assert.equal(r.site?.ext, null, 'publisher is mapped, so nothing else is left on site');
});

test('openrtb defaults the auction type to second price and the floor to zero', () => {
  const b = valid() as Record<string, unknown>;
  delete b.at;
  delete (b.imp as Record<string, unknown>[])[0]?.bidfloor;
  const r = parseOpenRtb(b, env);
  assert.equal(r.at, 2);
  assert.equal(r.imp[0]?.bidfloorMicros, 0);
});

test('openrtb rejects a missing id, no impressions and a negative floor, naming the field', () => {
  rejects((b) => ({ ...b, id: undefined }), 'id');
  rejects((b) => ({ ...b, id: '' }), 'id');
  rejects((b) => ({ ...b, imp: [] }), 'imp');
  rejects((b) => ({ ...b, imp: undefined }), 'imp');
  rejects((b) => { (b.imp[0] as Record<string, unknown>).bidfloor = -1; }, 'imp[0].bidfloor');
  rejects((b) => { (b.imp[0] as Record<string, unknown>).id = undefined; }, 'imp[0].id');
});

test('openrtb rejects wrong types naming the field', () => {
  rejects((b) => ({ ...b, id: 42 }), 'id');
  rejects((b) => ({ ...b, imp: {} }), 'imp');
  rejects((b) => ({ ...b, tmax: '100' }), 'tmax');
  rejects((b) => ({ ...b, at: 3 }), 'at');
  rejects((b) => ({ ...b, cur: 'USD' }), 'cur');
  rejects((b) => ({ ...b, bcat: [1] }), 'bcat[0]');
  rejects((b) => { (b.imp[0] as Record<string, unknown>).bidfloor = '0.5'; }, 'imp[0].bidfloor');
  rejects((b) => { (b.imp[0]!.banner as Record<string, unknown>).w = 1.5; }, 'imp[0].banner.w');
  rejects((b) => { b.imp[0]!.banner.format = [{ w: 1 } as { w: number; h: number }]; }, 'imp[0].banner.format[0]');
  rejects((b) => { (b.device as Record<string, unknown>).devicetype = 99; }, 'device.devicetype');
  rejects((b) => { (b.device.geo as Record<string, unknown>).country = 'United States'; }, 'device.geo.country');
  rejects((b) => ({ ...b, user: 'u1' }), 'user');
});

test('openrtb rejects site and app together', () => {
  rejects((b) => ({ ...b, app: { bundle: 'com.x' } }), 'site');
});

test('openrtb rejects huge numbers instead of overflowing micros', () => {
  rejects((b) => { (b.imp[0] as Record<string, unknown>).bidfloor = 1e308; }, 'imp[0].bidfloor');
  rejects((b) => ({ ...b, tmax: 1e20 }), 'tmax');
});

test('openrtb rejects a non-object body', () => {
  for (const body of [null, [], 'x', 1, true]) {
    assert.throws(() => parseOpenRtb(body, env), InvalidFieldError);
  }
});

test('openrtb rejects strings that are not valid Unicode (a lone surrogate cannot become UTF-8)', () => {
  rejects((b) => void (b.site.domain = 'news\ud800.example.com'), 'site.domain');
  rejects((b) => void (b.user.id = '\udc00u'), 'user.id');
  rejects((b) => void (b.site.cat = ['IAB1', 'x\ud83d']), 'site.cat[1]');
  // A proper surrogate pair (an emoji) is fine.
  const ok = valid();
  ok.site.page = 'https://news.example.com/\ud83d\ude00';
  assert.equal(parseOpenRtb(ok, env).site?.page, 'https://news.example.com/😀');
});
