/**
 * Test and operator support: how far a sink group has got, read from where the truth is (Postgres
 * positions against the partitions' committed data ends).
 */
import type { Admin, KafkaSecurityConfig } from '../processors/runtime/kafka.js';
import { committedDataEnds } from '../processors/runtime/read-topic.js';
import type { Sql } from '../schemas/postgres/migrate.js';

/**
 * Records of `topic` the sink group has not applied yet: its stored next_offset per partition against
 * the offset after the partition's last committed data record. Not the high watermark: window-counts is
 * written in transactions, and commit markers occupy offsets the sink never sees.
 */
export async function sinkLag(admin: Admin, sql: Sql, brokers: string, topic: string, group: string, security?: KafkaSecurityConfig): Promise<bigint> {
  const rows = await sql<{ partition: number; next_offset: string }[]>`select partition, next_offset::text from sink_offsets where group_id = ${group} and topic = ${topic}`;
  const ends = await committedDataEnds(brokers, topic, await admin.fetchTopicOffsets(topic), 200, security);
  let lag = 0n;
  for (const [partition, end] of ends) {
    const at = BigInt(rows.find((r) => r.partition === partition)?.next_offset ?? 0);
    if (end > at) lag += end - at;
  }
  return lag;
}

/** Resolves once the group's sinkLag is 0; rejects after `timeoutMs` naming the lag left. */
export async function drained(admin: Admin, sql: Sql, brokers: string, topic: string, group: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await sinkLag(admin, sql, brokers, topic, group);
    if (lag === 0n) return;
    if (Date.now() > deadline) throw new Error(`sink group ${group} not drained after ${timeoutMs} ms: ${lag} records of ${topic} left`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
