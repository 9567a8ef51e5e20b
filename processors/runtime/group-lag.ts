/** A consumer group's lag: end offsets minus committed offsets, per partition. For replay progress, benches and tests. */
import type { Admin } from './kafka.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  committed: bigint;
  end: bigint;
  lag: bigint;
}

export async function groupLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<{ total: bigint; partitions: PartitionLag[] }> {
  const partitions: PartitionLag[] = [];
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const e of ends) {
      const c = mine.find((p) => p.partition === e.partition)?.offset;
      // No commit yet: the group would start at the beginning (auto.offset.reset=earliest).
      const at = c === undefined || Number(c) < 0 ? BigInt(e.low) : BigInt(c);
      const end = BigInt(e.high);
      partitions.push({ topic, partition: e.partition, committed: at, end, lag: end > at ? end - at : 0n });
    }
  }
  return { total: partitions.reduce((s, p) => s + p.lag, 0n), partitions };
}

/** Polls until the group has consumed everything in `topics` (lag 0) or the timeout passes. */
export async function waitDrained(admin: Admin, groupId: string, topics: readonly string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await groupLag(admin, groupId, topics)).total === 0n) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
