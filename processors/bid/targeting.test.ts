import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Targeting } from '../domain/campaign.js';
import type { BidRequestView, ImpView, UserProfile } from './types.js';
import { categoryKeys, domainKeys, impSizes, matchesTargeting, normalizeDeviceType, normalizeDomain, normalizeTargeting, requestAttributes } from './targeting.js';

const imp: ImpView = { id: '1', bidFloorMicros: 0, w: 300, h: 250 };
const request: BidRequestView = { id: 'r1', imps: [imp], country: 'USA', deviceType: 4, domain: 'news.example.com', categories: ['IAB1-2'], userId: 'u1' };
const profile: UserProfile = { interests: ['Sports', 'travel'], segments: ['VIP'] };

function matches(t: Targeting, req: Partial<BidRequestView> = {}, prof: UserProfile | null = profile, i: ImpView = imp): boolean {
  return matchesTargeting(normalizeTargeting(t), requestAttributes({ ...request, ...req }, i, prof));
}

test('targeting with no rules matches everyone, even an empty request', () => {
  assert.ok(matches({}));
  assert.ok(matches({ country: [], size: [] }, { country: null, deviceType: null, domain: null, categories: [] }, null, { id: '1', bidFloorMicros: 0 }));
});

test('targeting ORs rules of one type', () => {
  assert.ok(matches({ country: ['DEU', 'USA'] }));
  assert.ok(!matches({ country: ['DEU', 'FRA'] }));
});

test('targeting ANDs rules across types', () => {
  assert.ok(matches({ country: ['USA'], deviceType: ['mobile'] }));
  assert.ok(!matches({ country: ['USA'], deviceType: ['desktop'] }));
  assert.ok(!matches({ country: ['FRA'], deviceType: ['mobile'] }));
});

test('targeting is case-insensitive on both sides', () => {
  assert.ok(matches({ interest: ['SPORTS'], segment: ['vip'], domain: ['EXAMPLE.COM'] }));
  assert.ok(matches({ deviceType: ['Mobile'] }, { deviceType: 'MOBILE' }));
});

test('targeting accepts alpha-2 and alpha-3 countries interchangeably', () => {
  assert.ok(matches({ country: ['us'] }, { country: 'USA' }));
  assert.ok(matches({ country: ['USA'] }, { country: 'us' }));
  assert.ok(matches({ country: ['GB'] }, { country: 'gb' }));
  assert.ok(!matches({ country: ['USA'] }, { country: 'ZZ' }));
});

test('targeting on a dimension the request lacks does not match', () => {
  assert.ok(!matches({ country: ['USA'] }, { country: null }));
  assert.ok(!matches({ interest: ['sports'] }, {}, null));
});

test('targeting domain rule matches the domain and its subdomains only', () => {
  assert.ok(matches({ domain: ['example.com'] }, { domain: 'example.com' }));
  assert.ok(matches({ domain: ['example.com'] }, { domain: 'a.b.example.com' }));
  assert.ok(!matches({ domain: ['example.com'] }, { domain: 'badexample.com' }));
  assert.ok(!matches({ domain: ['news.example.com'] }, { domain: 'example.com' }));
  assert.ok(matches({ domain: ['example.com'] }, { domain: 'https://www.example.com:8443/path?q=1' }));
});

test('targeting IAB parent category matches its children but not the reverse', () => {
  assert.ok(matches({ category: ['IAB1'] }, { categories: ['IAB1-2'] }));
  assert.ok(matches({ category: ['iab1-2'] }, { categories: ['IAB1-2'] }));
  assert.ok(!matches({ category: ['IAB1-3'] }, { categories: ['IAB1-2'] }));
  assert.ok(!matches({ category: ['IAB1-2'] }, { categories: ['IAB1'] }));
  assert.ok(!matches({ category: ['IAB1'] }, { categories: ['IAB12'] }));
});

test('targeting sizes come from banner w/h and format[]', () => {
  const withFormats: ImpView = { id: '2', bidFloorMicros: 0, formats: [{ w: 728, h: 90 }, { w: 300, h: 250 }] };
  assert.ok(matches({ size: ['728x90'] }, {}, profile, withFormats));
  assert.ok(matches({ size: ['300X250'] }, {}, profile, withFormats));
  assert.ok(!matches({ size: ['160x600'] }, {}, profile, withFormats));
  assert.ok(matches({ size: ['300x250'] }));
});

test('targeting normalises OpenRTB device types through the table', () => {
  assert.equal(normalizeDeviceType(1), 'mobile');
  assert.equal(normalizeDeviceType(2), 'desktop');
  assert.equal(normalizeDeviceType(3), 'ctv');
  assert.equal(normalizeDeviceType(4), 'mobile');
  assert.equal(normalizeDeviceType(5), 'tablet');
  assert.equal(normalizeDeviceType(6), 'connected-device');
  assert.equal(normalizeDeviceType(7), 'set-top-box');
  assert.equal(normalizeDeviceType('5'), 'tablet');
  assert.equal(normalizeDeviceType(9), null);
  assert.ok(!matches({ deviceType: ['mobile'] }, { deviceType: 5 }));
});

test('targeting rule list of only unusable values matches nobody, not everyone', () => {
  assert.ok(!matches({ country: ['Narnia'] }));
});

test('targeting helpers expand domains and categories and dedupe sizes', () => {
  assert.deepEqual(domainKeys('a.example.com'), ['a.example.com', 'example.com', 'com']);
  assert.deepEqual(categoryKeys('IAB1-2'), ['iab1-2', 'iab1']);
  assert.deepEqual(categoryKeys('483'), ['483']);
  assert.equal(normalizeDomain('Example.COM.'), 'example.com');
  assert.deepEqual(impSizes({ id: 'x', bidFloorMicros: 0, w: 300, h: 250, formats: [{ w: 300, h: 250 }, { w: 0, h: 5 }, { w: 728, h: 90 }] }), [{ w: 300, h: 250 }, { w: 728, h: 90 }]);
});
