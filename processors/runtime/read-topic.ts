/**
 * Reads a whole topic, from the beginning to the end it had when the call started, with a throw-away
 * consumer group. For tests and operator tools, never for the pipeline's own processing.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from './kafka.js';
import { topicEnds } from './end-offsets.js';
import type { KafkaJsHeaders } from './trace-context.js';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  /** The record's headers (e.g. x-request-id, traceparent), undefined when it has none. */
  headers?: KafkaJsHeaders;
}

/**
 * Done when every partition has been read up to its high watermark at the start, or when nothing new
 * arrived for `idleMs` (transaction markers occupy offsets but are never delivered), or at `timeoutMs`.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  opts: { timeoutMs?: number; idleMs?: number; readCommitted?: boolean } = {},
): Promise<RawRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  try {
    for (const p of await topicEnds(admin, topic)) ends.set(p.partition, p.high);
  } finally {
    await admin.disconnect();
  }
  const next = new Map<number, bigint>();
  const done = (): boolean => [...ends].every(([p, high]) => (next.get(p) ?? 0n) >= high);
  const records: RawRecord[] = [];
  if ([...ends.values()].every((h) => h === 0n)) return records;

  const consumer = kafka.consumer({
    kafkaJS: { groupId: `reader-${randomUUID()}`, fromBeginning: true, autoCommit: false },
    'isolation.level': opts.readCommitted === false ? 'read_uncommitted' : 'read_committed',
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve) => {
      const hardStop = setTimeout(resolve, opts.timeoutMs ?? 60_000);
      let idle: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(hardStop);
        clearTimeout(idle);
        resolve();
      };
      void consumer.run({
        eachMessage: async ({ topic: t, partition, message }) => {
          records.push({ topic: t, partition, offset: message.offset, key: message.key, value: message.value, timestamp: message.timestamp, headers: message.headers });
          next.set(partition, BigInt(message.offset) + 1n);
          clearTimeout(idle);
          if (done()) return finish();
          idle = setTimeout(finish, opts.idleMs ?? 3000);
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return records;
}

/** Kept here for bench/ (lib/sink-drain.ts) until it imports end-offsets.ts, where it lives now. */
export { committedDataEnds } from './end-offsets.js';
