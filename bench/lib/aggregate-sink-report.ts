/**
 * The aggregate-sink scenario's result files: events/s through the aggregate next to the pass-through on
 * the same outcomes in the same run, records/s and rows/s of the sink into Postgres, and the end-to-end
 * delay (outcome produced -> counts visible in Postgres) at fixed rates; plus the machine and its load.
 */
import type { BatchStats } from './metrics-scrape.js';
import { document, fmt as f, percent as pct, section, table, type Percentiles, type ResultHead } from './results.js';
import type { DrainResult, SinkDrainResult } from './drain.js';
import type { fixedRateDelay } from './lag.js';
import type { CleanupResult } from './sink-cleanup.js';

export interface ThroughputRun {
  label: 'passthrough' | 'passthrough-tracking' | 'aggregate';
  rep: number;
  group: string;
  topics: string[];
  /** The drain, with the records each input topic held. */
  drain: (DrainResult & { perTopic: Record<string, number> }) | null;
  batches: BatchStats | null;
  /** Selected service metrics over the measured window (records out, duplicates, late records). */
  extra: Record<string, number | null>;
  deadLetters: number;
  error?: string;
}

export interface Exactness {
  /** Keys (campaign, creative, window) expected from the inputs and found in Postgres. */
  expectedKeys: number;
  gotKeys: number;
  mismatches: string[];
}

export interface AggregateSinkReport extends ResultHead {
  loadAvgEnd: number[];
  traffic: { outcomes: number; notices: number; calls: number; campaigns: number; windowCountsRecords: number | null };
  throughput: ThroughputRun[];
  /** Medians over the repetitions. */
  medians: Record<ThroughputRun['label'] | 'passthrough-same-events', { eventsPerSec: number | null; eventsPerCpuSec: number | null }> | null;
  /** aggregate / pass-through over the outcomes (the brief's baseline), and / the pass-through of the same events (outcomes and notices), of the medians. */
  ratio: { eventsPerSec: number | null; eventsPerCpuSec: number | null; sameEventsPerSec: number | null; sameEventsPerCpuSec: number | null };
  sink: (SinkDrainResult & { deadLetters: number; ledgerPartitions: Array<{ partition: number; parts: number; allRequestParts: number }> }) | { error: string } | null;
  /** Sum of `requests` over the shared '*' rows before the run and after the cleanup (others may write meanwhile). */
  sharedRows: { before: number | null; after: number | null };
  /** Per stopped service: ms from SIGTERM until its whole process group was gone (null: SIGKILLed after 35 s). */
  stops: Array<{ label: string; goneAfterMs: number | null }>;
  sinkGroupDeletion: string;
  exactness: Exactness | null;
  /** Per rate, with both services' CPU and batches during it. */
  e2e: Array<Awaited<ReturnType<typeof fixedRateDelay>> & { cpuShares: Record<string, number | null>; postgresShare: number | null; batches: Record<'aggregate' | 'sink', BatchStats> }>;
  cleanup: CleanupResult | null;
  notes: string[];
}

const share = (s: Record<string, number | null>, k: string): string => pct(s[k]);
const pcts = (p: Percentiles | null): string => (p ? `${p.p50} | ${p.p95} | ${p.p99} | ${p.max}` : 'n/a | n/a | n/a | n/a');

/** What the numbers say went wrong, spelled out. */
export function aggregateSinkNotes(r: AggregateSinkReport, pgPollMs: number): string[] {
  const n: string[] = [];
  if (!r.machine.pinned) n.push('taskset is not available: nothing was pinned.');
  if (r.machine.loadAvg[0]! > r.machine.nproc) n.push(`The 1-minute load average at the start (${r.machine.loadAvg[0]}) exceeded the ${r.machine.nproc} cores: other work competed for the CPU; compare the ratio, not absolute rates.`);
  for (const t of r.throughput) {
    const d = t.drain;
    if ((d?.machineBusy ?? 0) > 0.9) n.push(`${t.label} #${t.rep + 1}: the machine was ${pct(d?.machineBusy)} busy during the measurement: the rate is bounded by the shared cores.`);
    if (t.deadLetters > 0) n.push(`${t.label} #${t.rep + 1}: the dead-letter topic gained ${t.deadLetters} records during the run (topic-wide).`);
    for (const k of ['aggregate_duplicate_notices_total', 'aggregate_late_records_total'] as const) if ((t.extra[k] ?? 0) > 0) n.push(`${t.label} #${t.rep + 1}: ${k} rose by ${t.extra[k]} (the inputs hold no duplicates or late notices).`);
  }
  const sk = r.sink && 'seconds' in r.sink ? r.sink : null;
  if (sk && (sk.machineBusy ?? 0) > 0.9) n.push(`sink: the machine was ${pct(sk.machineBusy)} busy during the measurement.`);
  if (sk && sk.metrics.sink_rows_written_total != null && sk.ledgerAtEnd && sk.ledgerAtStart) {
    const ledger = sk.ledgerAtEnd.touched - sk.ledgerAtStart.touched;
    if (Math.abs(ledger - sk.metrics.sink_rows_written_total) > Math.max(5, ledger * 0.05)) n.push(`sink: rows touched per the ledger (${ledger}) and sink_rows_written_total (${sk.metrics.sink_rows_written_total}) differ by more than 5% over the window (the metric scrape and the ledger count are taken a few ms apart).`);
  }
  if (r.exactness && r.exactness.mismatches.length > 0) n.push(`Postgres totals differ from the inputs' totals on ${r.exactness.mismatches.length} keys.`);
  const killed = r.stops.filter((e) => e.goneAfterMs === null);
  if (killed.length) n.push(`Services still running 35 s after SIGTERM (then SIGKILLed): ${killed.map((e) => e.label).join(', ')}.`);
  if (!r.sinkGroupDeletion.startsWith('deleted after 1 ')) n.push(`Sink consumer group: ${r.sinkGroupDeletion}.`);
  if (r.sharedRows.before !== null && r.sharedRows.after !== null && r.sharedRows.before !== r.sharedRows.after) {
    n.push(`The shared '*' rows' requests went from ${r.sharedRows.before} to ${r.sharedRows.after} across the run: either something else wrote to window_counts meanwhile or the take-back missed parts.`);
  }
  for (const e of r.e2e) {
    if (e.delayMs && e.delayMs.p50 <= pgPollMs) n.push(`${e.rate}/s: the median delay (${e.delayMs.p50} ms) is within one poll interval (${pgPollMs} ms): below that the figure mostly reflects where the poll fell, not the pipeline (true delay lies between the lower bound and the figure).`);
    if (e.sendLagMs && e.sendLagMs.p99 > 20) n.push(`${e.rate}/s: the producer fired up to ${e.sendLagMs.max} ms late (p99 ${e.sendLagMs.p99} ms): the bench process was starved; delays are still from the scheduled times.`);
    if ((e.cpuShares.machine ?? 0) > 0.9) n.push(`${e.rate}/s: the machine was ${pct(e.cpuShares.machine)} busy during the run.`);
  }
  return n;
}

function throughputTable(r: AggregateSinkReport): string[] {
  const cols = ['processor', 'events in (per topic)', 'committed at first poll', 'seconds', 'events/s', 'CPU s', 'events per CPU s', 'processor (of one core)', 'kafka', 'redis', 'postgres',
    'machine busy (both cores)', 'batches / events per batch / mean batch ms', 'start-up s'];
  return table(cols, r.throughput.map((t) => {
    const [d, b] = [t.drain, t.batches];
    if (!d || d.error || t.error) return [`${t.label} #${t.rep + 1}`, `failed: ${(t.error ?? d?.error ?? '').split('\n')[0]}`, ...cols.slice(2).map(() => '')];
    return [`${t.label} #${t.rep + 1}`, Object.values(d.perTopic).join(' + '), d.committedAtStart, d.seconds, `**${f(d.recordsPerSec)}**`, f(d.cpuSeconds, 2), d.recordsPerCpuSec,
      share(d.cpuShares, 'processor'), share(d.cpuShares, 'kafka'), share(d.cpuShares, 'redis'), pct(d.postgresShare), pct(d.machineBusy), `${f(b?.batches)} / ${f(b?.recordsPerBatch)} / ${f(b?.meanBatchMs)}`, d.startupSec];
  }));
}

function sinkLines(r: AggregateSinkReport): string[] {
  const s = r.sink;
  if (!s) return ['Not run.'];
  if ('error' in s && !('seconds' in s)) return [`**Failed:** ${s.error.split('\n')[0]}`];
  const d = s as SinkDrainResult & { deadLetters: number; ledgerPartitions: Array<{ partition: number; parts: number; allRequestParts: number }> };
  const cols = ['window-counts records applied (in window)', 'seconds', '**records/s**', 'rows touched (ledger)', '**rows touched/s**', 'rows written/s (sink metric)', 'distinct window_counts rows',
    'batches / records per batch / mean batch ms', 'CPU s', 'records per CPU s', 'sink (of one core)', 'postgres', 'kafka', 'machine busy', 'start-up s'];
  const [a, b] = [d.ledgerAtStart, d.ledgerAtEnd];
  const lines = table(cols, [d.error ? [`failed: ${d.error.split('\n')[0]}`, ...cols.slice(1).map(() => '')]
    : [`${(b?.parts ?? 0) - (a?.parts ?? 0)} of ${f(b?.parts)}`, d.seconds, `**${f(d.recordsPerSec)}**`, (b?.touched ?? 0) - (a?.touched ?? 0), `**${f(d.rowsTouchedPerSec)}**`, d.metricRowsWrittenPerSec, b?.rows,
      `${f(d.batches)} / ${f(d.recordsPerBatch)} / ${f(d.meanBatchMs)}`, f(d.cpuSeconds, 2), d.recordsPerCpuSec, share(d.cpuShares, 'processor'), pct(d.postgresShare), share(d.cpuShares, 'kafka'), pct(d.machineBusy), d.startupSec]]);
  lines.push('', `Committed data ends per partition: ${Object.entries(d.dataEnds).map(([p, e]) => `${p}:${e}`).join(', ')} (sum of offset spans ${d.offsetSpan}, transaction markers included).`);
  const total = d.ledgerPartitions.reduce((x, p) => x + p.parts, 0);
  const star = d.ledgerPartitions.find((p) => p.allRequestParts > 0);
  lines.push(`Ledger rows per window-counts partition (records are keyed by campaign id): ${d.ledgerPartitions.map((p) => `${p.partition}:${p.parts}`).join(', ')}` +
    (star ? `; the all-request key '*' alone is ${star.allRequestParts} records (${Math.round((star.allRequestParts / Math.max(1, total)) * 100)}% of all) on partition ${star.partition}.` : '.'));
  lines.push(`Sink metric deltas over the window: ${Object.entries(d.metrics).map(([k, v]) => `${k}=${f(v, v !== null && !Number.isInteger(v) ? 3 : 0)}`).join(', ')}. Dead-letter topic gained ${d.deadLetters} records (topic-wide).`);
  return lines;
}

function e2eTable(r: AggregateSinkReport): string[] {
  return table(['events/s', 's', 'produced (acked)', 'seconds complete', 'delay p50 ms', 'p95', 'p99', 'max', 'lower bound p50 / p99 ms', 'send lag p99 / max ms', 'ack p50 / p99 ms',
    'polls / mean query ms', 'aggregate CPU', 'sink CPU', 'postgres', 'kafka', 'redis', 'machine busy'], r.e2e.map((e) => [e.rate, e.durationSec, e.produced, `${e.secondsVisible}/${e.secondsTotal}`,
    pcts(e.delayMs), e.lowerMs ? `${e.lowerMs.p50} / ${e.lowerMs.p99}` : null, e.sendLagMs ? `${e.sendLagMs.p99} / ${e.sendLagMs.max}` : null, e.ackMs ? `${e.ackMs.p50} / ${e.ackMs.p99}` : null,
    `${e.polls} / ${f(e.meanPollQueryMs, 1)}`, ...['aggregate', 'sink'].map((k) => share(e.cpuShares, k)), pct(e.postgresShare), ...['kafka', 'redis', 'machine'].map((k) => share(e.cpuShares, k))]));
}

export function renderAggregateSink(r: AggregateSinkReport): string {
  const t = r.traffic;
  return document('Aggregate and sink: throughput and end-to-end delay', r, [`- Load average at the end (1/5/15 min): ${r.loadAvgEnd.join(' / ')}`], [
    '## Method',
    '',
    `Everything runs on topics and consumer groups of this run (deleted at the end) against the local stack on loopback. ` +
      `Pre-filled traffic: ${t.calls} calls of processors/aggregate/traffic-fixture.ts \`makeTraffic(prefix-k<j>, now, seed j+1)\` = ${t.outcomes} auction outcomes ` +
      `(over the last 30 minutes, ${t.campaigns} campaigns) and their ${t.notices} notices (billing, impression, some clicks and conversions; ` +
      'the fixture\'s duplicate and late notices are left out), written with a plain producer (no transaction markers), keyed by request id.',
    '',
    '1. **Aggregate events/s.** One instance of the pass-through processor (`processors/passthrough/main.ts`, `PASSTHROUGH_SCHEMA=auction-outcome.avsc`) over the outcomes topic ' +
      'to a copy topic (the baseline: the same runner, decode, encode and transactions with no logic), one over the tracking topic (`tracking-event.avsc`, so the baseline can be ' +
      'blended to the aggregate\'s exact input), and one aggregate instance over the outcomes and tracking topics ' +
      '(`AGGREGATE_NAME/OUTCOMES/TRACKING/OUTPUT` of the run), `repeat` times alternating which goes first, each with a consumer group of its own. Each is timed from the first poll (every `poll-ms`) of its group\'s committed offsets that sees a commit to the poll ' +
      'where processors/runtime/group-lag.ts `groupLag` is 0 on every input partition; events committed before the first poll are not counted; start-up is excluded. ' +
      'The two are not the same work: the pass-through reads only the outcomes, the aggregate reads outcomes AND notices (a Redis de-duplication round trip per batch of notices) ' +
      'and writes partial sums, so compare per event.',
    '2. **Sink records/s and rows/s.** The first repetition\'s aggregate is started again (same group: it resumes at the end, idle) and the sink (`sink/main.ts`, `SINK_INPUT` = the aggregate\'s output, `SINK_GROUP` of the run) is started. ' +
      'It is timed from the first poll (every `poll-ms`) of `sink_offsets` that sees a position past the log start to the poll where every partition\'s `next_offset` reached ' +
      'the committed data end (processors/runtime/read-topic.ts `committedDataEnds`). Records = ledger rows (`window_count_parts` with `wc_topic` = the topic); window_counts rows touched = ' +
      'distinct (applied_at, campaign, creative, window) in the ledger, i.e. one upsert per key per batch transaction (cross-checked with the sink\'s `sink_rows_written_total`). ' +
      'Then Postgres totals under the run\'s campaign prefix are compared with totals computed from the inputs (processors/aggregate/window.ts `WindowSums`).',
    '3. **End-to-end delay.** With the aggregate and the sink running, an open-loop producer in the bench process (idempotent, acks=all, linger 2 ms, like the edge) writes outcomes on a fixed schedule ' +
      '(event i at t0 + i/rate, `receivedAtMs` = now, one bid and one win each). Every second\'s events bid for their own campaign `<prefix>-e<rate>-s<second>`; a poller ' +
      `(every ${String(r.settings.pgPollMs)} ms on average: each interval is drawn uniformly from 0.5-1.5 times that, because a fixed period is phase-locked to the 1-second campaigns and would sample every second at the same offset) runs \`select campaign_id, sum(bids) from window_counts where campaign_id like '<prefix>-e<rate>-s%' group by campaign_id\`. ` +
      'A second\'s delay is from the scheduled time of its last event to the first poll that sees its full bid count (the query\'s midpoint). The row became visible between the previous poll ' +
      'and that one, so each delay includes the wait for the next poll: with intervals uniform in [50, 150] ms that wait averages E[I²]/(2E[I]) ≈ 54 ms; "lower bound" uses the previous poll instead. The ledger gives a poll-independent figure (second table below).',
    '',
    'CPU columns are shares of ONE core over the measured window from /proc (a service = its process group; postgres = the postmaster and its backends); "machine busy" is the share of ' +
      'both cores busy with anything, including other work on the machine.',
    '',
    '## 1. Events/s through the aggregate (vs the pass-through on the same outcomes)',
    '',
    ...throughputTable(r),
    '',
    ...(r.medians
      ? [
        `Medians over ${r.throughput.filter((x) => x.label === 'aggregate').length} run(s), events/s (events per CPU second of the processor):`,
        '',
        `| pass-through, outcomes | pass-through, notices | pass-through, the same events (blend) | aggregate |`,
        '|---:|---:|---:|---:|',
        `| ${(['passthrough', 'passthrough-tracking', 'passthrough-same-events', 'aggregate'] as const).map((k) => `${f(r.medians![k].eventsPerSec)} (${f(r.medians![k].eventsPerCpuSec)})`).join(' | ')} |`,
        '',
        'The blend is the pass-through\'s time for the aggregate\'s exact input: outcomes at the outcome rate plus notices at the notice rate, (n_o + n_t) / (n_o / rate_o + n_t / rate_t).',
      ]
      : []),
    '',
    `**Ratio aggregate / pass-through over the outcomes (the baseline asked for): events/s ${f(r.ratio.eventsPerSec, 3)}, per CPU second ${f(r.ratio.eventsPerCpuSec, 3)}. ` +
      `Aggregate / pass-through of the same events: events/s ${f(r.ratio.sameEventsPerSec, 3)}, per CPU second ${f(r.ratio.sameEventsPerCpuSec, 3)}.**`,
    '',
    'Metric deltas below run from a scrape taken just after the first poll (so a batch committed in between falls outside) to the end:',
    '',
    ...r.throughput.filter((x) => Object.keys(x.extra).length > 0).map((x) =>
      `- ${x.label} #${x.rep + 1} metric deltas over the window: ${Object.entries(x.extra).map(([k, v]) => `${k}=${f(v)}`).join(', ')}; dead-letter topic gained ${x.deadLetters} records (topic-wide).`),
    `The aggregate wrote ${f(t.windowCountsRecords)} window-counts records (partial sums) for these events.`,
    '',
    '## 2. Sink into Postgres',
    '',
    ...sinkLines(r),
    '',
    r.exactness
      ? `Exactness check: ${r.exactness.gotKeys} keys in Postgres for ${r.exactness.expectedKeys} expected; ${r.exactness.mismatches.length === 0 ? 'every total equal' : `${r.exactness.mismatches.length} differ, e.g. ${r.exactness.mismatches.slice(0, 3).join('; ')}`}.`
      : 'Exactness check: not run.',
    '',
    '## 3. End-to-end delay: outcome produced -> its bids visible in window_counts',
    '',
    ...e2eTable(r),
    '',
    'Poll-independent breakdown per second from the ledger (ms, p50 | p95 | p99 | max): aggregate hop = last event sent (wall clock) -> Kafka timestamp of the last window-counts ' +
      'record for that second\'s campaign (stamped when the aggregate\'s transaction produced it); sink hop = that timestamp -> `applied_at` of the sink transaction that applied it ' +
      '(the transaction\'s start: its commit comes a few ms later); total = the two together, a lower bound of the visibility delay.',
    '',
    '| events/s | aggregate hop p50 | p95 | p99 | max | sink hop p50 | p95 | p99 | max | total (ledger) p50 | p95 | p99 | max |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.e2e.map((e) => `| ${e.rate} | ${pcts(e.hops.aggregate)} | ${pcts(e.hops.sink)} | ${pcts(e.hops.ledger)} |`),
    '',
    'Batches during each rate (from the services\' metrics): the sink\'s batch time includes its Postgres transaction up to the commit, which is what separates the ledger\'s `applied_at` from visibility.',
    '',
    '| events/s | aggregate batches | records per batch | mean batch ms | sink batches | records per batch | mean batch ms |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...r.e2e.map((e) => `| ${e.rate} | ${f(e.batches.aggregate.batches)} | ${f(e.batches.aggregate.recordsPerBatch, 1)} | ${f(e.batches.aggregate.meanBatchMs, 1)} | ` +
      `${f(e.batches.sink.batches)} | ${f(e.batches.sink.recordsPerBatch, 1)} | ${f(e.batches.sink.meanBatchMs, 1)} |`),
    '',
    ...r.e2e.flatMap((e) => [
      ...(e.missing.length ? [`- ${e.rate}/s: ${e.missing.length} seconds never complete within the settle time: ${e.missing.slice(0, 5).join('; ')}`] : []),
      ...(e.overcounted.length ? [`- ${e.rate}/s: counted more than produced: ${e.overcounted.slice(0, 5).join('; ')}`] : []),
      ...(e.error ? [`- ${e.rate}/s: ${e.error}`] : []),
    ]),
    '',
    '## Cleanup',
    '',
    r.cleanup
      ? `Take-back of the run's ledger parts (also from the shared '*' rows): ${r.cleanup.partsTakenBack} parts, ${r.cleanup.rowsUpdatedByTakeBack} window_counts rows updated; then deleted: ` +
        `${r.cleanup.leftoverRowsDeleted} leftover rows under the campaign prefix, ${r.cleanup.ledgerRowsDeleted} ledger rows, ${r.cleanup.offsetRowsDeleted} sink_offsets rows, ` +
        `${r.cleanup.dedupKeysDeleted} Redis de-duplication keys.${r.cleanup.errors.length ? ` Errors: ${r.cleanup.errors.join('; ')}` : ''} ` +
        `Sum of requests on the shared '*' rows: ${f(r.sharedRows.before)} before the run, ${f(r.sharedRows.after)} after the cleanup (equal unless something else wrote meanwhile). ` +
        `Services stopped with SIGTERM, ms until the process group was gone: ${r.stops.map((e) => `${e.label} ${e.goneAfterMs ?? 'SIGKILLed'}`).join(', ')}. Sink consumer group: ${r.sinkGroupDeletion}.`
      : 'Not run.',
    '',
  ], r.notes);
}
