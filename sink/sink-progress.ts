/**
 * Test and operator support: how far a sink group has got, read from where the truth is (Postgres
 * positions against the partitions' end offsets), and a metric read from a running sink.
 */
import type { Kafka } from '../processors/runtime/kafka.js';
import type { Sql } from './migrate.js';

/**
 * Resolves once the group's stored next_offset equals the end offset of every partition of `topic`
 * (for topics written without transactions, where the end offset is the last record + 1); rejects
 * after `timeoutMs` naming the positions and the ends.
 */
export async function drained(kafka: Kafka, sql: Sql, topic: string, group: string, timeoutMs = 90_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ends = await admin.fetchTopicOffsets(topic);
      const rows = await sql<{ partition: number; next_offset: string }[]>`select partition, next_offset from sink_offsets where group_id = ${group} and topic = ${topic}`;
      const at = new Map(rows.map((r) => [r.partition, r.next_offset]));
      if (ends.every((e) => at.get(e.partition) === e.high)) return;
      if (Date.now() > deadline) throw new Error(`sink group ${group} not drained: ends ${JSON.stringify(ends)} positions ${JSON.stringify([...at])}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

/** The value of an unlabelled (or first labelled) sample of `name` on a service's /metrics, 0 when absent. */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Ledger rows (applied or superseded parts). */
export async function appliedParts(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*) as n from window_count_parts`;
  return Number(row?.n ?? 0);
}
