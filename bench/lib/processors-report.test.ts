import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DrainResult } from './drain.js';
import { processorsNotes, processorsSummary, processorsTargetLines, summarize, type StageRun } from './processors-report.js';
import type { ResultHead } from './results.js';

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

test('processorsNotes flags an enrich run that passed records on un-enriched (its rate includes skipped lookups)', () => {
  const head = { date: '2026-12-01T00:00:00.000Z', machine: { nproc: 2, loadAvg: [0.5], pinned: true }, command: 'x', settings: {} } as unknown as ResultHead;
  const output = { records: 100, distinct: 100, meanBytes: 500, outcomes: { ENRICHED: 0.75, UNAVAILABLE: 0.25 } };
  const drain = { records: 100, cpuShares: { machine: 0.5 } } as unknown as DrainResult;
  const runs = [{ stage: 'enrich', rep: 0, input: 'req', group: 'g', drain, delivery: 'at-least-once', output, deadLetters: 0 }] as StageRun[];
  assert.deepEqual(processorsNotes(runs, head), ['enrich #1 on req: 0.25 of its output passed on UNAVAILABLE (profile lookups over the time budget, or the circuit open): lookups skipped.']);
  assert.deepEqual(processorsNotes([{ ...runs[0]!, output: { ...output, outcomes: { ENRICHED: 1 } } }], head), []);
});
