/** The edge scenario's figures and document: per target and rate, the load and the target's CPU; edge/noop ratios. */
import type { OpenLoopResult } from './open-loop.js';
import { document, ratio, type ResultHead } from './results.js';

const P99_SLO_MS = 50;

const SUSTAINABLE_DEFINITION =
  `Sustainable throughput: the highest accepted rate (2xx responses per second of the measured window) ` +
  `among the offered rates tried at which p99 latency, measured from each request's scheduled send time ` +
  `(timeouts counted at the time they were given up on), stayed under ${P99_SLO_MS} ms. ` +
  `It is bounded by the rates tried: a target that met the bound at the highest rate may sustain more, ` +
  `so if the noop baseline never missed it, the edge/noop ratio is an upper bound.`;

/** One rate against one target; `targetCpuSec`: its process group's CPU during the run, warm-up included. */
export interface RateRun {
  readonly rate: number;
  readonly result?: OpenLoopResult;
  readonly error?: string;
  readonly targetCpuSec?: number | null;
  readonly cpuShares?: Record<string, number | null>;
}

export interface TargetRuns {
  readonly target: string;
  readonly command: string;
  readonly url: string;
  readonly runs: RateRun[];
  error?: string;
}

export function cpuUsPerRequest(run: RateRun): number | null {
  const r = run.result;
  const sent = r ? r.offeredRps * (r.durationSec + r.warmupSec) : 0;
  return sent > 0 && run.targetCpuSec != null ? Math.round((run.targetCpuSec * 1e6) / sent) : null;
}

const sustained = (run: RateRun): boolean => !!run.result && run.result.latencyMs.p99 < P99_SLO_MS;

/** CPU per request at the highest rate every target sustained: a throughput ratio the load generator cannot cap. */
export function cpuComparison(targets: TargetRuns[]): { rate: number; usPerRequest: Record<string, number> } | null {
  const rates = targets.map((t) => new Set(t.runs.filter((r) => sustained(r) && cpuUsPerRequest(r) !== null).map((r) => r.rate)));
  const common = [...(rates[0] ?? [])].filter((rate) => rates.every((set) => set.has(rate)));
  if (common.length === 0) return null;
  const rate = Math.max(...common);
  return { rate, usPerRequest: Object.fromEntries(targets.map((t) => [t.target, cpuUsPerRequest(t.runs.find((r) => r.rate === rate)!)!])) };
}

export function sustainableRps(runs: RateRun[]): number | null {
  const ok = runs.filter((r) => sustained(r) && r.result!.ok2xx > 0).map((r) => r.result!.acceptedRps);
  return ok.length ? Math.max(...ok) : null;
}

export function edgeReport(head: ResultHead, targets: TargetRuns[]) {
  const sustainable = Object.fromEntries(targets.map((t) => [t.target, sustainableRps(t.runs)]));
  const both = targets.filter((t) => t.target === 'noop' || t.target === 'edge');
  const c = both.length === 2 ? cpuComparison(both) : null;
  return {
    ...head, targets, definition: SUSTAINABLE_DEFINITION, sustainableRps: sustainable,
    ratioEdgeToNoop: sustainable.noop && sustainable.edge !== undefined ? ratio(sustainable.edge ?? 0, sustainable.noop) : null,
    /** Target CPU per request at the highest rate both sustained, and noop/edge of it (what one core could carry). */
    cpu: c && { ...c, ratioEdgeToNoop: ratio(c.usPerRequest.noop ?? 0, c.usPerRequest.edge ?? 1) },
  };
}

export function renderEdge(r: ReturnType<typeof edgeReport>): string {
  return document({
    title: 'Ingest edge load test', head: r, summary: { sustainableRps: r.sustainableRps, ratioEdgeToNoop: r.ratioEdgeToNoop, cpu: r.cpu },
    method: 'Method: bench/README.md, edge.ts. Open-loop load, latency from the scheduled send time; target pinned to CPU 0, generator to CPU 1. ' +
      `${SUSTAINABLE_DEFINITION} CPU per request: the target's process group's CPU time over the requests sent, warm-up included.`,
    details: r.targets.map((t) => ({
      title: `${t.target}: \`${t.command}\`, ${t.url}${t.error ? ` (failed: ${t.error.split('\n')[0]})` : ''}`, label: (x: RateRun) => `${x.rate} rps`,
      data: t.runs.map((x) => ({ ...x, cpuUsPerRequest: cpuUsPerRequest(x) })),
    })),
  });
}
