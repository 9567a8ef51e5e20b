/** The processors scenario's figures, notes and document: each stage's records/s over the pass-through's, and the runner's cost. */
import type { DrainResult } from './drain.js';
import type { OutputStats } from './output-stats.js';
import { bullets, busyNote, document, jsonBlock, machineNotes, median, percent as pct, ratio, section, table, targetLine, verbatim } from './results.js';
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
    ...(r.deadLetters > 0 ? [`${label(r)}: the dead-letter topic gained ${r.deadLetters} records during the run (topic-wide).`] : []),
    ...busyNote(label(r), r.drain.cpuShares.machine),
  ])];
}

type ProcessorsReport = ResultHead & {
  summary: ReturnType<typeof processorsSummary>; seed: string[]; pairs: Array<ReturnType<typeof summarize>>; runs: StageRun[]; notes: string[];
};

export function renderProcessors(r: ProcessorsReport): string {
  const decided = r.runs.filter((x) => x.output && ((x.stage !== 'passthrough' && x.stage !== 'client') || x.rep === 0));
  const runColumns = ['run', 'delivery', 'records', 'committed at first poll', 'seconds', 'records/s', 'CPU s', 'processor CPU (of one core)', 'Kafka broker CPU',
    'Redis CPU', 'machine busy (both cores)', 'start-up s', 'output records', 'distinct ids', 'dead letters', 'error'];
  const runRow = (x: StageRun): unknown[] => {
    const d = x.drain;
    const cpu = ['processor', 'kafka', 'redis', 'machine'].map((k) => pct(d.cpuShares[k]));
    return [label(x), x.delivery, d.records, d.committedAtStart, d.seconds, d.recordsPerSec, d.cpuSeconds, ...cpu, d.startupSec, x.output?.records,
      x.output?.distinct, x.deadLetters, (d.error ?? '').split('\n')[0]];
  };
  return document({
    title: 'Processor throughput', head: r, notes: r.notes,
    intro: ['Method: bench/README.md, processors.ts. ONE instance per run, pinned to one core, over a pre-filled topic; records/s from the first poll ' +
      'of the group\'s offsets that saw a commit to the one that saw every partition at its end; per CPU-second: of the processor\'s process group.'],
    sections: [
      section('Summary',
        'ratios: each stage\'s records/s over the pass-through\'s on the same input (medians); passThroughVsClient: the pass-through\'s over a plain ' +
          'consume -> produce loop on the same client (lib/client-loop.ts), i.e. what the runner\'s decoding, encoding and bookkeeping cost.',
        jsonBlock(r.summary), bullets(processorsTargetLines(r.summary))),
      section('Per stage (medians over repetitions)',
        table(['stage', 'input', 'records/s', 'pass-through records/s (same input)', 'ratio', 'records per CPU-s', 'pass-through per CPU-s', 'ratio (CPU)'],
          r.pairs.map((p) => [p.stage, p.input, p.recordsPerSec, p.baselineRecordsPerSec, p.ratio, p.recordsPerCpuSec, p.baselineRecordsPerCpuSec, p.cpuRatio]))),
      section('Runs', table(runColumns, r.runs.map(runRow))),
      section('What the stages decided',
        table(['run', 'outcomes (share of records)', 'mean bids', 'mean output record bytes', 'campaigns in the bid index'],
          decided.map((x) => [label(x), Object.entries(x.output!.outcomes).map(([k, v]) => `${k} ${v}`).join(', '), x.output!.meanBids, x.output!.meanBytes,
            x.stage === 'bid' ? x.catalogue : '']))),
      section('Seed', verbatim(r.seed)),
    ],
  });
}
