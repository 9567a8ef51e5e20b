/**
 * The sink's positions in Postgres (sink_offsets): the truth about where each window-counts partition
 * resumes. Kafka's committed offsets are never read for correctness.
 */
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
