/**
 * The sync scenario's result files: per offered rate, the edge in async mode (202 after the Kafka ack,
 * the baseline) and in sync mode (200 BidResponse or 204 within tmax, through enrich, bid and auction),
 * the difference between them, and where the time goes per stage.
 */
import type { BatchStats } from './metrics-scrape.js';
import type { OpenLoopResult } from './open-loop.js';
import { machineLines, percent, writeResults, type Machine } from './report.js';
import { HOP_MEANING, HOPS, type Percentiles, type RateLag } from './stage-lag.js';
import { renderSvg } from './svg-chart.js';

export interface ModeRun {
  mode: 'async' | 'sync';
  rate: number;
  connections: number;
  result?: OpenLoopResult;
  error?: string;
  /** Sync only, from the edge's /metrics during this run: waits that hit the deadline, outcomes that came after it. */
  tmaxExpired?: number | null;
  lateOutcomes?: number | null;
  /** CPU used during the run as a share of one core, per service and stack server; `machine`: share of all cores busy. */
  cpu?: Record<string, number | null>;
  /** Ack latency of a side producer (idempotent, acks=all, one record per 50 ms) during the run: the broker's responsiveness. */
  ackProbeMs?: Percentiles | null;
  /** Sync only: each processor's batches (= transactions) during the run, from its /metrics. */
  batches?: BatchStats[];
}

/** One sync-mode rate; shares are of the requests sent in the measured window. */
export interface SyncRateSummary {
  offeredRps: number;
  tmaxMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers (any status) the load generator received within tmax of each request's scheduled send time. */
  answeredBeforeDeadlineShare: number | null;
  /** 200 answers (a BidResponse). */
  bidShare: number;
  /** Requests whose auction outcome has a win but that the edge answered 204. */
  lostToDeadlineShare: number | null;
}

export interface SyncSummary {
  rates: SyncRateSummary[];
}

/** The issue's bar for the sync path, checked at `offeredRps`. */
export const SYNC_TARGETS = { offeredRps: 2000, p99Ms: 50, answeredBeforeDeadlineShare: 0.99, lostToDeadlineShare: 0.01 } as const;

const share = (n: number, of: number): number => Math.round((n / of) * 10_000) / 10_000;

export function syncSummary(runs: readonly ModeRun[], lags: readonly RateLag[], tmaxMs: number): SyncSummary {
  return {
    rates: runs.filter((m) => m.mode === 'sync' && m.result && m.result.scheduled > 0).map((m) => {
      const r = m.result!;
      const lost = lags.find((l) => l.rate === m.rate)?.lostToDeadline ?? null;
      return {
        offeredRps: r.offeredRps, tmaxMs, p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99,
        answeredBeforeDeadlineShare: r.withinDeadline ? share(r.withinDeadline.answers, r.scheduled) : null,
        bidShare: share(r.statusCounts['200'] ?? 0, r.scheduled),
        lostToDeadlineShare: lost === null ? null : share(lost, r.scheduled),
      };
    }),
  };
}

/** One line per target: the figure at the target rate, the bar, met or not. */
export function syncTargetLines(s: SyncSummary): string[] {
  const t = SYNC_TARGETS;
  const at = s.rates.find((r) => r.offeredRps === t.offeredRps);
  if (!at) return [`Targets are set at ${t.offeredRps} req/s, which was not run.`];
  const line = (what: string, v: number | null, bar: string, ok: (x: number) => boolean): string =>
    `${what} at ${t.offeredRps} req/s: ${v ?? 'n/a'} (target ${bar}): ${v !== null && ok(v) ? 'met' : '**NOT met**'}`;
  return [
    line('p99 ms', at.p99Ms, `<= ${t.p99Ms}`, (v) => v <= t.p99Ms),
    line('answered before tmax', at.answeredBeforeDeadlineShare, `>= ${t.answeredBeforeDeadlineShare}`, (v) => v >= t.answeredBeforeDeadlineShare),
    line('lost to the deadline', at.lostToDeadlineShare, `<= ${t.lostToDeadlineShare}`, (v) => v <= t.lostToDeadlineShare),
  ];
}

export function syncSvg(r: Pick<SyncReport, 'summary' | 'runs'>): string {
  const s = r.summary.rates;
  const asyncP99 = r.runs.filter((m) => m.mode === 'async' && m.result).map((m) => [m.rate, m.result!.latencyMs.p99] as const);
  return renderSvg([
    {
      title: `Sync OpenRTB latency from the scheduled send (tmax ${s[0]?.tmaxMs ?? '?'} ms)`, xLabel: 'offered req/s', yLabel: 'ms (log)', logY: true,
      series: [{ name: 'sync p50', points: s.map((x) => [x.offeredRps, x.p50Ms]) }, { name: 'sync p99', points: s.map((x) => [x.offeredRps, x.p99Ms]) }, { name: 'async edge p99', points: asyncP99 }],
      marks: [{ y: s[0]?.tmaxMs ?? 0, label: 'tmax' }, { y: SYNC_TARGETS.p99Ms, label: `p99 target ${SYNC_TARGETS.p99Ms} ms` }],
    },
    {
      title: 'Sync answers, share of requests sent', xLabel: 'offered req/s', yLabel: 'share',
      series: [
        { name: 'answered before tmax', points: s.map((x) => [x.offeredRps, x.answeredBeforeDeadlineShare]) },
        { name: 'bid (200)', points: s.map((x) => [x.offeredRps, x.bidShare]) },
        { name: 'lost to the deadline', points: s.map((x) => [x.offeredRps, x.lostToDeadlineShare]) },
      ],
    },
  ]);
}

function summaryTable(s: SyncSummary): string[] {
  return [
    '| offered rps | tmax ms | p50 ms | p99 ms | answered before tmax | bid (200) | lost to the deadline |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...s.rates.map((r) => `| ${r.offeredRps} | ${r.tmaxMs} | ${r.p50Ms} | ${r.p99Ms} | ${r.answeredBeforeDeadlineShare ?? 'n/a'} | ${r.bidShare} | ${r.lostToDeadlineShare ?? 'n/a'} |`),
  ];
}

export interface SyncReport {
  summary: SyncSummary;
  date: string;
  machine: Machine;
  command: string;
  settings: Record<string, unknown>;
  seed: string[];
  processes: Record<string, string>;
  warmup: ModeRun[];
  runs: ModeRun[];
  lags: RateLag[];
  notes: string[];
}

const pct = (n: number, of: number): string => (of > 0 ? `${Math.round((n / of) * 1000) / 10}%` : 'n/a');
const opt = (v: number | null | undefined): string => (v === null || v === undefined ? '' : String(v));

function latencyTable(runs: readonly ModeRun[]): string[] {
  const rows = runs.map((m) => {
    const r = m.result;
    if (!r) return `| ${m.rate} | ${m.mode} | failed: ${(m.error ?? '').split('\n')[0]} |||||||||||||`;
    const l = r.latencyMs;
    const c = r.statusCounts;
    const other = r.responses - (c['200'] ?? 0) - (c['204'] ?? 0) - (c['202'] ?? 0);
    return `| ${r.offeredRps} | ${m.mode} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.p999} | ${l.max} | ${pct(c['200'] ?? 0, r.scheduled)} | ${pct(c['204'] ?? 0, r.scheduled)} | ` +
      `${pct(c['202'] ?? 0, r.scheduled)} | ${other} | ${r.errorCount} | ${r.timeouts} | ${opt(m.tmaxExpired)} | ${opt(m.lateOutcomes)} | ${r.sendLagMs.p99} |`;
  });
  return [
    '| offered rps | mode | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | 200 bid | 204 no bid | 202 accepted | other status | transport errors | timeouts | tmax expired (edge) | late outcomes (edge) | generator lag p99 ms |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ];
}

function costTable(runs: readonly ModeRun[]): string[] {
  const rates = [...new Set(runs.map((r) => r.rate))];
  const rows = rates.map((rate) => {
    const a = runs.find((r) => r.rate === rate && r.mode === 'async')?.result?.latencyMs;
    const s = runs.find((r) => r.rate === rate && r.mode === 'sync')?.result?.latencyMs;
    if (!a || !s) return `| ${rate} | n/a | n/a | n/a |`;
    const d = (x: number, y: number): number => Math.round((x - y) * 1000) / 1000;
    return `| ${rate} | ${d(s.p50, a.p50)} | ${d(s.p95, a.p95)} | ${d(s.p99, a.p99)} |`;
  });
  return ['| offered rps | p50 sync - async ms | p95 sync - async ms | p99 sync - async ms |', '|---:|---:|---:|---:|', ...rows];
}

function batchTable(runs: readonly ModeRun[]): string[] {
  const rows = runs.flatMap((m) => (m.batches ?? []).map((b) =>
    `| ${m.rate} | ${b.stage} | ${b.batches} | ${b.records} | ${opt(b.recordsPerBatch)} | ${opt(b.meanBatchMs)} | ${b.busyShare === null ? '' : `${Math.round(b.busyShare * 100)}%`} |`));
  return [
    '| offered rps | stage | partition batches | records | records per batch | mean batch ms (incl. its commit) | time in batches / run time |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...rows,
  ];
}

function cpuTable(runs: readonly ModeRun[]): string[] {
  const keys = [...new Set(runs.flatMap((m) => Object.keys(m.cpu ?? {})))];
  return [
    `| offered rps | mode | ${keys.join(' | ')} | broker ack p50 / p99 / max ms (side probe) |`,
    `|---:|---|${keys.map(() => '---:').join('|')}|---:|`,
    ...runs.map((m) => {
      const a = m.ackProbeMs;
      return `| ${m.rate} | ${m.mode} | ${keys.map((k) => percent(m.cpu?.[k], '')).join(' | ')} | ${a ? `${a.p50} / ${a.p99} / ${a.max}` : ''} |`;
    }),
  ];
}

function lagTable(lags: readonly RateLag[]): string[] {
  const rows: string[] = [];
  for (const l of lags) {
    for (const h of HOPS) {
      const p = l.hops[h];
      rows.push(`| ${l.rate} | ${h} | ${p ? `${p.p50} | ${p.p95} | ${p.p99} | ${p.max} | ${p.count}` : 'n/a | | | | 0'} |`);
    }
  }
  return ['| offered rps | hop | p50 ms | p95 ms | p99 ms | max ms | requests |', '|---:|---|---:|---:|---:|---:|---:|', ...rows];
}

function flowTable(lags: readonly RateLag[]): string[] {
  return [
    '| offered rps | requests in topic | enriched | BidSets | outcomes | wins produced after the deadline | wins answered 204 |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...lags.map((l) => `| ${l.rate} | ${l.requests} | ${l.enriched} | ${l.bidSets} | ${l.outcomes} | ${l.winsPastDeadline} | ${l.lostToDeadline ?? 'n/a'} |`),
  ];
}

export function renderSync(r: SyncReport): string {
  return [
    `# Synchronous OpenRTB latency, ${r.date.slice(0, 10)}`,
    '',
    ...machineLines(r.date, r.machine, r.command, r.settings),
    ...Object.entries(r.processes).map(([k, v]) => `- ${k}: \`${v}\``),
    '',
    `## Summary (sync mode; picture: ${r.date.slice(0, 10)}-sync.svg)`,
    '',
    'Shares are of the requests sent in the measured window. Answered before tmax: any answer the load generator received within ' +
      'tmax of the request\'s scheduled send time. Lost to the deadline: the auction-outcomes topic holds a win for the request, ' +
      'but the edge answered 204.',
    '',
    ...summaryTable(r.summary),
    '',
    ...syncTargetLines(r.summary).map((l) => `- ${l}`),
    '',
    'Open-loop load (bench/load.ts in its own process): latency from each request\'s scheduled send time. For each rate the ' +
      'async edge (202 once Kafka acknowledged the request; nothing downstream) runs first, then the sync edge, which publishes ' +
      'the request and waits for its auction outcome from enrich -> bid -> auction until tmax minus the margin, answering 200 with a ' +
      'BidResponse or 204. The difference between the two is what the pipeline costs a synchronous caller. Shares are of scheduled requests.',
    '',
    '## Latency and answers',
    '',
    ...latencyTable(r.runs),
    '',
    '## Pipeline cost (sync minus async, same rate, same run)',
    '',
    ...costTable(r.runs),
    '',
    '## Where the time goes (sync runs, from the topics\' record timestamps)',
    '',
    ...HOPS.map((h) => `- **${h}**: ${HOP_MEANING[h]}`),
    '',
    ...lagTable(r.lags),
    '',
    ...flowTable(r.lags),
    '',
    '## Processor batches during the sync runs (runner metrics; load warm-up included)',
    '',
    'A batch is one partition\'s records handed to the runner at once; its time runs from the start of its processing to the commit of ' +
      'the transaction that carries it. With PROCESSOR_CONCURRENCY > 1 several partition batches run at once and share one transaction ' +
      '(group commit), so time in batches / run time can exceed 100% (up to the concurrency); with one batch at a time, near 100% means ' +
      'the stage\'s consume loop is saturated.',
    '',
    ...batchTable(r.runs),
    '',
    '## CPU and broker responsiveness during each run (CPU as a share of one core; machine = share of both cores busy)',
    '',
    ...cpuTable(r.runs),
    '',
    '## Warm-up (not measured)',
    '',
    ...latencyTable(r.warmup),
    '',
    '## Seed',
    '',
    ...r.seed.map((l) => `    ${l}`),
    '',
    ...(r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

export async function writeSyncReport(dir: string, r: SyncReport): Promise<string[]> {
  return writeResults(dir, r.date, 'sync', renderSync(r), r, syncSvg(r));
}
