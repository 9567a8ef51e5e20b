/**
 * Like drain-watch.ts, but for a consumer group reading SEVERAL pre-filled topics (the aggregate reads
 * outcomes and tracking notices), from processors/runtime/group-lag.ts `groupLag`: the clock starts at
 * the first poll that sees any committed offset and stops at the poll that sees the group's lag at 0 on
 * every partition of every topic. Records already committed at the first poll are not counted. The
 * inputs must be written with a plain producer (no transaction markers), so "lag 0" is exact.
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { groupLag } from '../../processors/runtime/group-lag.js';
import { cpuShares, snapshotCpu, type CpuSnapshot, type CpuSubject } from './cpu.js';
import type { DrainResult } from './drain-watch.js';
import { postgresCpu, type PgCpu } from './pg-cpu.js';

export interface GroupDrainWatch {
  admin: Admin;
  group: string;
  topics: readonly string[];
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
}

export interface GroupDrainResult extends DrainResult {
  /** Records per input topic (end - log start when the watch began). */
  perTopic: Record<string, number>;
  /** Postgres (postmaster and its backends) CPU as a share of one core over the window. */
  postgresShare: number | null;
}

interface Mark {
  at: number;
  committed: number;
  cpu: CpuSnapshot;
  pg: PgCpu;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

export async function watchGroupDrain(w: GroupDrainWatch): Promise<GroupDrainResult> {
  const perTopic: Record<string, number> = {};
  for (const t of w.topics) {
    const offs = await w.admin.fetchTopicOffsets(t);
    perTopic[t] = offs.reduce((s, p) => s + Number(BigInt(p.high) - BigInt(p.low)), 0);
  }
  const records = Object.values(perTopic).reduce((a, b) => a + b, 0);
  const deadline = performance.now() + w.timeoutMs;
  let first: Mark | null = null;
  let lastCommitted = 0;
  const result = (last: Mark | null, error?: string): GroupDrainResult => {
    const seconds = first && last ? (last.at - first.at) / 1000 : 0;
    const measured = records - (first?.committed ?? 0);
    const [p0, p1] = [first?.cpu.seconds.processor, last?.cpu.seconds.processor];
    const cpuSeconds = p0 != null && p1 != null ? round(p1 - p0, 2) : null;
    const shares = first && last ? cpuShares(first.cpu, last.cpu) : {};
    const pgSec = first && last ? last.pg.minus(first.pg) : null;
    return {
      records,
      perTopic,
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
  while (performance.now() < deadline) {
    const failure = w.failed();
    if (failure) return result(null, failure);
    const sentAt = performance.now();
    const lag = await groupLag(w.admin, w.group, w.topics);
    const at = (sentAt + performance.now()) / 2;
    const committed = records - Number(lag.total);
    lastCommitted = committed;
    if (!first && committed > 0) {
      first = { at, committed, cpu: snapshotCpu(w.subjects), pg: postgresCpu() };
      if (lag.total === 0n) return result(first, `all ${records} records were committed before the first poll saw a commit: use more events`);
      await w.onFirst?.();
    } else if (first && lag.total === 0n) {
      return result({ at, committed, cpu: snapshotCpu(w.subjects), pg: postgresCpu() });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, w.pollMs - (performance.now() - sentAt))));
  }
  return result(null, `not drained within ${w.timeoutMs / 1000} s (${lastCommitted} of ${records} committed)`);
}
