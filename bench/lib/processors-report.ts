/**
 * The processor scenario's figures and result file: per stage, records/s on one core next to the pass-through
 * processor on the same input in the same run (the ratio is what the stage's logic costs), the pass-through
 * next to a plain client loop (what the runner costs), plus the per-run details and what each stage decided.
 */
import type { DrainResult } from './drain.js';
import type { OutputStats } from './output-stats.js';
import { bullets, document, jsonBlock, median, percent as pct, ratio, section, table, type ResultHead } from './results.js';
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

/** The figures: stage / pass-through records/s per stage, and pass-through / plain client loop. */
export interface ProcessorsSummary {
  ratios: { enrich: number | null; bid: number | null; auction: number | null };
  passThroughVsClient: number | null;
}

/** Every ratio should be at least this. */
export const PROCESSORS_TARGET = 0.5;

export interface ProcessorsReport extends ResultHead {
  summary: ProcessorsSummary;
  seed: string[];
  pairs: PairSummary[];
  runs: StageRun[];
  notes: string[];
}

/** Medians over the repetitions of a stage and of the pass-through on the same input. */
export function summarize(stage: PairSummary['stage'], input: string, runs: readonly StageRun[]): PairSummary {
  const of = (s: Stage, f: (d: DrainResult) => number | null): number | null => median(runs.filter((r) => r.stage === s && r.input === input).map((r) => f(r.drain)));
  const [rps, base] = [of(stage, (d) => d.recordsPerSec), of('passthrough', (d) => d.recordsPerSec)];
  const [rpc, baseRpc] = [of(stage, (d) => d.recordsPerCpuSec), of('passthrough', (d) => d.recordsPerCpuSec)];
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

const label = (r: StageRun): string => `${r.stage} #${r.rep + 1} on ${r.input}`;

/** What the numbers say went wrong, spelled out. */
export function processorsNotes(runs: readonly StageRun[], pinned: boolean): string[] {
  const n: string[] = pinned ? [] : ['taskset is not available: the processors were not pinned, so "one core" is not enforced.'];
  for (const r of runs) {
    const err = r.error ?? r.drain.error;
    if (err) n.push(`${label(r)} failed: ${err.split('\n')[0]}`);
    if (r.output && r.output.records !== r.drain.records) n.push(`${label(r)}: ${r.output.records} output records for ${r.drain.records} input records.`);
    if (r.output && r.output.distinct !== r.output.records) n.push(`${label(r)}: ${r.output.records - r.output.distinct} duplicate request ids in the output.`);
    if (r.deadLetters > 0) n.push(`${label(r)}: the dead-letter topic gained ${r.deadLetters} records during the run (topic-wide).`);
    if ((r.drain.machineBusy ?? 0) > 0.9) n.push(`${label(r)}: the machine was ${pct(r.drain.machineBusy)} busy: the rate is bounded by the shared cores, not only by the processor.`);
  }
  return n;
}

export function renderProcessors(r: ProcessorsReport): string {
  const decided = r.runs.filter((x) => x.output && ((x.stage !== 'passthrough' && x.stage !== 'client') || x.rep === 0));
  return document('Processor throughput', r, [], [
    'Each processor runs as ONE instance (its real main.ts, pinned to one core with taskset when available) over a topic ' +
      'pre-filled with the same records; records/s counts the records committed from the first poll of the consumer group\'s ' +
      'committed offsets that saw a commit to the poll that saw every partition at its end (start-up excluded). ' +
      'The pass-through processor runs on the same runner over the same input in the same run: the ratio is what the stage\'s own logic ' +
      '(and its Redis round trips) costs. Records per CPU-second divide by the CPU time of the processor\'s own process group, ' +
      'which is less sensitive to the shared machine than the wall-clock rate.',
    '',
    ...section('Summary',
      'ratios: each stage\'s records/s over the pass-through\'s on the same input (medians over repetitions); passThroughVsClient: the ' +
        'pass-through\'s records/s over a plain consume -> produce loop on the same client over the same input (lib/client-loop.ts: bytes ' +
        'copied unchanged, offsets committed after delivery), i.e. what the runner\'s decoding, encoding and bookkeeping cost.',
      '', ...jsonBlock(r.summary), '', ...bullets(processorsTargetLines(r.summary))),
    ...section('Per stage (medians over repetitions)', ...table(
      ['stage', 'input', 'records/s', 'pass-through records/s (same input)', 'ratio', 'records per CPU-s', 'pass-through per CPU-s', 'ratio (CPU)'],
      r.pairs.map((p) => [p.stage, p.input, p.recordsPerSec, p.baselineRecordsPerSec, p.ratio, p.recordsPerCpuSec, p.baselineRecordsPerCpuSec, p.cpuRatio]))),
    ...section('Runs', ...table(
      ['run', 'delivery', 'records', 'committed at first poll', 'seconds', 'records/s', 'CPU s', 'processor CPU (of one core)', 'Kafka broker CPU', 'Redis CPU',
        'machine busy (both cores)', 'start-up s', 'output records', 'distinct ids', 'dead letters', 'error'],
      r.runs.map((x) => {
        const [d, c] = [x.drain, x.drain.cpuShares];
        return [label(x), x.delivery, d.records, d.committedAtStart, d.seconds, d.recordsPerSec, d.cpuSeconds, pct(c.processor), pct(c.kafka), pct(c.redis), pct(d.machineBusy),
          d.startupSec, x.output?.records, x.output?.distinct, x.deadLetters, (x.error ?? d.error ?? '').split('\n')[0]];
      }))),
    ...section('What the stages decided', ...table(['run', 'outcomes (share of records)', 'mean bids', 'mean output record bytes', 'campaigns in the bid index'],
      decided.map((x) => [label(x), Object.entries(x.output!.outcomes).map(([k, v]) => `${k} ${v}`).join(', '), x.output!.meanBids, x.output!.meanBytes, x.stage === 'bid' ? x.catalogue : '']))),
    ...section('Seed', ...r.seed.map((l) => `    ${l}`)),
  ], r.notes);
}
