/** The sync scenario's figures, notes, picture and document: the async edge (baseline) and the sync edge per offered rate. */
import { HOPS, type RateLag } from './lag.js';
import type { BatchStats } from './metrics-scrape.js';
import type { OpenLoopResult } from './open-loop.js';
import { document, machineNotes, targetLine, type Detail, type Percentiles, type ResultHead } from './results.js';
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
      n.push(`${label}: ${over.join(', ')} above tmax (${o.tmaxMs} ms): answers after the exchange stopped waiting (broker probe, CPU, generator lag: below).`);
    }
    if (m.mode === 'sync' && (m.tmaxExpired ?? 0) > 0) n.push(`${label}: ${m.tmaxExpired} requests (warm-up included) answered 204 because tmax ran out.`);
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

export type SyncReport = ResultHead & {
  summary: SyncSummary; processes: Record<string, string>; seed: string[]; warmup: ModeRun[]; runs: ModeRun[]; lags: RateLag[]; notes: string[];
};

export function renderSync(r: SyncReport): string {
  const runs = (list: ModeRun[]): Detail['data'] => list.map(({ batches: _, ...m }) => m);
  const cost = [...new Set(r.runs.map((x) => x.rate))].map((rate) => {
    const [a, y] = (['async', 'sync'] as const).map((mode) => r.runs.find((x) => x.rate === rate && x.mode === mode)?.result?.latencyMs);
    return { rate, ...Object.fromEntries((['p50', 'p95', 'p99'] as const).map((k) => [`${k}Ms`, a && y ? Math.round((y[k] - a[k]) * 1000) / 1000 : null])) };
  });
  const byRun = (m: { mode?: string; rate: number }): string => `${m.mode ?? 'sync'} ${m.rate} rps`;
  return document({
    title: 'Synchronous OpenRTB latency', head: r, extra: Object.entries(r.processes).map(([k, v]) => `- ${k}: \`${v}\``), notes: r.notes,
    summary: r.summary, targets: syncTargetLines(r.summary),
    method: `Method: bench/README.md, sync.ts (picture: ${r.date.slice(0, 10)}-sync.svg). Shares are of the requests sent in the measured window; ` +
      'answered before tmax: any answer received within tmax of the scheduled send time; lost to the deadline: the outcomes topic holds a win for a ' +
      `request the edge answered 204. Hops, from the topics' record timestamps: ${Object.entries(HOPS).map(([h, m]) => `**${h}**: ${m}`).join('; ')}.`,
    details: [
      { title: 'Latency and answers', data: runs(r.runs), label: byRun },
      { title: 'Pipeline cost: sync minus async latency, same rate, same run', data: cost, label: byRun },
      { title: 'Where the time goes (sync runs)', data: r.lags, label: byRun },
      { title: 'Processor batches during the sync runs (runner metrics, load warm-up included)', label: (b: BatchStats & { rate: number }) => `${b.stage} ${b.rate}`,
        data: r.runs.flatMap((m) => (m.batches ?? []).map((b) => ({ rate: m.rate, ...b }))) },
      { title: 'Warm-up (not measured)', data: runs(r.warmup), label: byRun },
      { title: 'Seed', data: r.seed.join('; ') },
    ],
  });
}
