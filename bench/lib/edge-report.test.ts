/** The edge report's arithmetic: sustainable throughput and CPU per request (pure, no servers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpenLoopResult } from './open-loop.js';
import { cpuComparison, cpuUsPerRequest, sustainableRps, type RateRun, type TargetRuns } from './edge-report.js';

function run(rate: number, p99: number, targetCpuSec: number | null, accepted = rate): RateRun {
  const result = { offeredRps: rate, acceptedRps: accepted, ok2xx: accepted * 8, durationSec: 8, warmupSec: 1, elapsedSec: 8, latencyMs: { p99 } } as unknown as OpenLoopResult;
  return { rate, result, targetCpuSec };
}
const target = (name: string, runs: RateRun[]): TargetRuns => ({ target: name, command: '', url: '', runs });

test('CPU per request counts every request sent, warm-up included', () => {
  // 1000 rps for 8 s + 1 s warm-up = 9000 requests; 0.9 CPU-seconds -> 100 µs each.
  assert.equal(cpuUsPerRequest(run(1000, 5, 0.9)), 100);
  assert.equal(cpuUsPerRequest(run(1000, 5, null)), null);
  assert.equal(cpuUsPerRequest({ rate: 1000, error: 'boom' }), null);
});

test('sustainable throughput is the best accepted rate under the p99 bound', () => {
  assert.equal(sustainableRps([run(1000, 5, 1), run(2000, 49, 1), run(4000, 51, 1)]), 2000);
  assert.equal(sustainableRps([run(1000, 60, 1)]), null);
});

test('CPU comparison uses the highest rate every target sustained', () => {
  const noop = target('noop', [run(1000, 2, 0.09), run(2000, 2, 0.18), run(4000, 3, 0.36)]);
  const edge = target('edge', [run(1000, 9, 0.45), run(2000, 20, 0.9), run(4000, 80, 1.8)]);
  assert.deepEqual(cpuComparison([noop, edge]), { rate: 2000, usPerRequest: { noop: 10, edge: 50 } });
  const failing = target('edge', [run(1000, 90, 0.5)]);
  assert.equal(cpuComparison([noop, failing]), null);
});
