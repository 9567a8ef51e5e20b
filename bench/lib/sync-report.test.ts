import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenLoopResult } from './open-loop.js';
import type { RateLag } from './lag.js';
import { syncSummary, syncSvg, syncTargetLines, type ModeRun } from './sync-report.js';

const result = (rate: number, p99: number, status: Record<string, number>, within?: number): OpenLoopResult =>
  ({ offeredRps: rate, scheduled: rate * 10, statusCounts: status, latencyMs: { p50: p99 / 4, p99 }, ...(within === undefined ? {} : { withinDeadline: { deadlineMs: 100, answers: within } }) }) as unknown as OpenLoopResult;
const lag = (rate: number, lost: number | null): RateLag => ({ rate, lostToDeadline: lost }) as RateLag;

test('syncSummary gives each sync rate its shares of the requests sent, and leaves async runs out', () => {
  const runs: ModeRun[] = [
    { mode: 'async', rate: 1000, connections: 1, result: result(1000, 5, { 202: 10_000 }) },
    { mode: 'sync', rate: 1000, connections: 1, result: result(1000, 40, { 200: 6000, 204: 4000 }, 9950) },
    { mode: 'sync', rate: 2000, connections: 1, result: result(2000, 120, { 200: 5000, 204: 14_000 }) },
    { mode: 'sync', rate: 4000, connections: 1, error: 'load failed' },
  ];
  const s = syncSummary(runs, [lag(1000, 30), lag(2000, null)], 100);
  assert.deepEqual(s, {
    rates: [
      { offeredRps: 1000, tmaxMs: 100, p50Ms: 10, p99Ms: 40, answeredBeforeDeadlineShare: 0.995, bidShare: 0.6, lostToDeadlineShare: 0.003 },
      { offeredRps: 2000, tmaxMs: 100, p50Ms: 30, p99Ms: 120, answeredBeforeDeadlineShare: null, bidShare: 0.25, lostToDeadlineShare: null },
    ],
  });
  for (const r of s.rates) assert.deepEqual(Object.keys(r).sort(), ['answeredBeforeDeadlineShare', 'bidShare', 'lostToDeadlineShare', 'offeredRps', 'p50Ms', 'p99Ms', 'tmaxMs']);
});

test('syncTargetLines checks the 2000 req/s row and says when it was not run', () => {
  const row = { offeredRps: 2000, tmaxMs: 100, p50Ms: 10, p99Ms: 45, answeredBeforeDeadlineShare: 0.98, bidShare: 0.5, lostToDeadlineShare: 0.002 };
  const lines = syncTargetLines({ rates: [row] });
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /p99 ms at 2000 req\/s: 45 \(target <= 50\): met/);
  assert.match(lines[1]!, /answered before tmax .*: 0\.98 .*NOT met/);
  assert.match(lines[2]!, /lost to the deadline .*: 0\.002 .*: met/);
  assert.match(syncTargetLines({ rates: [{ ...row, offeredRps: 1000 }] })[0]!, /not run/);
});

test('syncSvg plots sync p50/p99 and the async baseline against offered rate, then the answer shares', () => {
  const summary = { rates: [{ offeredRps: 250, tmaxMs: 100, p50Ms: 8, p99Ms: 30, answeredBeforeDeadlineShare: 1, bidShare: 0.7, lostToDeadlineShare: 0 }, { offeredRps: 500, tmaxMs: 100, p50Ms: 9, p99Ms: 60, answeredBeforeDeadlineShare: 0.99, bidShare: 0.6, lostToDeadlineShare: 0.01 }] };
  const svg = syncSvg({ summary, runs: [{ mode: 'async', rate: 250, connections: 1, result: result(250, 4, {}) }, { mode: 'async', rate: 500, connections: 1, result: result(500, 5, {}) }] });
  assert.equal(svg.match(/<polyline /g)?.length, 6);
  for (const name of ['sync p50', 'sync p99', 'async edge p99', 'answered before tmax', 'bid (200)', 'lost to the deadline', 'tmax']) assert.ok(svg.includes(`>${name}<`), name);
});
