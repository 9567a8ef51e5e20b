import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../runtime/logger.js';
import { startReleaser } from './releaser.js';

test('releaser runs periodically with the cutoff now - afterMs, never overlapping, and keeps going after a failure', async () => {
  const cutoffs: number[] = [];
  let active = 0;
  let maxActive = 0;
  const outcomes: string[] = [];
  const releaser = startReleaser({
    everyMs: 10, afterMs: 1000, now: () => 5000, log: createLogger('test', 'silent'),
    release: async (cutoff) => {
      active++;
      maxActive = Math.max(maxActive, active);
      cutoffs.push(cutoff);
      await new Promise((r) => setTimeout(r, 25));
      active--;
      if (cutoffs.length === 1) throw new Error('redis down');
      return { released: 1, invalid: 0 };
    },
    onRun: (counts) => outcomes.push(counts ? 'ok' : 'error'),
  });
  await new Promise((r) => setTimeout(r, 150));
  await releaser.stop();
  const runs = cutoffs.length;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(cutoffs.length, runs, 'no run after stop');
  assert.ok(runs >= 2, `ran ${runs} times`);
  assert.ok(cutoffs.every((c) => c === 4000));
  assert.equal(maxActive, 1, 'runs never overlap');
  assert.deepEqual(outcomes.slice(0, 2), ['error', 'ok']);
});
