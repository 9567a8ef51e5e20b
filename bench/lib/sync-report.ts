/** The sync scenario's figures, notes, picture and document: the async edge (baseline) and the sync edge per offered rate. */
import { HOPS, type Hop, type RateLag } from './lag.js';
import type { BatchStats } from './metrics-scrape.js';
import type { OpenLoopResult } from './open-loop.js';
import { bullets, document, failedRow, machineNotes, percent, section, table, targetLine, verbatim } from './results.js';
import type { Percentiles, ResultHead, Table } from './results.js';
import { renderSvg } from './svg-chart.js';

/** One load run against one edge; `ackProbeMs`: the side producer's ack latency; sync only: the edge's and processors' metrics. */
export interface ModeRun {
  mode: 'async' | 'sync';
  rate: number;
  connections: number;
  result?: OpenLoopResult;
  error?: string;
  tmaxExpired?: number | null;
  lateOutcomes?: number | null;
  cpu?: Record<string, number | null>;
  ackProbeMs?: Percentiles | null;
  batches?: BatchStats[];
}

const TARGETS = { offeredRps: 2000, p99Ms: 50, answeredBeforeDeadlineShare: 0.99, lostToDeadlineShare: 0.01 } as const;
const GENERATOR_LAG_MS = 5;

const share = (n: number, of: number): number => Math.round((n / of) * 10_000) / 10_000;

/** Per sync rate, shares of the requests sent in the measured window (definitions: bench/README.md, sync.ts). */
export function syncSummary(runs: readonly ModeRun[], lags: ReadonlyArray<Pick<RateLag, 'rate' | 'lostToDeadline'>>, tmaxMs: number) {
  const sync = runs.filter((m) => m.mode === 'sync' && m.result && m.result.scheduled > 0);
  return {
    rates: sync.map(({ rate, result: r }) => {
      const lost = lags.find((l) => l.rate === rate)?.lostToDeadline ?? null;
      return {
        offeredRps: r!.offeredRps, tmaxMs, p50Ms: r!.latencyMs.p50, p99Ms: r!.latencyMs.p99,
        answeredBeforeDeadlineShare: r!.withinDeadline ? share(r!.withinDeadline.answers, r!.scheduled) : null,
        bidShare: share(r!.statusCounts['200'] ?? 0, r!.scheduled),
        lostToDeadlineShare: lost === null ? null : share(lost, r!.scheduled),
      };
    }),
  };
}

type SyncSummary = ReturnType<typeof syncSummary>;

export function syncTargetLines(s: SyncSummary): string[] {
  const t = TARGETS;
  const at = s.rates.find((r) => r.offeredRps === t.offeredRps);
  if (!at) return [`Targets are set at ${t.offeredRps} req/s, which was not run.`];
  const line = (what: string, v: number | null, bar: number, most: boolean): string =>
    targetLine(`${what} at ${t.offeredRps} req/s`, v, `${most ? '<=' : '>='} ${bar}`, v !== null && (most ? v <= bar : v >= bar));
  return [line('p99 ms', at.p99Ms, t.p99Ms, true), line('answered before tmax', at.answeredBeforeDeadlineShare, t.answeredBeforeDeadlineShare, false),
    line('lost to the deadline', at.lostToDeadlineShare, t.lostToDeadlineShare, true)];
}

export function syncNotes(runs: readonly ModeRun[], lags: readonly RateLag[], o: { head: ResultHead; dead: string | undefined; tmaxMs: number }): string[] {
  const n = [...machineNotes(o.head), ...(o.dead ? [`A service died during the runs: ${o.dead.split('\n')[0]}`] : [])];
  for (const m of runs) {
    const label = `${m.mode} at ${m.rate} rps`;
    if (m.error) n.push(`${label} failed: ${m.error.split('\n')[0]}`);
    const r = m.result;
    if (!r) continue;
    const other = Object.entries(r.statusCounts).filter(([k]) => !['200', '202', '204'].includes(k));
    if (other.length) n.push(`${label}: unexpected statuses ${other.map(([k, v]) => `${k} x${v}`).join(', ')}.`);
    if (r.errorCount || r.timeouts) {
      n.push(`${label}: ${r.errorCount} transport errors (${JSON.stringify(r.errors)}), ${r.timeouts} requests unanswered within ${r.timeoutMs} ms.`);
    }
    if (r.sendLagMs.p99 > GENERATOR_LAG_MS) {
      n.push(`${label}: generator lag p99 ${r.sendLagMs.p99} ms: the generator or the machine was saturated, so latency is overstated.`);
    }
    const over = (['p50', 'p95', 'p99', 'p999'] as const).filter((p) => r.latencyMs[p] > o.tmaxMs);
    if (m.mode === 'sync' && over.length > 0) {
      const a = m.ackProbeMs;
      n.push(`${label}: ${over.join(', ')} above tmax (${o.tmaxMs} ms; max ${r.latencyMs.max} ms): those answers came after the exchange stopped waiting. ` +
        `In the same window: broker acks to a side producer p50/p99/max ${a ? `${a.p50}/${a.p99}/${a.max}` : 'n/a'} ms, ` +
        `both cores ${percent(m.cpu?.machine)} busy, ` +
        `generator lag p99 ${r.sendLagMs.p99} ms.`);
    }
    if (m.mode === 'sync' && (m.tmaxExpired ?? 0) > 0) {
      n.push(`${label}: ${m.tmaxExpired} of ${r.scheduled + Math.round(r.offeredRps * r.warmupSec)} requests (warm-up included) were answered 204 because tmax ` +
        `ran out, not because nothing bid; ${m.lateOutcomes ?? 'n/a'} outcomes arrived after their answer.`);
    }
  }
  for (const l of lags) {
    if (l.outcomes < l.requests) {
      const missing = l.requests - l.outcomes;
      n.push(`sync at ${l.rate} rps: ${missing} of ${l.requests} requests in the topic have no outcome (enriched ${l.enriched}, BidSets ${l.bidSets}).`);
    }
    if (l.winsPastDeadline > 0) n.push(`sync at ${l.rate} rps: ${l.winsPastDeadline} winning outcomes were produced after the edge's deadline: bids lost to time.`);
  }
  return n;
}

export function syncSvg(r: { summary: SyncSummary; runs: readonly ModeRun[] }): string {
  const s = r.summary.rates;
  const asyncP99 = r.runs.filter((m) => m.mode === 'async' && m.result).map((m) => [m.rate, m.result!.latencyMs.p99] as const);
  const points = (f: (x: (typeof s)[number]) => number | null) => s.map((x) => [x.offeredRps, f(x)] as const);
  return renderSvg([
    {
      title: `Sync OpenRTB latency from the scheduled send (tmax ${s[0]?.tmaxMs ?? '?'} ms)`, xLabel: 'offered req/s', yLabel: 'ms (log)', logY: true,
      series: [
        { name: 'sync p50', points: points((x) => x.p50Ms) }, { name: 'sync p99', points: points((x) => x.p99Ms) }, { name: 'async edge p99', points: asyncP99 },
      ],
      marks: [{ y: s[0]?.tmaxMs ?? 0, label: 'tmax' }, { y: TARGETS.p99Ms, label: `p99 target ${TARGETS.p99Ms} ms` }],
    },
    {
      title: 'Sync answers, share of requests sent', xLabel: 'offered req/s', yLabel: 'share',
      series: [
        { name: 'answered before tmax', points: points((x) => x.answeredBeforeDeadlineShare) },
        { name: 'bid (200)', points: points((x) => x.bidShare) },
        { name: 'lost to the deadline', points: points((x) => x.lostToDeadlineShare) },
      ],
    },
  ]);
}

const pct = (n: number, of: number): string => (of > 0 ? `${Math.round((n / of) * 1000) / 10}%` : 'n/a');

function latencyTable(runs: readonly ModeRun[]): Table {
  const columns = ['offered rps', 'mode', 'p50 ms', 'p95 ms', 'p99 ms', 'p99.9 ms', 'max ms', '200 bid', '204 no bid', '202 accepted', 'other status',
    'transport errors', 'timeouts', 'tmax expired (edge)', 'late outcomes (edge)', 'generator lag p99 ms'];
  return table(columns, runs.map((m) => {
    const r = m.result;
    if (!r) return failedRow(columns.length, m.error, m.rate, m.mode);
    const [l, c] = [r.latencyMs, r.statusCounts];
    const other = r.responses - (c['200'] ?? 0) - (c['204'] ?? 0) - (c['202'] ?? 0);
    const share = (status: string): string => pct(c[status] ?? 0, r.scheduled);
    return [r.offeredRps, m.mode, l.p50, l.p95, l.p99, l.p999, l.max, share('200'), share('204'), share('202'), other, r.errorCount, r.timeouts,
      m.tmaxExpired ?? '', m.lateOutcomes ?? '', r.sendLagMs.p99];
  }));
}

export type SyncReport = ResultHead & {
  summary: SyncSummary; processes: Record<string, string>; seed: string[]; warmup: ModeRun[]; runs: ModeRun[]; lags: RateLag[]; notes: string[];
};

export function renderSync(r: SyncReport): string {
  const s = r.summary;
  const cpuKeys = [...new Set(r.runs.flatMap((m) => Object.keys(m.cpu ?? {})))];
  const diff = (rate: number): unknown[] => {
    const [a, y] = (['async', 'sync'] as const).map((mode) => r.runs.find((x) => x.rate === rate && x.mode === mode)?.result?.latencyMs);
    return [rate, ...(['p50', 'p95', 'p99'] as const).map((k) => (a && y ? Math.round((y[k] - a[k]) * 1000) / 1000 : null))];
  };
  const hopRow = (l: RateLag, h: Hop): unknown[] => {
    const p = l.hops[h];
    return p ? [l.rate, h, p.p50, p.p95, p.p99, p.max, p.count] : [l.rate, h, 'n/a', '', '', '', 0];
  };
  const ack = (a: Percentiles | null | undefined): string => (a ? `${a.p50} / ${a.p99} / ${a.max}` : '');
  return document({
    title: 'Synchronous OpenRTB latency', head: r, extra: Object.entries(r.processes).map(([k, v]) => `- ${k}: \`${v}\``), notes: r.notes,
    sections: [
      section(`Summary (sync mode; picture: ${r.date.slice(0, 10)}-sync.svg)`,
        'Method: bench/README.md, sync.ts. Shares are of the requests sent in the measured window; answered before tmax: any answer received within ' +
          'tmax of the scheduled send time; lost to the deadline: the outcomes topic holds a win for a request the edge answered 204.',
        table(['offered rps', 'tmax ms', 'p50 ms', 'p99 ms', 'answered before tmax', 'bid (200)', 'lost to the deadline'],
          s.rates.map((x) => [x.offeredRps, x.tmaxMs, x.p50Ms, x.p99Ms, x.answeredBeforeDeadlineShare, x.bidShare, x.lostToDeadlineShare])),
        bullets(syncTargetLines(s))),
      section('Latency and answers', latencyTable(r.runs)),
      section('Pipeline cost (sync minus async, same rate, same run)',
        table(['offered rps', 'p50 sync - async ms', 'p95 sync - async ms', 'p99 sync - async ms'], [...new Set(r.runs.map((x) => x.rate))].map(diff))),
      section('Where the time goes (sync runs, from the topics\' record timestamps)',
        bullets(Object.entries(HOPS).map(([h, meaning]) => `**${h}**: ${meaning}`)),
        table(['offered rps', 'hop', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'requests'],
          r.lags.flatMap((l) => (Object.keys(HOPS) as Hop[]).map((h) => hopRow(l, h)))),
        table(['offered rps', 'requests in topic', 'enriched', 'BidSets', 'outcomes', 'wins produced after the deadline', 'wins answered 204'],
          r.lags.map((l) => [l.rate, l.requests, l.enriched, l.bidSets, l.outcomes, l.winsPastDeadline, l.lostToDeadline]))),
      section('Processor batches during the sync runs (runner metrics; load warm-up included)',
        'A batch: one partition\'s records, from the start of its processing to the commit carrying it. Batches overlap under PROCESSOR_CONCURRENCY > 1, ' +
          'so time in batches / run time can exceed 100%; with one at a time, near 100% means the consume loop is saturated.',
        table(['offered rps', 'stage', 'partition batches', 'records', 'records per batch', 'mean batch ms (incl. its commit)', 'time in batches / run time'],
          r.runs.flatMap((m) => (m.batches ?? []).map((b) => [m.rate, b.stage, b.batches, b.records, b.recordsPerBatch ?? '', b.meanBatchMs ?? '',
            percent(b.busyShare, '')])))),
      section('CPU and broker responsiveness during each run (CPU as a share of one core; machine = share of both cores busy)',
        table(['offered rps', 'mode', ...cpuKeys, 'broker ack p50 / p99 / max ms (side probe)'],
          r.runs.map((m) => [m.rate, m.mode, ...cpuKeys.map((k) => percent(m.cpu?.[k], '')), ack(m.ackProbeMs)]))),
      section('Warm-up (not measured)', latencyTable(r.warmup)),
      section('Seed', verbatim(r.seed)),
    ],
  });
}
