/** The e2e scenario's figures, notes, picture and document: per offered rate, the edge, receipt -> visible lag and consumer lag. */
import type { RunLag } from './lag.js';
import type { OpenLoopResult } from './open-loop.js';
import { busyNote, document, machineNotes, targetLine, type ResultHead } from './results.js';
import { renderSvg } from './svg-chart.js';

/** One rate; `drainSec` null: not within the drain timeout; `endLagRecords` net of commit markers (`endLagByGroup`: raw). */
export interface E2eRateRun {
  offeredRps: number;
  idPrefix: string;
  startedAtMs: number;
  load: OpenLoopResult | null;
  error?: string;
  edgeAccepted: number | null;
  drainSec: number | null;
  endLagRecords: number | null;
  endLagByGroup: Record<string, number>;
  lagTimeline: Array<[number, number]>;
  cpu: Record<string, number | null>;
  lag: RunLag | null;
}

type E2eTotals = { edgeAccepted: number | null; requestTopicRecords: number | null; postgresRequests: number | null; drained: boolean };

export type E2eLimits = { drainSec: number; lagP99Ms: number; acceptedShare: number };

const TARGETS = { sustainedRps: 5000, stretchRps: 10_000 } as const;

function sustained(r: E2eRateRun, l: E2eLimits): boolean {
  const p99 = r.lag?.lagMs?.p99;
  const drained = r.drainSec !== null && r.drainSec <= l.drainSec;
  return !!r.load && drained && p99 !== undefined && p99 <= l.lagP99Ms && r.load.acceptedRps >= l.acceptedShare * r.offeredRps;
}

export function e2eSummary(runs: readonly E2eRateRun[], t: E2eTotals, l: E2eLimits) {
  const best = runs.filter((r) => sustained(r, l)).sort((a, b) => b.offeredRps - a.offeredRps)[0];
  return {
    sustainedRps: best?.offeredRps ?? null,
    // Exact: Postgres counts every request the edge wrote to Kafka once (the topic is the edge's record of
    // what it accepted), and that includes every request it answered 202. Under overload a client can
    // give up before its 202 (the record is then in Kafka but was never acknowledged): counted, not lost.
    exact: t.drained && t.postgresRequests !== null && t.postgresRequests === t.requestTopicRecords
      && t.edgeAccepted !== null && t.edgeAccepted <= t.postgresRequests,
    lagP99Ms: best?.lag?.lagMs?.p99 ?? null,
    rates: runs.map((r) => ({
      offeredRps: r.offeredRps, acceptedRps: r.load?.acceptedRps ?? null, edgeP99Ms: r.load?.latencyMs.p99 ?? null,
      lagP50Ms: r.lag?.lagMs?.p50 ?? null, lagP99Ms: r.lag?.lagMs?.p99 ?? null, endLagRecords: r.endLagRecords,
    })),
  };
}

type E2eSummary = ReturnType<typeof e2eSummary>;

export function e2eTargetLines(s: E2eSummary): string[] {
  const rps = s.sustainedRps ?? 0;
  const stretch = rps >= TARGETS.stretchRps ? ' (stretch met)' : '';
  return [
    targetLine('sustainedRps', s.sustainedRps, `>= ${TARGETS.sustainedRps}, stretch ${TARGETS.stretchRps}`, rps >= TARGETS.sustainedRps) + stretch,
    targetLine('exact', s.exact, 'true', s.exact),
  ];
}

export type E2eReport = ResultHead & {
  summary: E2eSummary; loadAvgEnd: number[]; limits: E2eLimits; processes: Record<string, string>; seed: string[]; warmup: E2eRateRun | null;
  runs: E2eRateRun[]; totals: E2eTotals; cleanup: string[]; notes: string[];
};

export function e2eSvg(r: Pick<E2eReport, 'summary' | 'runs'>): string {
  const s = r.summary.rates;
  const byRate = <T>(f: (x: E2eRateRun) => T): Array<{ name: string; points: T }> => r.runs.map((x) => ({ name: `${x.offeredRps} req/s`, points: f(x) }));
  const points = (f: (x: (typeof s)[number]) => number | null) => s.map((x) => [x.offeredRps, f(x)] as const);
  return renderSvg([
    {
      title: 'Async edge -> Postgres: latency and lag percentiles', xLabel: 'offered req/s', yLabel: 'ms (log)', logY: true,
      series: [
        { name: 'edge p99 (202)', points: points((x) => x.edgeP99Ms) },
        { name: 'receipt->visible p50', points: points((x) => x.lagP50Ms) },
        { name: 'receipt->visible p99', points: points((x) => x.lagP99Ms) },
      ],
    },
    {
      title: 'Receipt -> visible in Postgres, p99 per second of receipt', xLabel: 's since the rate\'s load started', yLabel: 'ms (log)', logY: true,
      series: byRate((x) => (x.lag?.perSecond ?? []).map(([sec, , p99]) => [sec, p99] as const)),
    },
    {
      title: 'Consumer lag of the pipeline\'s groups (records, raw)', xLabel: 's since the rate\'s load started', yLabel: 'records',
      series: byRate((x) => x.lagTimeline),
    },
  ]);
}

export function e2eNotes(r: E2eReport): string[] {
  const t = r.totals;
  const n = machineNotes(r);
  if (t.postgresRequests !== null && t.edgeAccepted !== null && t.postgresRequests !== t.edgeAccepted) {
    const unanswered = t.requestTopicRecords !== null && t.requestTopicRecords > t.edgeAccepted;
    n.push(`Postgres counted ${t.postgresRequests} requests, the edge answered 202 to ${t.edgeAccepted} and published ${t.requestTopicRecords}` +
      (unanswered ? ' (requests published but not answered 202: the generator gave up on them, or the delivery report came after the edge\'s timeout).' : '.'));
  }
  for (const x of [...(r.warmup ? [r.warmup] : []), ...r.runs]) {
    const at = `${x === r.warmup ? 'warm-up at ' : ''}${x.offeredRps} req/s`;
    if (x.load && x.load.sendLagMs.p99 > 5) n.push(`${at}: generator lag p99 ${x.load.sendLagMs.p99} ms: the generator or the machine was saturated.`);
    if (x.lag && x.lag.notVisible > 0) {
      n.push(`${at}: ${x.lag.notVisible} of ${x.lag.outcomes} outcomes were counted by no live ledger part (late or duplicate, or not applied).`);
    }
    n.push(...busyNote(at, x.cpu.machine));
  }
  return n;
}

export function renderE2e(r: E2eReport): string {
  const extra = [`- Load average at the end (1/5/15 min): ${r.loadAvgEnd.join(' / ')}`, ...Object.entries(r.processes).map(([k, p]) => `- ${k}: \`${p}\``)];
  const rates = (runs: E2eRateRun[]) => runs.map(({ lagTimeline: _, ...x }) => ({ ...x, sustained: sustained(x as E2eRateRun, r.limits) }));
  return document({
    title: 'End to end: async edge -> every service -> Postgres', head: r, extra, notes: r.notes, summary: r.summary, targets: e2eTargetLines(r.summary),
    method: `Method: bench/README.md, e2e.ts (picture: ${r.date.slice(0, 10)}-e2e.svg). Lag: receipt at the edge -> the sink transaction applying its ` +
      `ledger part (a lower bound by one sink batch). Sustained: Postgres caught up within ${r.limits.drainSec} s, lag p99 <= ${r.limits.lagP99Ms} ms, ` +
      `>= ${r.limits.acceptedShare * 100}% accepted. CPU: share of one core (machine: of both cores).`,
    details: [
      { title: 'Rates', data: rates(r.runs), label: (x: E2eRateRun) => `${x.offeredRps} req/s` },
      { title: 'Exactness (whole run, warm-up included)', data: r.totals },
      { title: 'Warm-up (not in the summary)', data: rates(r.warmup ? [r.warmup] : []), label: (x: E2eRateRun) => `${x.offeredRps} req/s` },
      { title: 'Seed and cleanup', data: [...r.seed, ...r.cleanup].join('; ') },
    ],
  });
}
