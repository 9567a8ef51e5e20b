/**
 * The sink's positions in Postgres (sink_offsets): the truth about where each window-counts partition
 * resumes. Kafka's committed offsets are never read for correctness. Its lag is measured from here, with
 * the runtime's one answer to "how far behind" (processors/runtime/group-lag.ts).
 */
import type { Admin, KafkaSecurityConfig } from '../processors/runtime/kafka.js';
import { committedDataEndsOf, consumerLag, untilCaughtUp, type Lag, type Positions } from '../processors/runtime/group-lag.js';
import type { Sql } from '../schemas/postgres/migrate.js';

/**
 * Returns each partition's stored next offset, first inserting `beginnings` (the partition's first
 * offset in Kafka) for partitions this group has never applied. Idempotent: a row that exists wins.
 */
export async function claimOffsets(sql: Sql, group: string, topic: string, beginnings: ReadonlyMap<number, bigint>): Promise<Map<number, bigint>> {
  const partitions = [...beginnings.keys()];
  if (partitions.length === 0) return new Map();
  await sql`insert into sink_offsets (group_id, topic, partition, next_offset)
    select ${group}, ${topic}, p, o from unnest(${partitions}::int[], ${[...beginnings.values()].map(String)}::bigint[]) as t(p, o)
    on conflict (group_id, topic, partition) do nothing`;
  const rows = await sql<{ partition: number; next_offset: string }[]>`select partition, next_offset from sink_offsets
    where group_id = ${group} and topic = ${topic} and partition = any(${partitions}::int[])`;
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/** The stored next offset of one partition, or null when the group has no row for it. */
export async function storedOffset(sql: Sql, group: string, topic: string, partition: number): Promise<bigint | null> {
  const [row] = await sql<{ next_offset: string }[]>`select next_offset from sink_offsets
    where group_id = ${group} and topic = ${topic} and partition = ${partition}`;
  return row ? BigInt(row.next_offset) : null;
}

/** The group's stored positions, as group-lag.ts reads a consumer's: the sink's answer to "where does it resume?". */
export function sinkPositions(sql: Sql, group: string): Positions {
  return {
    async read(topicPartitions) {
      const out = new Map<string, bigint | null>();
      for (const topic of new Set(topicPartitions.map((tp) => tp.topic))) {
        const rows = await sql<{ partition: number; next_offset: string }[]>`select partition, next_offset::text from sink_offsets where group_id = ${group} and topic = ${topic}`;
        for (const r of rows) out.set(`${topic}/${r.partition}`, BigInt(r.next_offset));
      }
      return out;
    },
  };
}

/**
 * Records of `topic` the sink group has not applied yet (group-lag.ts `consumerLag`): its Postgres positions
 * against the committed data ends, not the high watermarks (window-counts is written in transactions, and
 * commit markers occupy offsets the sink never sees).
 */
export function sinkLag(admin: Admin, sql: Sql, brokers: string, topic: string, group: string, security?: KafkaSecurityConfig): Promise<Lag> {
  return consumerLag(admin, [topic], sinkPositions(sql, group), committedDataEndsOf(brokers, security));
}

/** Polls until the sink group has applied everything on `topic` (sinkLag 0): true, or false once `timeoutMs` has passed. */
export async function sinkDrained(admin: Admin, sql: Sql, brokers: string, topic: string, group: string, timeoutMs: number, security?: KafkaSecurityConfig): Promise<boolean> {
  return (await untilCaughtUp(async () => (await sinkLag(admin, sql, brokers, topic, group, security)).total, { timeoutMs, pollMs: 250 })) === 0n;
}
