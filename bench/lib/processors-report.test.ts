import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DrainResult } from './drain.js';
import { processorsSummary, processorsTargetLines, summarize, type StageRun } from './processors-report.js';

test('processorsSummary holds the three stage ratios and the pass-through over the client loop on the client\'s input', () => {
  const run = (stage: StageRun['stage'], input: string, rps: number | null): StageRun =>
    ({ stage, input, rep: 0, drain: { recordsPerSec: rps } as DrainResult }) as StageRun;
  const runs = [run('enrich', 'req', 6000), run('passthrough', 'req', 10_000), run('client', 'req', 25_000), run('passthrough', 'bidin', 9000), run('client', 'other', 1)];
  const pairs = [summarize('enrich', 'req', runs), { ...summarize('bid', 'bidin', runs), ratio: 0.4 }];
  const s = processorsSummary(pairs, runs.slice(0, 4));
  assert.deepEqual(s, { ratios: { enrich: 0.6, bid: 0.4, auction: null }, passThroughVsClient: 0.4 });
  const lines = processorsTargetLines(s);
  assert.deepEqual(lines.map((l) => l.endsWith(': met')), [true, false, false, false]);
  assert.match(lines[2]!, /auction \/ pass-through: n\/a/);
});
