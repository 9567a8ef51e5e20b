/**
 * Measures how fast a consumer group works through pre-filled input, from what it has committed,
 * polled every `pollMs`. Start-up (process start, schema registration, catalogue load, group join) is
 * excluded: the clock starts at the first poll that sees a commit, and the records already committed
 * by then are not counted; it stops at the poll that sees everything committed.
 *
 * What "committed" means is the caller's `progress` probe: `committedOffsets` (one topic, the runner's
 * transactional commits, against known ends; bench/processors.ts) or `groupLagProgress` (several plain
 * topics, lag 0 on every partition; bench/aggregate-sink.ts).
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { groupLag } from '../../processors/runtime/group-lag.js';
import { cpuShares, snapshotCpu, type CpuSnapshot, type CpuSubject } from './cpu.js';
import { postgresCpu, type PgCpu } from './pg-cpu.js';

export interface DrainResult {
  /** Records in the input. */
  records: number;
  /** Committed at the first poll that saw any: excluded from the rate. */
  committedAtStart: number;
  /** From the first poll that saw a commit to the poll that saw everything committed. */
  seconds: number;
  /** (records - committedAtStart) / seconds; null when the whole input was committed between two polls. */
  recordsPerSec: number | null;
  /** CPU seconds the service's process group used in that window, and records per CPU second. */
  cpuSeconds: number | null;
  recordsPerCpuSec: number | null;
  /** Share of all cores busy in that window (the service, the stack and everything else). */
  machineBusy: number | null;
  /** CPU in that window as a share of one core, per watched subject (`processor`, and the stack's servers). */
  cpuShares: Record<string, number | null>;
  /** Postgres (postmaster and its backends) CPU as a share of one core over the window; null unless asked for. */
  postgresShare: number | null;
  /** From the service's start to the first commit seen. */
  startupSec: number;
  error?: string;
}

/** A drain over several topics also says how many records each held. */
export interface GroupDrainResult extends DrainResult {
  perTopic: Record<string, number>;
}

/** What a poll saw: records committed so far, and whether that is all of them. */
export interface Progress {
  committed: number;
  done: boolean;
}

export interface DrainWatch {
  /** Records in the input. */
  records: number;
  progress: () => Promise<Progress>;
  /** Whose CPU to measure: `processor` (the service's process group) and any stack servers. */
  subjects: Readonly<Record<string, CpuSubject>>;
  /** performance.now() when the service was started. */
  startedAt: number;
  pollMs: number;
  timeoutMs: number;
  /** A reason to stop early (the service exited), or undefined. */
  failed: () => string | undefined;
  /** Called right after the first mark (e.g. to scrape the service's metrics at the start of the window). */
  onFirst?: () => Promise<void>;
  /** Also measure the local Postgres server's CPU over the window. */
  postgres?: boolean;
  /** How to get a measurable window when everything was committed before the first poll, e.g. "use more --records". */
  moreHint: string;
}

interface Mark {
  at: number;
  committed: number;
  cpu: CpuSnapshot;
  pg: PgCpu | null;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Polls until everything is committed, the service fails, or the timeout. */
export async function watchDrain(w: DrainWatch): Promise<DrainResult> {
  const { records } = w;
  const deadline = performance.now() + w.timeoutMs;
  let first: Mark | null = null;
  let lastCommitted = 0;
  const result = (last: Mark | null, error?: string): DrainResult => {
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
    };
  };
  const mark = (at: number, committed: number): Mark => ({ at, committed, cpu: snapshotCpu(w.subjects), pg: w.postgres ? postgresCpu() : null });
  while (performance.now() < deadline) {
    const failure = w.failed();
    if (failure) return result(null, failure);
    const sentAt = performance.now();
    const { committed, done } = await w.progress();
    // The broker answered somewhere between send and receive: take the middle.
    const at = (sentAt + performance.now()) / 2;
    lastCommitted = committed;
    if (!first && committed > 0) {
      first = mark(at, committed);
      if (done) return result(first, `all ${records} records were committed before the first poll saw a commit: ${w.moreHint}`);
      await w.onFirst?.();
    } else if (first && done) {
      return result(mark(at, committed));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, w.pollMs - (performance.now() - sentAt))));
  }
  return result(null, `not drained within ${w.timeoutMs / 1000} s (${lastCommitted} of ${records} committed)`);
}

/** One topic's committed offsets against its known ends (the runner commits in its transactions). */
export function committedOffsets(admin: Admin, group: string, topic: string, ends: ReadonlyMap<number, bigint>): () => Promise<Progress> {
  return async () => {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    let committed = 0;
    let done = true;
    for (const [partition, end] of ends) {
      const offset = BigInt(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
      if (offset > 0n) committed += Number(offset);
      if (end > 0n && offset !== end) done = false;
    }
    return { committed, done };
  };
}

/**
 * Records per topic (end - log start) now, and a probe of the group's lag over all of them. The topics
 * must be written with a plain producer (no transaction markers), so "lag 0" is exact.
 */
export async function groupLagProgress(admin: Admin, group: string, topics: readonly string[]): Promise<{ perTopic: Record<string, number>; records: number; progress: () => Promise<Progress> }> {
  const perTopic: Record<string, number> = {};
  for (const t of topics) {
    const offs = await admin.fetchTopicOffsets(t);
    perTopic[t] = offs.reduce((s, p) => s + Number(BigInt(p.high) - BigInt(p.low)), 0);
  }
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
