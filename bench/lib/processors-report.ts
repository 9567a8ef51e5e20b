/**
 * The processor scenario's result files: per stage, records/s on one core next to the pass-through
 * processor on the same input in the same run (the ratio is what the stage's logic costs), plus the
 * per-run details and what each stage decided.
 */
import type { DrainResult } from './drain-watch.js';
import type { OutputStats } from './output-stats.js';
import type { Machine } from './report.js';
import { machineLines, writeResults } from './report.js';
import type { Stage } from './stages.js';

export interface StageRun {
  stage: Stage;
  rep: number;
  input: string;
  group: string;
  drain: DrainResult;
  output: OutputStats | null;
  /** Records the dead-letter topic gained during the run (topic-wide: other users of the stack count too). */
  deadLetters: number;
  /** Bid only: campaigns in the catalogue the service loaded. */
  catalogue?: number | null;
  error?: string;
}

export interface PairSummary {
  stage: Exclude<Stage, 'passthrough'>;
  input: string;
  recordsPerSec: number | null;
  baselineRecordsPerSec: number | null;
  ratio: number | null;
  recordsPerCpuSec: number | null;
  baselineRecordsPerCpuSec: number | null;
  cpuRatio: number | null;
}

export interface ProcessorsReport {
  date: string;
  machine: Machine;
  command: string;
  settings: Record<string, unknown>;
  seed: string[];
  summary: PairSummary[];
  runs: StageRun[];
  notes: string[];
}

/** The median of the non-null values (null when none); an even count averages the middle two, rounded unless `round` is false. */
export function median(values: ReadonlyArray<number | null>, round = true): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  if (v.length % 2) return v[m]!;
  const mean = (v[m - 1]! + v[m]!) / 2;
  return round ? Math.round(mean) : mean;
}

const ratio = (a: number | null, b: number | null): number | null => (a !== null && b ? Math.round((a / b) * 1000) / 1000 : null);

/** Medians over the repetitions of a stage and of the pass-through on the same input. */
export function summarize(stage: PairSummary['stage'], input: string, runs: readonly StageRun[]): PairSummary {
  const of = (s: Stage, f: (d: DrainResult) => number | null): number | null => median(runs.filter((r) => r.stage === s && r.input === input).map((r) => f(r.drain)));
  const rps = of(stage, (d) => d.recordsPerSec);
  const base = of('passthrough', (d) => d.recordsPerSec);
  const rpc = of(stage, (d) => d.recordsPerCpuSec);
  const baseRpc = of('passthrough', (d) => d.recordsPerCpuSec);
  return { stage, input, recordsPerSec: rps, baselineRecordsPerSec: base, ratio: ratio(rps, base), recordsPerCpuSec: rpc, baselineRecordsPerCpuSec: baseRpc, cpuRatio: ratio(rpc, baseRpc) };
}

const cell = (v: number | null | undefined, suffix = ''): string => (v === null || v === undefined ? 'n/a' : `${v}${suffix}`);
const pct = (v: number | null): string => (v === null ? 'n/a' : `${Math.round(v * 100)}%`);

function summaryTable(rows: readonly PairSummary[]): string[] {
  return [
    '| stage | input | records/s | pass-through records/s (same input) | ratio | records per CPU-s | pass-through per CPU-s | ratio (CPU) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.stage} | ${r.input} | ${cell(r.recordsPerSec)} | ${cell(r.baselineRecordsPerSec)} | ${cell(r.ratio)} | ${cell(r.recordsPerCpuSec)} | ${cell(r.baselineRecordsPerCpuSec)} | ${cell(r.cpuRatio)} |`),
  ];
}

function runTable(runs: readonly StageRun[]): string[] {
  return [
    '| run | records | committed at first poll | seconds | records/s | CPU s | processor CPU (of one core) | Kafka broker CPU | Redis CPU | machine busy (both cores) | start-up s | output records | distinct ids | dead letters | error |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...runs.map((r) => {
      const d = r.drain;
      const c = d.cpuShares;
      return `| ${r.stage} #${r.rep + 1} on ${r.input} | ${d.records} | ${d.committedAtStart} | ${d.seconds} | ${cell(d.recordsPerSec)} | ${cell(d.cpuSeconds)} | ${pct(c.processor ?? null)} | ${pct(c.kafka ?? null)} | ${pct(c.redis ?? null)} | ${pct(d.machineBusy)} | ${d.startupSec} | ${cell(r.output?.records)} | ${cell(r.output?.distinct)} | ${r.deadLetters} | ${(r.error ?? d.error ?? '').split('\n')[0]} |`;
    }),
  ];
}

function decisions(runs: readonly StageRun[]): string[] {
  const rows = runs.filter((r) => r.output && (r.stage !== 'passthrough' || r.rep === 0));
  return [
    '| run | outcomes (share of records) | mean bids | mean output record bytes | campaigns in the bid index |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.stage} #${r.rep + 1} on ${r.input} | ${Object.entries(r.output!.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')} | ${cell(r.output!.meanBids)} | ${r.output!.meanBytes} | ${r.stage === 'bid' ? cell(r.catalogue) : ''} |`),
  ];
}

export function renderProcessors(r: ProcessorsReport): string {
  return [
    `# Processor throughput, ${r.date.slice(0, 10)}`,
    '',
    ...machineLines(r.date, r.machine, r.command, r.settings),
    '',
    'Each processor runs as ONE instance (its real main.ts, pinned to one core with taskset when available) over a topic ' +
      'pre-filled with the same records; records/s counts the records committed from the first poll of the consumer group\'s ' +
      'committed offsets that saw a commit to the poll that saw every partition at its end (start-up excluded). ' +
      'The pass-through processor runs on the same runner over the same input in the same run: the ratio is what the stage\'s own logic ' +
      '(and its Redis round trips) costs. Records per CPU-second divide by the CPU time of the processor\'s own process group, ' +
      'which is less sensitive to the shared machine than the wall-clock rate.',
    '',
    '## Summary (medians over repetitions)',
    '',
    ...summaryTable(r.summary),
    '',
    '## Runs',
    '',
    ...runTable(r.runs),
    '',
    '## What the stages decided',
    '',
    ...decisions(r.runs),
    '',
    '## Seed',
    '',
    ...r.seed.map((l) => `    ${l}`),
    '',
    ...(r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

export async function writeProcessorsReport(dir: string, r: ProcessorsReport): Promise<string[]> {
  return writeResults(dir, r.date, 'processors', renderProcessors(r), r);
}
