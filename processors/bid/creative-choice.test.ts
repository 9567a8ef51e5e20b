import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseCreative, fnv1a32 } from './creative-choice.js';

test('creative-choice fnv1a32 matches the reference vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

// Which creatives fit the slot moved to creative-fit.ts (creative-fit.test.ts covers sizes and formats);
// the choice among the allowed ones is unchanged.
test('creative-choice picks among the allowed creatives only, and none from an empty list', () => {
  for (let i = 0; i < 50; i++) {
    const c = chooseCreative(['a', 'c'], `r${i}`);
    assert.ok(c === 'a' || c === 'c');
  }
  assert.equal(chooseCreative(['b'], 'x'), 'b');
  assert.equal(chooseCreative([], 'x'), null);
});

test('creative-choice builds the seed only when there is a choice', () => {
  assert.equal(chooseCreative(['d'], () => assert.fail('seed built for a single creative')), 'd');
});

test('creative-choice is deterministic per seed and spreads across seeds', () => {
  const allowed = ['a', 'c'];
  assert.equal(chooseCreative(allowed, 'req-1'), chooseCreative(allowed, 'req-1'));
  const seen = new Set<string | null>();
  for (let i = 0; i < 100; i++) seen.add(chooseCreative(allowed, `req-${i}`));
  assert.deepEqual([...seen].sort(), ['a', 'c']);
});
