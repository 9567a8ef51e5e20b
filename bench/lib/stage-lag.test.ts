import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentiles } from './stage-lag.js';

test('percentiles are nearest-rank and null for no values', () => {
  assert.equal(percentiles([]), null);
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(percentiles(values), { count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
});
