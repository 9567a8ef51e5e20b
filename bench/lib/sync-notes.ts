/**
 * Plain-language findings for the sync report, derived from the numbers: anything that says the pipeline
 * (or the machine) misbehaved is spelled out instead of being left for the reader to spot in a table.
 */
import { percent as pct } from './report.js';
import type { RateLag } from './stage-lag.js';
import type { ModeRun } from './sync-report.js';

/** Generator lag (ms, p99) above which the generator or the machine, not the target, set the pace. */
const GENERATOR_LAG_MS = 5;


export function syncNotes(runs: readonly ModeRun[], lags: readonly RateLag[], o: { pinned: boolean; dead: string | undefined; tmaxMs: number }): string[] {
  const { pinned, dead } = o;
  const n: string[] = [];
  if (!pinned) n.push('taskset is not available: nothing was pinned.');
  if (dead) n.push(`A service died during the runs: ${dead.split('\n')[0]}`);
  for (const m of runs) {
    const label = `${m.mode} at ${m.rate} rps`;
    if (m.error) n.push(`${label} failed: ${m.error.split('\n')[0]}`);
    const r = m.result;
    if (!r) continue;
    const other = Object.entries(r.statusCounts).filter(([k]) => !['200', '202', '204'].includes(k));
    if (other.length) n.push(`${label}: unexpected statuses ${other.map(([k, v]) => `${k} x${v}`).join(', ')}.`);
    if (r.errorCount || r.timeouts) n.push(`${label}: ${r.errorCount} transport errors (${JSON.stringify(r.errors)}), ${r.timeouts} requests unanswered within ${r.timeoutMs} ms.`);
    if (r.sendLagMs.p99 > GENERATOR_LAG_MS) n.push(`${label}: generator lag p99 ${r.sendLagMs.p99} ms: the generator or the machine was saturated, so latency is overstated.`);
    const over = (['p50', 'p95', 'p99', 'p999'] as const).filter((p) => r.latencyMs[p] > o.tmaxMs);
    if (m.mode === 'sync' && over.length > 0) {
      const a = m.ackProbeMs;
      n.push(`${label}: ${over.join(', ')} above tmax (${o.tmaxMs} ms; max ${r.latencyMs.max} ms): those answers came after the exchange stopped waiting. ` +
        `In the same window: broker acks to a side producer p50/p99/max ${a ? `${a.p50}/${a.p99}/${a.max}` : 'n/a'} ms, both cores ${pct(m.cpu?.machine)} busy, ` +
        `generator lag p99 ${r.sendLagMs.p99} ms.`);
    }
    if (m.mode === 'sync' && (m.tmaxExpired ?? 0) > 0) {
      n.push(`${label}: ${m.tmaxExpired} of ${r.scheduled + Math.round(r.offeredRps * r.warmupSec)} requests (warm-up included) were answered 204 because tmax ran out, not because nothing bid; ` +
        `${m.lateOutcomes ?? 'n/a'} outcomes arrived after their answer.`);
    }
  }
  for (const l of lags) {
    if (l.outcomes < l.requests) n.push(`sync at ${l.rate} rps: ${l.requests - l.outcomes} of ${l.requests} requests in the topic have no outcome (enriched ${l.enriched}, BidSets ${l.bidSets}).`);
    if (l.winsPastDeadline > 0) n.push(`sync at ${l.rate} rps: ${l.winsPastDeadline} winning outcomes were produced after the edge's deadline: bids lost to time.`);
  }
  return n;
}
