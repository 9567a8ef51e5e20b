/**
 * The one drain watcher: how fast a service works through pre-filled input, from a progress probe polled every
 * `pollMs`. Start-up (process start, schema registration, catalogue load, group join) is excluded: the clock
 * starts at the first poll that sees progress, and what was done by then is not counted; it stops at the poll
 * that sees everything done. A `sample` (metrics, ledger counts) is taken at those two polls. Probes:
 * - `groupLagProgress`: a consumer group's lag over topics written with a plain producer (no transaction
 *   markers, so "lag 0" is exact), from processors/runtime/group-lag.ts: the processors and the aggregate;
 * - `sinkProgress`: the sink's positions in Postgres (sink_offsets, advanced in the transaction that writes),
 *   against the committed data ends of its transactional input (processors/runtime/read-topic.ts).
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { groupLag } from '../../processors/runtime/group-lag.js';
import { committedDataEnds } from '../../processors/runtime/read-topic.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import { cpuShares, postgresCpu, snapshotCpu, type CpuSnapshot, type CpuSubject, type PgCpu } from './cpu.js';
import { scrapeMetrics } from './metrics-scrape.js';
import { stackConfig } from './run-topics.js';

/**
 * `records` in the input, `committedAtStart` done at the first poll that saw progress (not counted), `seconds` from that poll
 * to the one that saw everything done; records/s (null when all was done between two polls) and per CPU second of the service's
 * process group; `cpuShares` per watched subject (`processor`, the stack's servers) and `machineBusy` (all cores) over that
 * window, `postgresShare` when asked for; `startupSec` from the service's start to the first progress seen.
 */
export interface DrainResult {
  records: number;
  committedAtStart: number;
  seconds: number;
  recordsPerSec: number | null;
  cpuSeconds: number | null;
  recordsPerCpuSec: number | null;
  machineBusy: number | null;
  cpuShares: Record<string, number | null>;
  postgresShare: number | null;
  startupSec: number;
  error?: string;
}

/** What a poll saw: records done so far, and whether that is all of them. */
type Progress = { committed: number; done: boolean };

/**
 * `subjects`: whose CPU to measure (`processor`, the service's process group, and stack servers); `startedAt`: performance.now()
 * at the service's start; `failed`: a reason to stop early (the service exited); `sample`: taken at the first and the last poll;
 * `postgres`: also measure the local Postgres server's CPU; `moreHint`: how to get a measurable window (e.g. "use more --records").
 */
interface DrainWatch<S> {
  records: number;
  progress: () => Promise<Progress>;
  subjects: Readonly<Record<string, CpuSubject>>;
  startedAt: number;
  pollMs: number;
  timeoutMs: number;
  failed: () => string | undefined;
  sample?: () => Promise<S>;
  postgres?: boolean;
  moreHint: string;
}

interface Mark<S> {
  at: number;
  committed: number;
  cpu: CpuSnapshot;
  pg: PgCpu | null;
  sample?: S;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Polls until everything is done, the service fails, or the timeout. `samples` holds the two samples when both were taken. */
export async function watchDrain<S = undefined>(w: DrainWatch<S>): Promise<DrainResult & { samples?: { first: S; last: S } }> {
  const { records } = w;
  const deadline = performance.now() + w.timeoutMs;
  let first: Mark<S> | null = null;
  let lastCommitted = 0;
  const result = (last: Mark<S> | null, error?: string): DrainResult & { samples?: { first: S; last: S } } => {
    const seconds = first && last ? (last.at - first.at) / 1000 : 0;
    const measured = records - (first?.committed ?? 0);
    const [p0, p1] = [first?.cpu.seconds.processor, last?.cpu.seconds.processor];
    const cpuSeconds = p0 != null && p1 != null ? round(p1 - p0, 2) : null;
    const shares = first && last ? cpuShares(first.cpu, last.cpu) : {};
    const pgSec = first?.pg && last?.pg ? last.pg.minus(first.pg) : null;
    return {
      records,
      committedAtStart: first?.committed ?? 0,
      seconds: round(seconds),
      recordsPerSec: !error && seconds > 0 && measured > 0 ? Math.round(measured / seconds) : null,
      cpuSeconds,
      recordsPerCpuSec: !error && cpuSeconds ? Math.round(measured / cpuSeconds) : null,
      machineBusy: shares.machine ?? null,
      cpuShares: shares,
      postgresShare: pgSec !== null && seconds > 0 ? round(pgSec / seconds, 2) : null,
      startupSec: first ? round((first.at - w.startedAt) / 1000, 1) : 0,
      ...(error ? { error } : {}),
      ...(first?.sample !== undefined && last?.sample !== undefined ? { samples: { first: first.sample, last: last.sample } } : {}),
    };
  };
  const mark = async (at: number, committed: number): Promise<Mark<S>> =>
    ({ at, committed, cpu: snapshotCpu(w.subjects), pg: w.postgres ? postgresCpu() : null, sample: await w.sample?.() });
  while (performance.now() < deadline) {
    const failure = w.failed();
    if (failure) return result(null, failure);
    const sentAt = performance.now();
    const { committed, done } = await w.progress();
    // The broker (or Postgres) answered somewhere between send and receive: take the middle.
    const at = (sentAt + performance.now()) / 2;
    lastCommitted = committed;
    if (!first && committed > 0) {
      first = await mark(at, committed);
      if (done) return result(first, `all ${records} records were done before the first poll saw progress: ${w.moreHint}`);
    } else if (first && done) {
      return result(await mark(at, committed));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, w.pollMs - (performance.now() - sentAt))));
  }
  return result(null, `not drained within ${w.timeoutMs / 1000} s (${lastCommitted} of ${records} done)`);
}

/** Records per topic (end - log start) now, and a probe of the group's lag over all of them (plain topics: no markers). */
export async function groupLagProgress(admin: Admin, group: string, topics: readonly string[]): Promise<{ perTopic: Record<string, number>; records: number; progress: () => Promise<Progress> }> {
  const perTopic: Record<string, number> = {};
  for (const t of topics) perTopic[t] = (await admin.fetchTopicOffsets(t)).reduce((s, p) => s + Number(BigInt(p.high) - BigInt(p.low)), 0);
  const records = Object.values(perTopic).reduce((a, b) => a + b, 0);
  return {
    perTopic,
    records,
    progress: async () => {
      const lag = await groupLag(admin, group, topics);
      return { committed: records - Number(lag.total), done: lag.total === 0n };
    },
  };
}

/** The sink's series read at both ends of its drain. */
const SINK_SERIES = [
  'sink_records_in_total', 'sink_records_applied_total', 'sink_rows_written_total', 'sink_batch_duration_seconds_sum',
  'sink_batch_duration_seconds_count', 'sink_batch_records_sum', 'sink_records_skipped_total', 'sink_errors_total', 'sink_zombie_rejections_total',
] as const;

/** Ledger rows (records applied), distinct (applied_at, key) = row upserts (one per key per batch transaction), distinct keys. */
type LedgerCounts = { parts: number; touched: number; rows: number };

async function ledgerCounts(sql: Sql, topic: string): Promise<LedgerCounts> {
  const [r] = await sql<Array<{ parts: number; touched: number; rows: number }>>`
    select count(*)::int as parts,
           count(distinct (applied_at, campaign_id, creative_id, window_start_ms, window_ms))::int as touched,
           count(distinct (campaign_id, creative_id, window_start_ms, window_ms))::int as rows
    from window_count_parts where wc_topic = ${topic}`;
  return { parts: r?.parts ?? 0, touched: r?.touched ?? 0, rows: r?.rows ?? 0 };
}

/** Per window-counts partition: ledger rows, and how many of them are the all-request key ('*'): one key, so one partition. */
export async function ledgerByPartition(sql: Sql, topic: string): Promise<Array<{ partition: number; parts: number; allRequestParts: number }>> {
  const rows = await sql<Array<{ partition: number; parts: number; star: number }>>`
    select wc_partition as partition, count(*)::int as parts, (count(*) filter (where campaign_id = '*'))::int as star
    from window_count_parts where wc_topic = ${topic} group by wc_partition order by wc_partition`;
  return rows.map((r) => ({ partition: r.partition, parts: r.parts, allRequestParts: r.star }));
}

type SinkTargets = { lows: Map<number, bigint>; ends: Map<number, bigint> };

/**
 * The log starts and committed data ends of the sink's input. Reading the tails takes a while (a consumer
 * per call), so call it BEFORE starting the sink: on a small topic the sink would be done meanwhile.
 */
export async function sinkTargets(admin: Admin, topic: string): Promise<SinkTargets> {
  const marks = await admin.fetchTopicOffsets(topic);
  return { lows: new Map(marks.map((p) => [p.partition, BigInt(p.low)])), ends: await committedDataEnds(stackConfig.kafkaBrokers, topic, marks, 200, stackConfig) };
}

/** Offsets the sink has applied past the log starts (sink_offsets), done when every partition stands at its committed data end. */
export function sinkProgress(sql: Sql, group: string, topic: string, t: SinkTargets): { records: number; progress: () => Promise<Progress> } {
  const records = Number([...t.ends].reduce((s, [p, e]) => s + (e - (t.lows.get(p) ?? 0n)), 0n));
  return {
    records,
    progress: async () => {
      const rows = await sql<Array<{ partition: number; next_offset: string }>>`
        select partition, next_offset::text from sink_offsets where group_id = ${group} and topic = ${topic}`;
      const pos = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
      let committed = 0n;
      let done = true;
      for (const [p, end] of t.ends) {
        const low = t.lows.get(p) ?? 0n;
        const at = pos.get(p) ?? low;
        committed += at - low;
        if (at < end) done = false;
      }
      return { committed: Number(committed), done };
    },
  };
}

type SinkSample = { ledger: LedgerCounts; metrics: Record<string, number | null> };

/** The sample of a sink drain: ledger counts and the sink's series. */
export const sinkSample = (sql: Sql, topic: string, metricsUrl: string) => async (): Promise<SinkSample> =>
  ({ ledger: await ledgerCounts(sql, topic), metrics: await scrapeMetrics(metricsUrl, SINK_SERIES) });

/**
 * `offsetSpan`: committed data end - log start summed over partitions (markers included: an upper bound of the data records);
 * `metricRowsWrittenPerSec`: the sink's own count of upserted rows (sink_rows_written_total) per second over the window.
 */
export interface SinkDrainResult extends DrainResult {
  offsetSpan: number;
  dataEnds: Record<string, string>;
  ledgerAtStart: LedgerCounts | null;
  ledgerAtEnd: LedgerCounts | null;
  rowsTouchedPerSec: number | null;
  metricRowsWrittenPerSec: number | null;
  metrics: Record<string, number | null>;
  batches: number | null;
  recordsPerBatch: number | null;
  meanBatchMs: number | null;
}

/** The sink's figures from a drain: records = ledger rows (recordsPerSec and per CPU second from them), rows touched, batches. */
export function sinkDrainResult(d: DrainResult & { samples?: { first: SinkSample; last: SinkSample } }, t: SinkTargets): SinkDrainResult {
  const { samples, ...drain } = d;
  const [a, b] = [samples?.first, samples?.last];
  const delta = (k: (typeof SINK_SERIES)[number]): number | null => (a?.metrics[k] != null && b?.metrics[k] != null ? b.metrics[k]! - a.metrics[k]! : null);
  const parts = a && b ? b.ledger.parts - a.ledger.parts : 0;
  const touched = a && b ? b.ledger.touched - a.ledger.touched : 0;
  const [batches, batchSec, batchRecs, written] = (['sink_batch_duration_seconds_count', 'sink_batch_duration_seconds_sum', 'sink_batch_records_sum', 'sink_rows_written_total'] as const).map(delta);
  const ok = !d.error && d.seconds > 0;
  const perSec = (n: number | null | undefined): number | null => (ok && n ? Math.round(n / d.seconds) : null);
  return {
    ...drain,
    offsetSpan: drain.records,
    dataEnds: Object.fromEntries([...t.ends].map(([p, e]) => [String(p), String(e)])),
    ledgerAtStart: a?.ledger ?? null, ledgerAtEnd: b?.ledger ?? null,
    recordsPerSec: perSec(parts), rowsTouchedPerSec: perSec(touched), metricRowsWrittenPerSec: perSec(written),
    recordsPerCpuSec: ok && d.cpuSeconds ? Math.round(parts / d.cpuSeconds) : null,
    metrics: Object.fromEntries(SINK_SERIES.map((k) => [k, delta(k)])),
    batches: batches ?? null, recordsPerBatch: batches && batchRecs != null ? round(batchRecs / batches, 1) : null,
    meanBatchMs: batches && batchSec != null ? round((batchSec / batches) * 1000, 2) : null,
  };
}
