/** The processors scenario's figures, notes and document: each stage's records/s over the pass-through's, and the runner's cost. */
import type { DrainResult } from './drain.js';
import type { OutputStats } from './output-stats.js';
import { busyNote, document, machineNotes, median, ratio, targetLine } from './results.js';
import type { ResultHead } from './results.js';
import type { Delivery, Stage } from './stages.js';

/** One run; 'client': the plain loop of lib/client-loop.ts; `deadLetters` topic-wide; bid only, `catalogue`: campaigns loaded. */
export interface StageRun {
  stage: Stage | 'client';
  rep: number;
  input: string;
  group: string;
  drain: DrainResult;
  delivery: Delivery | null;
  output: OutputStats | null;
  deadLetters: number;
  catalogue?: number | null;
}

const TARGET = 0.5;

export function summarize(stage: Exclude<Stage, 'passthrough'>, input: string, runs: readonly StageRun[]) {
  const of = (s: Stage, f: (d: DrainResult) => number | null): number | null =>
    median(runs.filter((r) => r.stage === s && r.input === input).map((r) => f(r.drain)));
  const [rps, base] = [of(stage, (d) => d.recordsPerSec), of('passthrough', (d) => d.recordsPerSec)];
  const [rpc, baseRpc] = [of(stage, (d) => d.recordsPerCpuSec), of('passthrough', (d) => d.recordsPerCpuSec)];
  return {
    stage, input, recordsPerSec: rps, baselineRecordsPerSec: base, ratio: ratio(rps, base), recordsPerCpuSec: rpc, baselineRecordsPerCpuSec: baseRpc,
    cpuRatio: ratio(rpc, baseRpc),
  };
}

/** The figures: stage / pass-through records/s per stage, and pass-through / plain client loop on the client's input. */
export function processorsSummary(pairs: ReadonlyArray<ReturnType<typeof summarize>>, runs: readonly StageRun[]) {
  const of = (stage: Stage): number | null => pairs.find((p) => p.stage === stage)?.ratio ?? null;
  const input = runs.find((r) => r.stage === 'client')?.input;
  const rps = (stage: StageRun['stage']): number | null => median(runs.filter((r) => r.stage === stage && r.input === input).map((r) => r.drain.recordsPerSec));
  return { ratios: { enrich: of('enrich'), bid: of('bid'), auction: of('auction') }, passThroughVsClient: ratio(rps('passthrough'), rps('client')) };
}

export function processorsTargetLines(s: ReturnType<typeof processorsSummary>): string[] {
  const rows = [
    ...Object.entries(s.ratios).map(([k, v]) => [`${k} / pass-through`, v] as const), ['pass-through / plain client loop', s.passThroughVsClient] as const,
  ];
  return rows.map(([k, v]) => targetLine(k, v, `>= ${TARGET}`, v !== null && v >= TARGET));
}

const label = (r: StageRun): string => `${r.stage} #${r.rep + 1} on ${r.input}`;

export function processorsNotes(runs: readonly StageRun[], head: ResultHead): string[] {
  return [...machineNotes(head), ...runs.flatMap((r) => [
    ...(r.drain.error ? [`${label(r)} failed: ${r.drain.error.split('\n')[0]}`] : []),
    ...(r.output && r.output.records !== r.drain.records ? [`${label(r)}: ${r.output.records} output records for ${r.drain.records} input records.`] : []),
    ...(r.output && r.output.distinct !== r.output.records ? [`${label(r)}: ${r.output.records - r.output.distinct} duplicate request ids in the output.`] : []),
    ...(r.output?.outcomes.UNAVAILABLE ? [`${label(r)}: ${r.output.outcomes.UNAVAILABLE} of its output passed on UNAVAILABLE (profile lookups over the time budget, or the circuit open): lookups skipped.`] : []),
    ...(r.deadLetters > 0 ? [`${label(r)}: the dead-letter topic gained ${r.deadLetters} records during the run (topic-wide).`] : []),
    ...busyNote(label(r), r.drain.cpuShares.machine),
  ])];
}

type ProcessorsReport = ResultHead & {
  summary: ReturnType<typeof processorsSummary>; seed: string[]; pairs: Array<ReturnType<typeof summarize>>; runs: StageRun[]; notes: string[];
};

export function renderProcessors(r: ProcessorsReport): string {
  return document({
    title: 'Processor throughput', head: r, notes: r.notes, summary: r.summary, targets: processorsTargetLines(r.summary),
    method: 'Method: bench/README.md, processors.ts. ONE instance per run, pinned to one core, over a pre-filled topic; records/s from the first poll ' +
      'of the group\'s offsets that saw a commit to the one that saw every partition at its end; per CPU-second: of the processor\'s process group. ' +
      'ratios: each stage\'s records/s over the pass-through\'s on the same input (medians); passThroughVsClient: the pass-through\'s over a plain ' +
      'consume -> produce loop on the same client (lib/client-loop.ts), i.e. what the runner\'s decoding, encoding and bookkeeping cost.',
    details: [
      { title: 'Per stage (medians over repetitions)', data: r.pairs, label: (p: ProcessorsReport['pairs'][number]) => p.stage },
      { title: 'Runs', data: r.runs, label },
      { title: 'Seed', data: r.seed.join('; ') },
    ],
  });
}
