import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartIndex } from './lag.js';

test('PartIndex finds the part of a record by partition, offset range and window, and nothing outside them', () => {
  const idx = new PartIndex([
    { partition: 0, first: 10, last: 19, windowStartMs: 60_000, appliedMs: 2000 },
    { partition: 0, first: 0, last: 9, windowStartMs: 60_000, appliedMs: 1000 },
    // One batch straddling a window boundary: two parts with the same range.
    { partition: 0, first: 20, last: 29, windowStartMs: 60_000, appliedMs: 3000 },
    { partition: 0, first: 20, last: 29, windowStartMs: 120_000, appliedMs: 3001 },
    { partition: 1, first: 5, last: 5, windowStartMs: 60_000, appliedMs: 4000 },
  ]);
  assert.equal(idx.appliedAt(0, 0, 60_000), 1000);
  assert.equal(idx.appliedAt(0, 19, 60_000), 2000);
  assert.equal(idx.appliedAt(0, 25, 60_000), 3000);
  assert.equal(idx.appliedAt(0, 25, 120_000), 3001);
  assert.equal(idx.appliedAt(0, 25, 180_000), null, 'no part for that window');
  assert.equal(idx.appliedAt(0, 30, 60_000), null, 'past the last batch');
  assert.equal(idx.appliedAt(1, 4, 60_000), null, 'before the first batch');
  assert.equal(idx.appliedAt(1, 5, 60_000), 4000);
  assert.equal(idx.appliedAt(2, 5, 60_000), null, 'unknown partition');
});
