/**
 * The one drain watcher: how fast a service works through pre-filled input. The clock starts at the first poll that sees
 * progress (start-up excluded, what was done by then not counted) and stops at the poll that sees everything done. Progress is
 * the runtime's "how far behind" (processors/runtime/group-lag.ts): a group's lag over plain topics (no transaction markers, so
 * "lag 0" is exact), or the sink's positions in Postgres against the committed data ends of its input.
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { committedDataEndsOf, consumerLag, groupLag, type Ends, type Lag } from '../../processors/runtime/group-lag.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import { sinkPositions } from '../../sink/offsets.js';
import { cpuSeconds, cpuShares, snapshotCpu, stackCpuSubjects, type CpuSnapshot } from './cpu.js';
import { batchDelta, batchSeries, metricDeltas, scrapeMetrics } from './metrics-scrape.js';
import { errorText } from './options.js';
import { stackConfig } from './run-topics.js';
import type { Service, Services, ServiceSpec } from './services.js';

type Mark<S> = { at: number; committed: number; cpu: CpuSnapshot; sample?: S };
const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

function drainResult<S>(records: number, startedAt: number, first: Mark<S> | null, last: Mark<S> | null, error?: string) {
  const seconds = first && last ? (last.at - first.at) / 1000 : 0;
  const measured = records - (first?.committed ?? 0);
  const cpu = first && last ? cpuSeconds(first.cpu, last.cpu, 'processor') : null;
  return {
    records,
    committedAtStart: first?.committed ?? 0,
    seconds: round(seconds),
    recordsPerSec: !error && seconds > 0 && measured > 0 ? Math.round(measured / seconds) : null,
    cpuSeconds: cpu,
    recordsPerCpuSec: !error && cpu ? Math.round(measured / cpu) : null,
    cpuShares: first && last ? cpuShares(first.cpu, last.cpu) : {},
    startupSec: first ? round((first.at - startedAt) / 1000, 1) : 0,
    ...(error ? { error } : {}),
    ...(first?.sample !== undefined && last?.sample !== undefined ? { samples: { first: first.sample, last: last.sample } } : {}),
  };
}

type Drain<S> = ReturnType<typeof drainResult<S>>;
export type DrainResult = Omit<Drain<undefined>, 'samples'>;

type Progress = { committed: number; done: boolean };

interface Watch<S> {
  records: number;
  progress: () => Promise<Progress>;
  pollMs: number;
  timeoutMs: number;
  postgres?: boolean;
  moreHint: string;
  sample?: (svc: Service) => Promise<S>;
}

async function watch<S>(svc: Service, w: Watch<S>, startedAt: number) {
  const subjects = { processor: { pgid: svc.pid }, ...stackCpuSubjects() };
  const mark = async (at: number, committed: number): Promise<Mark<S>> => ({ at, committed, cpu: snapshotCpu(subjects, w.postgres), sample: await w.sample?.(svc) });
  let first: Mark<S> | null = null;
  let lastCommitted = 0;
  for (const deadline = performance.now() + w.timeoutMs; performance.now() < deadline; ) {
    const failure = svc.failed();
    if (failure) return drainResult<S>(w.records, startedAt, null, null, failure);
    const sentAt = performance.now();
    const { committed, done } = await w.progress();
    // The broker (or Postgres) answered somewhere between send and receive: take the middle.
    const at = (sentAt + performance.now()) / 2;
    lastCommitted = committed;
    if (!first && committed > 0) {
      first = await mark(at, committed);
      if (done) return drainResult(w.records, startedAt, first, null, `all ${w.records} records were done before the first poll saw progress: ${w.moreHint}`);
    } else if (first && done) {
      return drainResult(w.records, startedAt, first, await mark(at, committed));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, w.pollMs - (performance.now() - sentAt))));
  }
  return drainResult<S>(w.records, startedAt, null, null, `not drained within ${w.timeoutMs / 1000} s (${lastCommitted} of ${w.records} done)`);
}

export const failedDrain = (records: number, error: string): DrainResult => drainResult(records, 0, null, null, error);

/** Starts `spec`, watches it drain its input (CPU of its group and the stack; `sample` at both ends) and stops it. */
export async function drainService<S = undefined>(services: Services, label: string, spec: ServiceSpec, w: Watch<S>) {
  const startedAt = performance.now();
  let svc: Service | undefined;
  let drain: Drain<S>;
  try {
    svc = await services.start(label, spec);
    drain = await watch(svc, w, startedAt);
  } catch (err) {
    drain = drainResult<S>(w.records, startedAt, null, null, errorText(err));
  }
  const output = svc?.output() ?? '';
  await services.stop(label);
  return { drain, svc, output };
}

const progressOf = (records: number, lag: Lag): Progress => ({ committed: records - Number(lag.total), done: lag.total === 0n });

/** Records per topic now, and a probe of the group's lag over all of them. */
export async function groupLagProgress(admin: Admin, group: string, topics: readonly string[]) {
  const perTopic: Record<string, number> = {};
  for (const t of topics) perTopic[t] = (await admin.fetchTopicOffsets(t)).reduce((s, p) => s + Number(BigInt(p.high) - BigInt(p.low)), 0);
  const records = Object.values(perTopic).reduce((a, b) => a + b, 0);
  return { perTopic, records, progress: async () => progressOf(records, await groupLag(admin, group, topics)) };
}

const SINK_SERIES = [
  ...batchSeries('sink'), 'sink_records_in_total', 'sink_records_applied_total', 'sink_rows_written_total', 'sink_records_skipped_total', 'sink_errors_total',
  'sink_zombie_rejections_total',
];

/** Ledger rows (records applied), distinct (applied_at, key) = row upserts (one per key per batch transaction), distinct keys. */
async function ledgerCounts(sql: Sql, topic: string): Promise<{ parts: number; touched: number; rows: number }> {
  const [r] = await sql<Array<{ parts: number; touched: number; rows: number }>>`
    select count(*)::int as parts,
           count(distinct (applied_at, campaign_id, creative_id, window_start_ms, window_ms))::int as touched,
           count(distinct (campaign_id, creative_id, window_start_ms, window_ms))::int as rows
    from window_count_parts where wc_topic = ${topic}`;
  return r ?? { parts: 0, touched: 0, rows: 0 };
}

/** The committed data ends of the sink's input: read BEFORE starting the sink (slow; a small topic would be done meanwhile). */
export const sinkTargets = (admin: Admin, topic: string): ReturnType<Ends> => committedDataEndsOf(stackConfig.kafkaBrokers, stackConfig)(admin, topic);

/** The sink's progress (sink_offsets against `targets`) and its sample: ledger counts and the sink's series. */
export function sinkProgress(admin: Admin, sql: Sql, group: string, topic: string, targets: Awaited<ReturnType<Ends>>) {
  const records = Number(targets.reduce((s, p) => s + p.end - p.low, 0n));
  const progress = async (): Promise<Progress> => progressOf(records, await consumerLag(admin, [topic], sinkPositions(sql, group), async () => targets));
  const sample = async (svc: Service) => ({ ledger: await ledgerCounts(sql, topic), metrics: await scrapeMetrics(svc.url, SINK_SERIES) });
  return { records, progress, sample };
}

export type SinkDrainResult = ReturnType<typeof sinkDrainResult>;

/** The sink's figures: records = ledger rows; rows touched (upserts), cross-checked with its rows-written metric; `offsetSpan` includes markers. */
export function sinkDrainResult(d: Drain<Awaited<ReturnType<ReturnType<typeof sinkProgress>['sample']>>>, targets: Awaited<ReturnType<Ends>>) {
  const { samples, ...drain } = d;
  const [a, b] = [samples?.first, samples?.last];
  const metrics = metricDeltas(SINK_SERIES, a?.metrics, b?.metrics);
  const ok = !d.error && d.seconds > 0;
  const perSec = (n: number | null | undefined): number | null => (ok && n ? Math.round(n / d.seconds) : null);
  const parts = a && b ? b.ledger.parts - a.ledger.parts : 0;
  return {
    ...drain,
    offsetSpan: drain.records,
    dataEnds: Object.fromEntries(targets.map((p) => [String(p.partition), String(p.end)])),
    ledgerAtStart: a?.ledger ?? null,
    ledgerAtEnd: b?.ledger ?? null,
    recordsPerSec: perSec(parts),
    rowsTouchedPerSec: perSec(a && b ? b.ledger.touched - a.ledger.touched : 0),
    metricRowsWrittenPerSec: perSec(metrics.sink_rows_written_total),
    recordsPerCpuSec: ok && d.cpuSeconds ? Math.round(parts / d.cpuSeconds) : null,
    metrics,
    batches: batchDelta('sink', a?.metrics ?? {}, b?.metrics ?? {}, d.seconds, 'sink'),
  };
}
