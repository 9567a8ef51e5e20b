import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Campaign, Targeting } from '../domain/campaign.js';
import { makeCampaign } from '../testing/campaign.fixture.js';
import { CampaignIndex } from './campaign-index.js';
import { mulberry32 as prng } from '../runtime/seeded-random.js';
import { matchesTargeting, normalizeTargeting, requestAttributes } from './targeting.js';
import type { BidRequestView, ImpView, UserProfile } from './types.js';


const VOCAB = {
  country: ['USA', 'us', 'DEU', 'fra', 'GB', 'JPN'],
  deviceType: ['mobile', 'desktop', 'tablet', 'ctv'],
  interest: ['sports', 'Travel', 'cars', 'food', 'music'],
  segment: ['vip', 'new', 'churn-risk'],
  domain: ['example.com', 'news.example.com', 'other.org', 'shop.io'],
  category: ['IAB1', 'IAB1-2', 'IAB2', 'IAB3-1'],
  size: ['300x250', '728x90', '320x50'],
} as const;

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function randomTargeting(rand: () => number): Targeting {
  const t: Record<string, string[]> = {};
  for (const [dim, values] of Object.entries(VOCAB)) {
    if (rand() < 0.6) continue; // most campaigns leave most dimensions open
    const n = 1 + Math.floor(rand() * 3);
    t[dim] = Array.from({ length: n }, () => pick(rand, values));
  }
  return t;
}

function randomCampaign(rand: () => number, i: number, version = 1): Campaign {
  const status = rand() < 0.85 ? 'active' : pick(rand, ['paused', 'ended'] as const);
  return makeCampaign({ id: `c-${i}`, status, targeting: randomTargeting(rand), updatedAtMs: version });
}

function randomRequest(rand: () => number, i: number): { request: BidRequestView; imp: ImpView; profile: UserProfile | null } {
  const maybe = <T>(v: T): T | null => (rand() < 0.15 ? null : v);
  const imp: ImpView = { id: '1', bidFloorMicros: 0, formats: [{ w: 300, h: 250 }, { w: 728, h: 90 }, { w: 320, h: 50 }].filter(() => rand() < 0.5) };
  const request: BidRequestView = {
    id: `r-${i}`, imps: [imp], userId: 'u',
    country: maybe(pick(rand, ['USA', 'US', 'deu', 'FR', 'GBR', 'BRA'])),
    deviceType: maybe(pick(rand, [1, 2, 3, 4, 5, 'desktop'] as const)),
    domain: maybe(pick(rand, ['example.com', 'news.example.com', 'a.news.example.com', 'other.org', 'blog.shop.io', 'nope.net'])),
    categories: rand() < 0.2 ? [] : [pick(rand, ['IAB1', 'IAB1-2', 'IAB1-3', 'IAB2-5', 'IAB3', 'IAB3-1'])],
  };
  const profile = rand() < 0.2 ? null : { interests: VOCAB.interest.filter(() => rand() < 0.4).map((s) => s.toUpperCase()), segments: VOCAB.segment.filter(() => rand() < 0.4) };
  return { request, imp, profile };
}

function bruteForce(catalogue: Map<string, Campaign>, attrs: ReturnType<typeof requestAttributes>): string[] {
  return [...catalogue.values()].filter((c) => c.status === 'active' && matchesTargeting(normalizeTargeting(c.targeting), attrs)).map((c) => c.id).sort();
}

test('campaign-index candidates equal a brute-force scan over a random catalogue, with churn', () => {
  const rand = prng(20240601);
  const catalogue = new Map<string, Campaign>();
  for (let i = 0; i < 500; i++) catalogue.set(`c-${i}`, randomCampaign(rand, i));
  const index = new CampaignIndex(catalogue.values());
  let matched = 0;
  let possible = 0;
  for (let r = 0; r < 2000; r++) {
    if (r % 100 === 50) {
      // Campaign changes arrive mid-stream: replace, pause and delete some.
      for (let k = 0; k < 20; k++) {
        const i = Math.floor(rand() * 500);
        if (rand() < 0.2) {
          catalogue.delete(`c-${i}`);
          index.remove(`c-${i}`);
        } else {
          const c = randomCampaign(rand, i, r);
          catalogue.set(c.id, c);
          index.upsert(c);
        }
      }
    }
    const { request, imp, profile } = randomRequest(rand, r);
    const attrs = requestAttributes(request, imp, profile);
    const expected = bruteForce(catalogue, attrs);
    const actual = index.candidates(attrs).map((e) => e.campaign.id).sort();
    assert.deepEqual(actual, expected, `request ${r}`);
    matched += expected.length;
    possible += index.size;
  }
  // Guard against a vacuous pass: the generator must produce both real matches and real misses.
  const fraction = matched / possible;
  assert.ok(fraction > 0.02 && fraction < 0.5, `fraction of the catalogue matched: ${fraction}`);
  assert.equal(index.size, [...catalogue.values()].filter((c) => c.status === 'active').length);
});

const everyone = requestAttributes({ id: 'r', imps: [], country: 'USA' }, { id: '1', bidFloorMicros: 0, w: 300, h: 250 }, null);

test('campaign-index does not index paused or ended campaigns', () => {
  const index = new CampaignIndex([makeCampaign({ id: 'a', status: 'paused' }), makeCampaign({ id: 'b', status: 'ended' }), makeCampaign({ id: 'c' })]);
  assert.deepEqual(index.candidates(everyone).map((e) => e.campaign.id), ['c']);
});

test('campaign-index upsert replaces targeting and pausing removes the campaign', () => {
  const index = new CampaignIndex([makeCampaign({ id: 'a', targeting: { country: ['DEU'] } })]);
  assert.equal(index.candidates(everyone).length, 0);
  assert.ok(index.upsert(makeCampaign({ id: 'a', targeting: { country: ['USA'] }, updatedAtMs: 2 })));
  assert.equal(index.candidates(everyone).length, 1);
  assert.ok(index.upsert(makeCampaign({ id: 'a', status: 'paused', updatedAtMs: 3 })));
  assert.equal(index.candidates(everyone).length, 0);
  assert.equal(index.size, 0);
});

test('campaign-index ignores an update older than the applied one', () => {
  const index = new CampaignIndex([makeCampaign({ id: 'a', status: 'paused', updatedAtMs: 10 })]);
  assert.equal(index.upsert(makeCampaign({ id: 'a', status: 'active', updatedAtMs: 9 })), false);
  assert.equal(index.size, 0);
  assert.equal(index.upsert(makeCampaign({ id: 'a', status: 'active', updatedAtMs: 10 })), true);
  assert.equal(index.size, 1);
});

test('campaign-index remove forgets the campaign and its version', () => {
  const index = new CampaignIndex([makeCampaign({ id: 'a', updatedAtMs: 10 })]);
  assert.equal(index.remove('a'), true);
  assert.equal(index.remove('a'), false);
  assert.equal(index.get('a'), undefined);
  assert.ok(index.upsert(makeCampaign({ id: 'a', updatedAtMs: 1 })), 'a re-created campaign starts a new version history');
});

test('campaign-index returns a campaign once even when several of its rules match', () => {
  const index = new CampaignIndex([makeCampaign({ id: 'a', targeting: { domain: ['example.com', 'news.example.com'] } })]);
  const attrs = requestAttributes({ id: 'r', imps: [], domain: 'news.example.com' }, { id: '1', bidFloorMicros: 0 }, null);
  assert.equal(index.candidates(attrs).length, 1);
});
