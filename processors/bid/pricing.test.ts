import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performanceMultiplierPpm, priceBid, smoothedCtrPpm } from './pricing.js';

test('pricing gives a new campaign exactly the prior: multiplier 1.0', () => {
  assert.equal(performanceMultiplierPpm(undefined), 1_000_000);
  assert.equal(performanceMultiplierPpm({ impressions: 0, clicks: 0 }), 1_000_000);
  assert.equal(smoothedCtrPpm({ impressions: 0, clicks: 0 }), 1_000);
});

test('pricing smooths a small sample towards the prior', () => {
  // 1 click in 10 impressions is 10% raw, but (1 + 1) / (10 + 1000) ≈ 0.198%.
  assert.equal(smoothedCtrPpm({ impressions: 10, clicks: 1 }), 1_980);
  assert.equal(performanceMultiplierPpm({ impressions: 10, clicks: 1 }), 1_980_198);
});

test('pricing multiplier follows observed CTR with enough data', () => {
  // 0.15% CTR over 99,000 impressions: (148.5 → 148 clicks + 1) / 100,000 = 0.149%.
  assert.equal(performanceMultiplierPpm({ impressions: 99_000, clicks: 148 }), 1_490_000);
  assert.equal(performanceMultiplierPpm({ impressions: 9_000, clicks: 6 }), 700_000);
});

test('pricing clamps the multiplier to [0.5, 2.0]', () => {
  assert.equal(performanceMultiplierPpm({ impressions: 1_000_000, clicks: 0 }), 500_000);
  assert.equal(performanceMultiplierPpm({ impressions: 100_000, clicks: 5_000 }), 2_000_000);
});

test('pricing caps clicks at impressions and survives huge counts', () => {
  assert.equal(performanceMultiplierPpm({ impressions: 0, clicks: 50 }), 1_000_000);
  const m = performanceMultiplierPpm({ impressions: 4_000_000_000, clicks: 5_000_000 });
  assert.equal(m, 1_249_999);
});

test('pricing priceBid multiplies in integers and rounds down once', () => {
  assert.equal(priceBid({ baseCpmMicros: 2_000_000, perfPpm: 1_500_000, floorMicros: 0 }), 3_000_000);
  // 3 × 1.5 × 0.666667 = 3.0000015 → 3; rounding after each factor would give floor(4 × 0.666667) = 2.
  assert.equal(priceBid({ baseCpmMicros: 3, perfPpm: 1_500_000, pacingPpm: 666_667, floorMicros: 0 }), 3);
  // 3 × 0.5 = 1.5 → 1, never rounded up.
  assert.equal(priceBid({ baseCpmMicros: 3, perfPpm: 500_000, floorMicros: 0 }), 1);
  const big = priceBid({ baseCpmMicros: 9_000_000_000_000, perfPpm: 2_000_000, pacingPpm: 999_999, floorMicros: 0 });
  assert.equal(big, 17_999_982_000_000);
});

test('pricing skips a campaign whose price falls below the floor', () => {
  assert.equal(priceBid({ baseCpmMicros: 2_000_000, perfPpm: 500_000, floorMicros: 1_000_001 }), null);
  assert.equal(priceBid({ baseCpmMicros: 2_000_000, perfPpm: 500_000, floorMicros: 1_000_000 }), 1_000_000);
});

test('pricing never returns a zero price', () => {
  assert.equal(priceBid({ baseCpmMicros: 1, perfPpm: 500_000, floorMicros: 0 }), null);
});
