/**
 * How fast the sink applies a pre-filled window-counts topic, from Postgres: the sink's positions
 * (sink_offsets.next_offset per partition, advanced in the same transaction as the writes) are polled
 * until every partition stands at its committed data end (processors/runtime/read-topic.ts
 * `committedDataEnds`: the topic is transactional, so the high watermark is one past a commit marker).
 * The clock starts at the first poll that sees a position past the log start; what the ledger held then
 * is not counted. Counts come from the ledger (window_count_parts rows with wc_topic = the topic):
 * records applied = ledger rows, window_counts rows touched = distinct (transaction, key) pairs, since a
 * ledger row's applied_at is its transaction's now() and one batch upserts each of its keys once.
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { committedDataEnds } from '../../processors/runtime/read-topic.js';
import { stackConfig } from './run-topics.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import { cpuShares, snapshotCpu, type CpuSnapshot, type CpuSubject } from './cpu.js';
import { postgresCpu, type PgCpu } from './pg-cpu.js';
import { scrapeMetrics } from './metrics-scrape.js';

export const SINK_SERIES = [
  'sink_records_in_total', 'sink_records_applied_total', 'sink_rows_written_total', 'sink_batch_duration_seconds_sum',
  'sink_batch_duration_seconds_count', 'sink_batch_records_sum', 'sink_records_skipped_total', 'sink_errors_total', 'sink_zombie_rejections_total',
] as const;

export interface LedgerCounts {
  /** Ledger rows (window-counts records applied). */
  parts: number;
  /** Distinct (applied_at, campaign, creative, window) pairs: window_counts row upserts, summed over batches. */
  touched: number;
  /** Distinct window_counts keys the topic's parts add to. */
  rows: number;
}

export interface SinkDrainResult {
  /** Data records on the topic (sum over partitions of committed data end - log start, markers included: an upper bound) and the ends. */
  offsetSpan: number;
  dataEnds: Record<string, string>;
  ledgerAtStart: LedgerCounts | null;
  ledgerAtEnd: LedgerCounts | null;
  seconds: number;
  recordsPerSec: number | null;
  rowsTouchedPerSec: number | null;
  /** sink_rows_written_total over the same window (the sink's own count of upserted rows), per second. */
  metricRowsWrittenPerSec: number | null;
  metrics: Record<string, number | null>;
  batches: number | null;
  recordsPerBatch: number | null;
  meanBatchMs: number | null;
  cpuSeconds: number | null;
  recordsPerCpuSec: number | null;
  machineBusy: number | null;
  cpuShares: Record<string, number | null>;
  postgresShare: number | null;
  startupSec: number;
  error?: string;
}

export interface SinkDrainWatch {
  sql: Sql;
  admin: Admin;
  brokers: string;
  group: string;
  topic: string;
  metricsUrl: string;
  /** `processor` = the sink's process group, plus stack servers. */
  subjects: Readonly<Record<string, CpuSubject>>;
  startedAt: number;
  pollMs: number;
  timeoutMs: number;
  failed: () => string | undefined;
}

interface Mark {
  at: number;
  ledger: LedgerCounts;
  cpu: CpuSnapshot;
  pg: PgCpu;
  metrics: Record<string, number | null>;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

export async function ledgerCounts(sql: Sql, topic: string): Promise<LedgerCounts> {
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

async function positions(sql: Sql, group: string, topic: string): Promise<Map<number, bigint>> {
  const rows = await sql<Array<{ partition: number; next_offset: string }>>`
    select partition, next_offset::text from sink_offsets where group_id = ${group} and topic = ${topic}`;
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

export interface SinkTargets {
  lows: Map<number, bigint>;
  ends: Map<number, bigint>;
}

/**
 * The log starts and committed data ends of the sink's input. Reading the tails takes a while (a consumer
 * per call), so call it BEFORE starting the sink: on a small topic the sink would be done meanwhile.
 */
export async function sinkTargets(admin: Admin, brokers: string, topic: string): Promise<SinkTargets> {
  const marks = await admin.fetchTopicOffsets(topic);
  return { lows: new Map(marks.map((p) => [p.partition, BigInt(p.low)])), ends: await committedDataEnds(brokers, topic, marks, 200, stackConfig) };
}

export async function watchSinkDrain(w: SinkDrainWatch, targets: SinkTargets): Promise<SinkDrainResult> {
  const { lows, ends } = targets;
  const offsetSpan = Number([...ends].reduce((s, [p, e]) => s + (e - (lows.get(p) ?? 0n)), 0n));
  const dataEnds = Object.fromEntries([...ends].map(([p, e]) => [String(p), String(e)]));
  const deadline = performance.now() + w.timeoutMs;
  let first: Mark | null = null;
  const take = async (): Promise<Mark> => {
    const sentAt = performance.now();
    const [ledger, metrics] = await Promise.all([ledgerCounts(w.sql, w.topic), scrapeMetrics(w.metricsUrl, SINK_SERIES)]);
    return { at: (sentAt + performance.now()) / 2, ledger, cpu: snapshotCpu(w.subjects), pg: postgresCpu(), metrics };
  };
  const result = (last: Mark | null, error?: string): SinkDrainResult => {
    const seconds = first && last ? (last.at - first.at) / 1000 : 0;
    const d = (k: (typeof SINK_SERIES)[number]): number | null =>
      first && last && first.metrics[k] != null && last.metrics[k] != null ? last.metrics[k]! - first.metrics[k]! : null;
    const parts = first && last ? last.ledger.parts - first.ledger.parts : 0;
    const touched = first && last ? last.ledger.touched - first.ledger.touched : 0;
    const [p0, p1] = [first?.cpu.seconds.processor, last?.cpu.seconds.processor];
    const cpuSeconds = p0 != null && p1 != null ? round(p1 - p0, 2) : null;
    const shares = first && last ? cpuShares(first.cpu, last.cpu) : {};
    const pgSec = first && last ? last.pg.minus(first.pg) : null;
    const batches = d('sink_batch_duration_seconds_count');
    const batchSec = d('sink_batch_duration_seconds_sum');
    const batchRecs = d('sink_batch_records_sum');
    const written = d('sink_rows_written_total');
    const ok = !error && seconds > 0;
    return {
      offsetSpan, dataEnds, ledgerAtStart: first?.ledger ?? null, ledgerAtEnd: last?.ledger ?? null, seconds: round(seconds),
      recordsPerSec: ok && parts > 0 ? Math.round(parts / seconds) : null,
      rowsTouchedPerSec: ok && touched > 0 ? Math.round(touched / seconds) : null,
      metricRowsWrittenPerSec: ok && written ? Math.round(written / seconds) : null,
      metrics: Object.fromEntries(SINK_SERIES.map((k) => [k, d(k)])),
      batches, recordsPerBatch: batches && batchRecs !== null ? round(batchRecs / batches, 1) : null,
      meanBatchMs: batches && batchSec !== null ? round((batchSec / batches) * 1000, 2) : null,
      cpuSeconds, recordsPerCpuSec: ok && cpuSeconds ? Math.round(parts / cpuSeconds) : null,
      machineBusy: shares.machine ?? null, cpuShares: shares,
      postgresShare: pgSec !== null && seconds > 0 ? round(pgSec / seconds, 2) : null,
      startupSec: first ? round((first.at - w.startedAt) / 1000, 1) : 0,
      ...(error ? { error } : {}),
    };
  };
  while (performance.now() < deadline) {
    const failure = w.failed();
    if (failure) return result(null, failure);
    const sentAt = performance.now();
    const pos = await positions(w.sql, w.group, w.topic);
    let progressed = false;
    let done = true;
    for (const [p, end] of ends) {
      const at = pos.get(p) ?? lows.get(p) ?? 0n;
      if (at > (lows.get(p) ?? 0n)) progressed = true;
      if (at < end) done = false;
    }
    if (!first && progressed) {
      first = await take();
      if (done) return result(first, 'the sink applied the whole topic before the first poll saw progress: use more events');
    } else if (first && done) {
      return result(await take());
    }
    await new Promise((r) => setTimeout(r, Math.max(0, w.pollMs - (performance.now() - sentAt))));
  }
  const pos = await positions(w.sql, w.group, w.topic).catch(() => new Map<number, bigint>());
  const behind = [...ends].filter(([p, e]) => (pos.get(p) ?? 0n) < e).map(([p, e]) => `${p}:${pos.get(p) ?? 'none'}/${e}`);
  return result(null, `sink not at the committed data ends within ${w.timeoutMs / 1000} s (behind: ${behind.join(', ')})`);
}
