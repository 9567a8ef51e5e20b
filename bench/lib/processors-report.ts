/**
 * The processor scenario's result files: per stage, records/s on one core next to the pass-through
 * processor on the same input in the same run (the ratio is what the stage's logic costs), the
 * pass-through next to a plain client loop (what the runner costs), plus the per-run details and what
 * each stage decided.
 */
import type { DrainResult } from './drain-watch.js';
import type { OutputStats } from './output-stats.js';
import type { Machine } from './report.js';
import { machineLines, percent as pct, writeResults } from './report.js';
import type { Delivery, Stage } from './stages.js';

export interface StageRun {
  /** 'client': the plain consume -> produce loop of lib/client-loop.ts. */
  stage: Stage | 'client';
  rep: number;
  input: string;
  group: string;
  drain: DrainResult;
  /** How the runner wrote and committed (from the service's start-up log; null when not found). */
  delivery: Delivery | null;
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

/** The issue's figures: stage / pass-through records/s per stage, and pass-through / plain client loop. */
export interface ProcessorsSummary {
  ratios: { enrich: number | null; bid: number | null; auction: number | null };
  passThroughVsClient: number | null;
}

/** Every ratio should be at least this. */
export const PROCESSORS_TARGET = 0.5;

export interface ProcessorsReport {
  summary: ProcessorsSummary;
  date: string;
  machine: Machine;
  command: string;
  settings: Record<string, unknown>;
  seed: string[];
  pairs: PairSummary[];
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

export function processorsSummary(pairs: readonly PairSummary[], runs: readonly StageRun[]): ProcessorsSummary {
  const of = (stage: PairSummary['stage']): number | null => pairs.find((p) => p.stage === stage)?.ratio ?? null;
  const input = runs.find((r) => r.stage === 'client')?.input;
  const rps = (stage: StageRun['stage']): number | null => median(runs.filter((r) => r.stage === stage && r.input === input).map((r) => r.drain.recordsPerSec));
  return { ratios: { enrich: of('enrich'), bid: of('bid'), auction: of('auction') }, passThroughVsClient: ratio(rps('passthrough'), rps('client')) };
}

export function processorsTargetLines(s: ProcessorsSummary): string[] {
  const rows: Array<[string, number | null]> = [...Object.entries(s.ratios).map(([k, v]) => [`${k} / pass-through`, v] as [string, number | null]), ['pass-through / plain client loop', s.passThroughVsClient]];
  return rows.map(([k, v]) => `${k}: ${v ?? 'n/a'} (target >= ${PROCESSORS_TARGET}): ${v !== null && v >= PROCESSORS_TARGET ? 'met' : '**NOT met**'}`);
}

const cell = (v: number | null | undefined, suffix = ''): string => (v === null || v === undefined ? 'n/a' : `${v}${suffix}`);

function summaryTable(rows: readonly PairSummary[]): string[] {
  return [
    '| stage | input | records/s | pass-through records/s (same input) | ratio | records per CPU-s | pass-through per CPU-s | ratio (CPU) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.stage} | ${r.input} | ${cell(r.recordsPerSec)} | ${cell(r.baselineRecordsPerSec)} | ${cell(r.ratio)} | ${cell(r.recordsPerCpuSec)} | ${cell(r.baselineRecordsPerCpuSec)} | ${cell(r.cpuRatio)} |`),
  ];
}

function runTable(runs: readonly StageRun[]): string[] {
  return [
    '| run | delivery | records | committed at first poll | seconds | records/s | CPU s | processor CPU (of one core) | Kafka broker CPU | Redis CPU | machine busy (both cores) | start-up s | output records | distinct ids | dead letters | error |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...runs.map((r) => {
      const d = r.drain;
      const c = d.cpuShares;
      return `| ${r.stage} #${r.rep + 1} on ${r.input} | ${r.delivery ?? 'n/a'} | ${d.records} | ${d.committedAtStart} | ${d.seconds} | ${cell(d.recordsPerSec)} | ${cell(d.cpuSeconds)} | ${pct(c.processor ?? null)} | ${pct(c.kafka ?? null)} | ${pct(c.redis ?? null)} | ${pct(d.machineBusy)} | ${d.startupSec} | ${cell(r.output?.records)} | ${cell(r.output?.distinct)} | ${r.deadLetters} | ${(r.error ?? d.error ?? '').split('\n')[0]} |`;
    }),
  ];
}

function decisions(runs: readonly StageRun[]): string[] {
  const rows = runs.filter((r) => r.output && ((r.stage !== 'passthrough' && r.stage !== 'client') || r.rep === 0));
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
    '## Summary',
    '',
    'ratios: each stage\'s records/s over the pass-through\'s on the same input (medians over repetitions); passThroughVsClient: the ' +
      'pass-through\'s records/s over a plain consume -> produce loop on the same client over the same input (lib/client-loop.ts: bytes ' +
      'copied unchanged, offsets committed after delivery), i.e. what the runner\'s decoding, encoding and bookkeeping cost.',
    '',
    '```json',
    JSON.stringify(r.summary, null, 2),
    '```',
    '',
    ...processorsTargetLines(r.summary).map((l) => `- ${l}`),
    '',
    '## Per stage (medians over repetitions)',
    '',
    ...summaryTable(r.pairs),
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
