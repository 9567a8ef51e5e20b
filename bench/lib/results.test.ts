import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentiles } from './results.js';

test('percentiles are nearest-rank and null for no values', () => {
  assert.equal(percentiles([]), null);
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(percentiles(values), { count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
});

test('median ignores nulls, takes the middle of an odd count and averages an even one (rounded unless asked not to)', () => {
  assert.equal(median([]), null);
  assert.equal(median([null, null]), null);
  assert.equal(median([3, null, 1, 2]), 2);
  assert.equal(median([1.5, 2.5, 9]), 2.5);
  assert.equal(median([1, 2]), 2);
  assert.equal(median([1, 2], false), 1.5);
  assert.equal(median([20.4, 19.1, 27.3, 26.9], false), (20.4 + 26.9) / 2);
});
