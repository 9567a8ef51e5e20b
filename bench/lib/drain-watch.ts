/**
 * Measures how fast a consumer group works through a pre-filled topic, from the committed offsets
 * (what the runner commits in its transactions), polled with the admin client. Start-up (process start,
 * schema registration, catalogue load, group join) is excluded: the clock starts at the first poll that
 * sees a committed offset, and the records already committed by then are not counted.
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { cpuShares, snapshotCpu, type CpuSnapshot, type CpuSubject } from './cpu.js';

export interface DrainResult {
  /** Records in the input topic. */
  records: number;
  /** Committed at the first poll that saw any: excluded from the rate. */
  committedAtStart: number;
  /** From the first poll that saw a commit to the poll that saw every partition at its end. */
  seconds: number;
  /** (records - committedAtStart) / seconds; null when the whole topic was committed between two polls. */
  recordsPerSec: number | null;
  /** CPU seconds the service's process group used in that window, and records per CPU second. */
  cpuSeconds: number | null;
  recordsPerCpuSec: number | null;
  /** Share of all cores busy in that window (the service, the stack and everything else). */
  machineBusy: number | null;
  /** CPU in that window as a share of one core, per watched subject (`processor`, and the stack's servers). */
  cpuShares: Record<string, number | null>;
  /** From the service's start to the first commit seen. */
  startupSec: number;
  error?: string;
}

export interface DrainWatch {
  admin: Admin;
  group: string;
  topic: string;
  ends: ReadonlyMap<number, bigint>;
  /** Whose CPU to measure: `processor` (the service's process group) and any stack servers. */
  subjects: Readonly<Record<string, CpuSubject>>;
  /** performance.now() when the service was started. */
  startedAt: number;
  pollMs: number;
  timeoutMs: number;
  /** A reason to stop early (the service exited), or undefined. */
  failed: () => string | undefined;
}

interface Mark {
  at: number;
  committed: number;
  cpu: CpuSnapshot;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Polls until the group has committed every partition up to its end, the service fails, or the timeout. */
export async function watchDrain(w: DrainWatch): Promise<DrainResult> {
  const records = Number([...w.ends.values()].reduce((a, b) => a + b, 0n));
  const deadline = performance.now() + w.timeoutMs;
  let first: Mark | null = null;
  let lastCount = 0;
  const result = (last: Mark | null, error?: string): DrainResult => {
    const seconds = first && last ? (last.at - first.at) / 1000 : 0;
    const measured = records - (first?.committed ?? 0);
    const [p0, p1] = [first?.cpu.seconds.processor, last?.cpu.seconds.processor];
    const cpuSeconds = p0 != null && p1 != null ? round(p1 - p0, 2) : null;
    const shares = first && last ? cpuShares(first.cpu, last.cpu) : {};
    return {
      records,
      committedAtStart: first?.committed ?? 0,
      seconds: round(seconds),
      recordsPerSec: !error && seconds > 0 && measured > 0 ? Math.round(measured / seconds) : null,
      cpuSeconds,
      recordsPerCpuSec: !error && cpuSeconds ? Math.round(measured / cpuSeconds) : null,
      machineBusy: shares.machine ?? null,
      cpuShares: shares,
      startupSec: first ? round((first.at - w.startedAt) / 1000, 1) : 0,
      ...(error ? { error } : {}),
    };
  };
  while (performance.now() < deadline) {
    const failure = w.failed();
    if (failure) return result(null, failure);
    const sentAt = performance.now();
    const [committed] = await w.admin.fetchOffsets({ groupId: w.group, topics: [w.topic] });
    // The broker answered somewhere between send and receive: take the middle.
    const at = (sentAt + performance.now()) / 2;
    let count = 0;
    let done = true;
    for (const [partition, end] of w.ends) {
      const offset = BigInt(committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
      if (offset > 0n) count += Number(offset);
      if (end > 0n && offset !== end) done = false;
    }
    lastCount = count;
    if (!first && count > 0) first = { at, committed: count, cpu: snapshotCpu(w.subjects) };
    if (done && first) {
      if (first.committed >= records) return result(first, `all ${records} records were committed before the first poll saw a commit: use more --records`);
      return result({ at, committed: count, cpu: snapshotCpu(w.subjects) });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, w.pollMs - (performance.now() - sentAt))));
  }
  return result(null, `not drained within ${w.timeoutMs / 1000} s (${lastCount} of ${records} committed)`);
}
