import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCampaign } from '../testing/campaign.fixture.js';
import { dayElapsedPpm, pacingFactorPpm } from './pacing.js';

const daily = 100_000_000;

test('pacing asap bids fully until the daily budget is spent', () => {
  assert.equal(pacingFactorPpm({ mode: 'asap', dailyBudgetMicros: daily, spentTodayMicros: daily - 1, elapsedPpm: 0 }), 1_000_000);
  assert.equal(pacingFactorPpm({ mode: 'asap', dailyBudgetMicros: daily, spentTodayMicros: daily, elapsedPpm: 0 }), 0);
});

test('pacing even returns 0 once the daily budget is spent, even late in the day', () => {
  assert.equal(pacingFactorPpm({ mode: 'even', dailyBudgetMicros: daily, spentTodayMicros: daily, elapsedPpm: 1_000_000 }), 0);
  assert.equal(pacingFactorPpm({ mode: 'even', dailyBudgetMicros: daily, spentTodayMicros: daily + 5, elapsedPpm: 999_999 }), 0);
});

test('pacing even bids fully when on or behind target', () => {
  // Half the day gone, 40% spent: behind.
  assert.equal(pacingFactorPpm({ mode: 'even', dailyBudgetMicros: daily, spentTodayMicros: 40_000_000, elapsedPpm: 500_000 }), 1_000_000);
  assert.equal(pacingFactorPpm({ mode: 'even', dailyBudgetMicros: daily, spentTodayMicros: 50_000_000, elapsedPpm: 500_000 }), 1_000_000);
});

test('pacing even throttles linearly with the lead over target', () => {
  const at = (spent: number) => pacingFactorPpm({ mode: 'even', dailyBudgetMicros: daily, spentTodayMicros: spent, elapsedPpm: 500_000 });
  // Tolerance is 10% of daily = 10,000,000 micros of lead.
  assert.equal(at(52_500_000), 750_000);
  assert.equal(at(55_000_000), 500_000);
  assert.equal(at(59_999_999), 1);
  assert.equal(at(60_000_000), 0);
  assert.equal(at(80_000_000), 0);
  assert.ok(at(51_000_000) > at(53_000_000));
});

test('pacing even honours a custom lead tolerance', () => {
  const f = pacingFactorPpm({ mode: 'even', dailyBudgetMicros: daily, spentTodayMicros: 30_000_000, elapsedPpm: 0, leadTolerancePpm: 600_000 });
  assert.equal(f, 500_000);
});

test('pacing even stays integer for budgets whose products pass 2^53', () => {
  const big = 5_000_000_000_000_000; // 5 billion currency units
  const f = pacingFactorPpm({ mode: 'even', dailyBudgetMicros: big, spentTodayMicros: big / 2 + big / 40, elapsedPpm: 500_000 });
  assert.equal(f, 750_000);
  assert.ok(Number.isInteger(f));
});

test('pacing dayElapsedPpm uses the real length of the local day', () => {
  const c = makeCampaign({ timezone: 'America/New_York' });
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 1, 4)), 0);
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 1, 16)), 500_000);
  // Spring-forward day is 23 hours long: noon local (16:00Z) is 11 of 23 hours in.
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 2, 10, 16)), Math.floor((11 * 1_000_000) / 23));
});

test('pacing dayElapsedPpm counts only active daypart minutes, merging overlaps', () => {
  const c = makeCampaign({
    dayparting: [
      { days: [1], startMinute: 9 * 60, endMinute: 13 * 60 },
      { days: [1], startMinute: 11 * 60, endMinute: 17 * 60 },
      { days: [2], startMinute: 0, endMinute: 60 },
    ],
  });
  // Monday 2024-07-01 in UTC; active 09:00-17:00 (8 h).
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 1, 8)), 0);
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 1, 13)), 500_000);
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 1, 15)), 750_000);
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 1, 20)), 1_000_000);
  // Sunday has no window at all.
  assert.equal(dayElapsedPpm(c, Date.UTC(2024, 6, 7, 12)), 1_000_000);
});
