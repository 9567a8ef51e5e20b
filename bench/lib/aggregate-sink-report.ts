/** The aggregate-sink scenario's notes and document: aggregate vs pass-through events/s, the sink into Postgres, end-to-end delay. */
import type { DrainResult, SinkDrainResult } from './drain.js';
import type { BatchStats } from './metrics-scrape.js';
import { busyNote, document, machineNotes, type ResultHead } from './results.js';
import type { Services } from './services.js';

export interface ThroughputRun {
  label: 'passthrough' | 'passthrough-tracking' | 'aggregate';
  rep: number;
  group: string;
  drain: DrainResult & { perTopic: Record<string, number> };
  batches: BatchStats;
  extra: Record<string, number | null>;
  deadLetters: number;
}

type Rates = { eventsPerSec: number | null; eventsPerCpuSec: number | null };

export type AggregateSinkReport = ResultHead & {
  loadAvgEnd: number[];
  traffic: { outcomes: number; notices: number; calls: number; campaigns: number; windowCountsRecords: number | null };
  stops: Services['stops'];
  throughput: ThroughputRun[];
  medians: Record<ThroughputRun['label'] | 'passthrough-same-events', Rates> | null;
  ratio: { eventsPerSec: number | null; eventsPerCpuSec: number | null; sameEventsPerSec: number | null; sameEventsPerCpuSec: number | null };
  sink: (SinkDrainResult & { deadLetters: number }) | null;
  cleanup: string[];
  notes: string[];
};

export function aggregateSinkNotes(r: AggregateSinkReport): string[] {
  const n = machineNotes(r);
  for (const t of r.throughput) {
    const label = `${t.label} #${t.rep + 1}`;
    n.push(...busyNote(label, t.drain.cpuShares.machine));
    if (t.deadLetters > 0) n.push(`${label}: the dead-letter topic gained ${t.deadLetters} records during the run (topic-wide).`);
    for (const k of ['aggregate_duplicate_notices_total', 'aggregate_late_records_total']) {
      if ((t.extra[k] ?? 0) > 0) n.push(`${label}: ${k} rose by ${t.extra[k]} (the inputs hold no duplicates or late notices).`);
    }
  }
  if (r.sink) n.push(...busyNote('sink', r.sink.cpuShares.machine));
  const killed = r.stops.filter((e) => e.goneAfterMs === null);
  if (killed.length) n.push(`Services still running 35 s after SIGTERM (then SIGKILLed): ${killed.map((e) => e.label).join(', ')}.`);
  return n;
}

export function renderAggregateSink(r: AggregateSinkReport): string {
  const t = r.traffic;
  return document({
    title: 'Aggregate and sink: events/s, records and rows/s into Postgres', head: r, notes: r.notes, summary: { ratio: r.ratio, medians: r.medians },
    extra: [`- Load average at the end (1/5/15 min): ${r.loadAvgEnd.join(' / ')}`],
    method: `Method: bench/README.md, aggregate-sink.ts. Pre-filled: ${t.calls} calls of traffic-fixture.ts \`makeTraffic\` = ${t.outcomes} outcomes ` +
      `(${t.campaigns} campaigns) and their ${t.notices} notices; the aggregate wrote ${t.windowCountsRecords ?? 'n/a'} window-counts records. ratio: ` +
      'aggregate / pass-through over the outcomes, and over the same events (the blend (n_o + n_t) / (n_o / rate_o + n_t / rate_t)). CPU: shares ' +
      'of ONE core over the measured window (a service = its process group; postgres = the postmaster and its backends; machine = both cores). ' +
      'The delay from a bid request to Postgres: e2e.ts.',
    details: [
      { title: '1. Events/s through the aggregate and the pass-throughs', data: r.throughput, label: (x: ThroughputRun) => `${x.label} #${x.rep + 1}` },
      { title: '2. Sink into Postgres', data: r.sink },
      { title: 'Cleanup', data: [...r.cleanup, `stopped (ms until gone): ${r.stops.map((e) => `${e.label} ${e.goneAfterMs ?? 'SIGKILLed'}`).join(', ')}`].join('; ') },
    ],
  });
}
