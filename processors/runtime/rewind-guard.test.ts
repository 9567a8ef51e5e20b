import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RewindGuard } from './rewind-guard.js';

const msgs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ offset: String(from + i) }));

test('rewind guard: nothing is dropped before this process committed anything for the partition', () => {
  const g = new RewindGuard();
  assert.equal(g.filter('t', 0, msgs(0, 9)).kept.length, 10);
});

test('rewind guard: a consumer reset to the start hands over records below the committed offset: those are dropped, the rest kept', () => {
  const g = new RewindGuard();
  g.committedNext('t', 0, '100');
  const { kept, skipped } = g.filter('t', 0, msgs(95, 104));
  assert.deepEqual(kept.map((m) => m.offset), ['100', '101', '102', '103', '104']);
  assert.equal(skipped, 5);
  assert.equal(g.filter('t', 0, msgs(0, 49)).kept.length, 0, 'a whole batch from the start is dropped');
});

test('rewind guard: a batch read again after an abort starts at the committed offset and is kept whole', () => {
  const g = new RewindGuard();
  g.committedNext('t', 3, '40');
  const { kept, skipped } = g.filter('t', 3, msgs(40, 59));
  assert.equal(kept.length, 20);
  assert.equal(skipped, 0);
});

test('rewind guard: per topic and partition; the committed offset only moves forward', () => {
  const g = new RewindGuard();
  g.committedNext('t', 0, '100');
  g.committedNext('t', 0, '50');
  assert.equal(g.filter('t', 0, msgs(60, 69)).kept.length, 0, 'an older commit (from a stale batch) does not move it back');
  assert.equal(g.filter('t', 1, msgs(0, 9)).kept.length, 10, 'another partition');
  assert.equal(g.filter('u', 0, msgs(0, 9)).kept.length, 10, 'another topic');
  g.committedNext('t', 0, '18446744073709551000');
  assert.equal(g.filter('t', 0, msgs(100, 101)).kept.length, 0, 'offsets compare as 64-bit integers, not numbers or strings');
});
