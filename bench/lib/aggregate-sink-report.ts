/** The aggregate-sink scenario's notes and document: aggregate vs pass-through events/s, the sink into Postgres, end-to-end delay. */
import type { DrainResult, SinkDrainResult } from './drain.js';
import type { fixedRateDelay } from './lag.js';
import type { BatchStats } from './metrics-scrape.js';
import { busyNote, document, failedRow, fmt as f, machineNotes, percent as pct, section, table } from './results.js';
import type { Block, Percentiles, ResultHead } from './results.js';
import type { CleanupResult } from './sink-cleanup.js';
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
  sharedRows: { before: number | null; after: number | null };
  stops: Services['stops'];
  throughput: ThroughputRun[];
  medians: Record<ThroughputRun['label'] | 'passthrough-same-events', Rates> | null;
  ratio: { eventsPerSec: number | null; eventsPerCpuSec: number | null; sameEventsPerSec: number | null; sameEventsPerCpuSec: number | null };
  sink: (SinkDrainResult & { deadLetters: number; ledgerPartitions: Array<{ partition: number; parts: number; allRequestParts: number }> }) | null;
  exactness: { expectedKeys: number; gotKeys: number; mismatches: string[] } | null;
  e2e: Array<Awaited<ReturnType<typeof fixedRateDelay>> & { cpuShares: Record<string, number | null>; batches: Record<'aggregate' | 'sink', BatchStats> }>;
  cleanup: CleanupResult | null;
  notes: string[];
};

const pcts = (p: Percentiles | null): number[] | string[] => (p ? [p.p50, p.p95, p.p99, p.max] : ['n/a', 'n/a', 'n/a', 'n/a']);
const shares = (s: Record<string, number | null>, keys: string[]): string[] => keys.map((k) => pct(s[k]));

export function aggregateSinkNotes(r: AggregateSinkReport, pgPollMs: number): string[] {
  const n = machineNotes(r);
  for (const t of r.throughput) {
    const label = `${t.label} #${t.rep + 1}`;
    n.push(...busyNote(label, t.drain.cpuShares.machine));
    if (t.deadLetters > 0) n.push(`${label}: the dead-letter topic gained ${t.deadLetters} records during the run (topic-wide).`);
    for (const k of ['aggregate_duplicate_notices_total', 'aggregate_late_records_total']) {
      if ((t.extra[k] ?? 0) > 0) n.push(`${label}: ${k} rose by ${t.extra[k]} (the inputs hold no duplicates or late notices).`);
    }
  }
  const sk = r.sink;
  if (sk) n.push(...busyNote('sink', sk.cpuShares.machine));
  const written = sk?.metrics.sink_rows_written_total;
  if (sk?.ledgerAtEnd && sk.ledgerAtStart && written != null) {
    const ledger = sk.ledgerAtEnd.touched - sk.ledgerAtStart.touched;
    if (Math.abs(ledger - written) > Math.max(5, ledger * 0.05)) {
      n.push(`sink: rows touched per the ledger (${ledger}) and sink_rows_written_total (${written}) differ by more than 5% over the window ` +
        '(the metric scrape and the ledger count are taken a few ms apart).');
    }
  }
  if (r.exactness && r.exactness.mismatches.length > 0) n.push(`Postgres totals differ from the inputs' totals on ${r.exactness.mismatches.length} keys.`);
  const killed = r.stops.filter((e) => e.goneAfterMs === null);
  if (killed.length) n.push(`Services still running 35 s after SIGTERM (then SIGKILLed): ${killed.map((e) => e.label).join(', ')}.`);
  if (r.sharedRows.before !== null && r.sharedRows.after !== null && r.sharedRows.before !== r.sharedRows.after) {
    n.push(`The shared '*' rows' requests went from ${r.sharedRows.before} to ${r.sharedRows.after} across the run: either something else wrote to ` +
      'window_counts meanwhile or the take-back missed parts.');
  }
  for (const e of r.e2e) {
    if (e.delayMs && e.delayMs.p50 <= pgPollMs) {
      n.push(`${e.rate}/s: the median delay (${e.delayMs.p50} ms) is within one poll interval (${pgPollMs} ms): below that the figure mostly reflects where ` +
        'the poll fell, not the pipeline (true delay lies between the lower bound and the figure).');
    }
    if (e.sendLagMs && e.sendLagMs.p99 > 20) {
      n.push(`${e.rate}/s: the producer fired up to ${e.sendLagMs.max} ms late (p99 ${e.sendLagMs.p99} ms): the bench process was starved; ` +
        'delays are still from the scheduled times.');
    }
    n.push(...busyNote(`${e.rate}/s`, e.cpuShares.machine));
  }
  return n;
}

function throughputRow(t: ThroughputRun): unknown[] {
  const [d, b] = [t.drain, t.batches];
  const label = `${t.label} #${t.rep + 1}`;
  if (d.error) return failedRow(14, d.error, label);
  return [label, Object.values(d.perTopic).join(' + '), d.committedAtStart, d.seconds, `**${f(d.recordsPerSec)}**`, f(d.cpuSeconds, 2), d.recordsPerCpuSec,
    ...shares(d.cpuShares, ['processor', 'kafka', 'redis', 'postgres', 'machine']), `${f(b.batches)} / ${f(b.recordsPerBatch)} / ${f(b.meanBatchMs)}`, d.startupSec];
}

const pair = (p: Percentiles | null): string | null => (p ? `${p.p50} / ${p.p99}` : null);

function e2eRow(e: AggregateSinkReport['e2e'][number]): unknown[] {
  const sendLag = e.sendLagMs && `${e.sendLagMs.p99} / ${e.sendLagMs.max}`;
  return [e.rate, e.durationSec, e.produced, `${e.secondsVisible}/${e.secondsTotal}`, ...pcts(e.delayMs), pair(e.lowerMs), sendLag, pair(e.ackMs),
    `${e.polls} / ${f(e.meanPollQueryMs, 1)}`, ...shares(e.cpuShares, ['aggregate', 'sink', 'postgres', 'kafka', 'redis', 'machine'])];
}

function sinkBlocks(r: AggregateSinkReport): Block[] {
  const d = r.sink;
  if (!d) return ['Not run.'];
  if (d.error) return [`**Failed:** ${d.error.split('\n')[0]}`];
  const [a, b, batches] = [d.ledgerAtStart, d.ledgerAtEnd, d.batches];
  const total = d.ledgerPartitions.reduce((x, p) => x + p.parts, 0);
  const star = d.ledgerPartitions.find((p) => p.allRequestParts > 0);
  const starShare = star && ` the all-request key '*' alone is ${star.allRequestParts} records (${Math.round((star.allRequestParts / Math.max(1, total)) * 100)}%)`;
  return [
    table(['window-counts records applied (in window)', 'seconds', '**records/s**', 'rows touched (ledger)', '**rows touched/s**', 'rows written/s (sink metric)',
      'distinct window_counts rows', 'batches / records per batch / mean batch ms', 'CPU s', 'records per CPU s', 'sink (of one core)', 'postgres', 'kafka',
      'machine busy', 'start-up s'], [[`${(b?.parts ?? 0) - (a?.parts ?? 0)} of ${f(b?.parts)}`, d.seconds, `**${f(d.recordsPerSec)}**`,
      (b?.touched ?? 0) - (a?.touched ?? 0), `**${f(d.rowsTouchedPerSec)}**`, d.metricRowsWrittenPerSec, b?.rows,
      `${batches.batches} / ${f(batches.recordsPerBatch)} / ${f(batches.meanBatchMs)}`, f(d.cpuSeconds, 2), d.recordsPerCpuSec,
      ...shares(d.cpuShares, ['processor', 'postgres', 'kafka', 'machine']), d.startupSec]]),
    [
      `Committed data ends per partition: ${Object.entries(d.dataEnds).map(([p, e]) => `${p}:${e}`).join(', ')} ` +
        `(sum of offset spans ${d.offsetSpan}, transaction markers included).`,
      `Ledger rows per window-counts partition (records are keyed by campaign id): ${d.ledgerPartitions.map((p) => `${p.partition}:${p.parts}`).join(', ')}` +
        `${star ? `;${starShare} on partition ${star.partition}.` : '.'}`,
      `Sink metric deltas over the window: ${Object.entries(d.metrics).map(([k, v]) => `${k}=${f(v, v !== null && !Number.isInteger(v) ? 3 : 0)}`).join(', ')}. ` +
        `Dead-letter topic gained ${d.deadLetters} records (topic-wide).`,
    ],
  ];
}

export function renderAggregateSink(r: AggregateSinkReport): string {
  const [t, c, m] = [r.traffic, r.cleanup, r.medians];
  const blends = ['passthrough', 'passthrough-tracking', 'passthrough-same-events', 'aggregate'] as const;
  const exact = r.exactness;
  return document({
    title: 'Aggregate and sink: throughput and end-to-end delay', head: r, notes: r.notes,
    extra: [`- Load average at the end (1/5/15 min): ${r.loadAvgEnd.join(' / ')}`],
    sections: [
      section('Method',
        `bench/README.md, aggregate-sink.ts. Pre-filled: ${t.calls} calls of traffic-fixture.ts \`makeTraffic\` = ${t.outcomes} outcomes (${t.campaigns} ` +
          `campaigns) and their ${t.notices} notices. Polls every ${String(r.settings.pgPollMs)} ms on average (uniform in 0.5-1.5x) for the delays. CPU: ` +
          'shares of ONE core over the measured window (a service = its process group; postgres = the postmaster and its backends; machine = both cores).'),
      section('1. Events/s through the aggregate (vs the pass-through on the same outcomes)',
        table(['processor', 'events in (per topic)', 'committed at first poll', 'seconds', 'events/s', 'CPU s', 'events per CPU s', 'processor (of one core)',
          'kafka', 'redis', 'postgres', 'machine busy (both cores)', 'batches / events per batch / mean batch ms', 'start-up s'], r.throughput.map(throughputRow)),
        ...(m ? [
          `Medians over ${r.throughput.filter((x) => x.label === 'aggregate').length} run(s), events/s (events per CPU second of the processor):`,
          table(['pass-through, outcomes', 'pass-through, notices', 'pass-through, the same events (blend)', 'aggregate'],
            [blends.map((k) => `${f(m[k].eventsPerSec)} (${f(m[k].eventsPerCpuSec)})`)]),
          'The blend: the pass-through\'s rate on the aggregate\'s exact input, (n_o + n_t) / (n_o / rate_o + n_t / rate_t).',
        ] : []),
        `**Ratio aggregate / pass-through over the outcomes (the baseline asked for): events/s ${f(r.ratio.eventsPerSec, 3)}, per CPU second ` +
          `${f(r.ratio.eventsPerCpuSec, 3)}. Aggregate / pass-through of the same events: events/s ${f(r.ratio.sameEventsPerSec, 3)}, per CPU second ` +
          `${f(r.ratio.sameEventsPerCpuSec, 3)}.**`,
        [
          ...r.throughput.filter((x) => Object.keys(x.extra).length > 0).map((x) => `- ${x.label} #${x.rep + 1} metric deltas from the first poll that saw ` +
            `progress: ${Object.entries(x.extra).map(([k, v]) => `${k}=${f(v)}`).join(', ')}; dead-letter topic gained ${x.deadLetters} records (topic-wide).`),
          `The aggregate wrote ${f(t.windowCountsRecords)} window-counts records (partial sums) for these events.`,
        ]),
      section('2. Sink into Postgres', ...sinkBlocks(r), exact
        ? `Exactness check: ${exact.gotKeys} keys in Postgres for ${exact.expectedKeys} expected; ` +
          `${exact.mismatches.length === 0 ? 'every total equal' : `${exact.mismatches.length} differ, e.g. ${exact.mismatches.slice(0, 3).join('; ')}`}.`
        : 'Exactness check: not run.'),
      section('3. End-to-end delay: outcome produced -> its bids visible in window_counts',
        table(['events/s', 's', 'produced (acked)', 'seconds complete', 'delay p50 ms', 'p95', 'p99', 'max', 'lower bound p50 / p99 ms', 'send lag p99 / max ms',
          'ack p50 / p99 ms', 'polls / mean query ms', 'aggregate CPU', 'sink CPU', 'postgres', 'kafka', 'redis', 'machine busy'], r.e2e.map(e2eRow)),
        'From the ledger, per second (ms): aggregate hop = last send -> Kafka timestamp of its window-counts record; sink hop = that -> `applied_at` ' +
          'of the sink transaction (its start); total: a lower bound of the visibility delay.',
        table(['events/s', 'aggregate hop p50', 'p95', 'p99', 'max', 'sink hop p50', 'p95', 'p99', 'max', 'total (ledger) p50', 'p95', 'p99', 'max'],
          r.e2e.map((e) => [e.rate, ...pcts(e.hops.aggregate), ...pcts(e.hops.sink), ...pcts(e.hops.ledger)])),
        'Batches during each rate (the sink\'s include its Postgres transaction up to the commit: what separates `applied_at` from visibility).',
        table(['events/s', 'aggregate batches', 'records per batch', 'mean batch ms', 'sink batches', 'records per batch', 'mean batch ms'],
          r.e2e.map(({ rate, batches: b }) => [rate, ...[b.aggregate, b.sink].flatMap((x) => [x.batches, f(x.recordsPerBatch, 1), f(x.meanBatchMs, 1)])])),
        r.e2e.flatMap((e) => [
          ...(e.missing.length ? [`- ${e.rate}/s: ${e.missing.length} seconds never complete within the settle time: ${e.missing.slice(0, 5).join('; ')}`] : []),
          ...(e.overcounted.length ? [`- ${e.rate}/s: counted more than produced: ${e.overcounted.slice(0, 5).join('; ')}`] : []),
          ...(e.error ? [`- ${e.rate}/s: ${e.error}`] : []),
        ])),
      section('Cleanup', c
        ? `Take-back of the run's ledger parts (also from the shared '*' rows): ${c.partsTakenBack} parts, ${c.rowsUpdatedByTakeBack} window_counts rows ` +
          `updated; then deleted: ${c.leftoverRowsDeleted} leftover rows under the campaign prefix, ${c.ledgerRowsDeleted} ledger rows, ${c.offsetRowsDeleted} ` +
          `sink_offsets rows, ${c.dedupKeysDeleted} Redis de-duplication keys.${c.errors.length ? ` Errors: ${c.errors.join('; ')}` : ''} Sum of requests ` +
          `on the shared '*' rows: ${f(r.sharedRows.before)} before the run, ${f(r.sharedRows.after)} after the cleanup (equal unless something else wrote ` +
          'meanwhile). Services stopped with SIGTERM, ms until the process group was gone: ' +
          `${r.stops.map((e) => `${e.label} ${e.goneAfterMs ?? 'SIGKILLed'}`).join(', ')}.`
        : 'Not run.'),
    ],
  });
}
