import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCreative } from '../testing/campaign.fixture.js';
import { chooseCreative, fnv1a32 } from './creative-choice.js';

const creatives = [
  makeCreative({ id: 'a', width: 300, height: 250 }),
  makeCreative({ id: 'b', width: 728, height: 90 }),
  makeCreative({ id: 'c', width: 300, height: 250 }),
  makeCreative({ id: 'd', width: 320, height: 50 }),
];

test('creative-choice fnv1a32 matches the reference vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('creative-choice picks only creatives whose size the slot accepts', () => {
  for (let i = 0; i < 50; i++) {
    const c = chooseCreative(creatives, [{ w: 300, h: 250 }], `r${i}`);
    assert.ok(c?.id === 'a' || c?.id === 'c');
  }
  assert.equal(chooseCreative(creatives, [{ w: 728, h: 90 }], 'x')?.id, 'b');
  assert.equal(chooseCreative(creatives, [{ w: 160, h: 600 }], 'x'), null);
  assert.equal(chooseCreative(creatives, [], 'x'), null);
});

test('creative-choice considers every accepted format size', () => {
  const c = chooseCreative(creatives, [{ w: 160, h: 600 }, { w: 320, h: 50 }], 'x');
  assert.equal(c?.id, 'd');
});

test('creative-choice is deterministic per seed and spreads across seeds', () => {
  const sizes = [{ w: 300, h: 250 }];
  assert.equal(chooseCreative(creatives, sizes, 'req-1')?.id, chooseCreative(creatives, sizes, 'req-1')?.id);
  const seen = new Set<string | undefined>();
  for (let i = 0; i < 100; i++) seen.add(chooseCreative(creatives, sizes, `req-${i}`)?.id);
  assert.deepEqual([...seen].sort(), ['a', 'c']);
});
