/**
 * Reads a topic from the beginning with a throw-away consumer group until `until` says stop or the
 * timeout passes. For tests and operator tools, never for the pipeline's own processing.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from './kafka.js';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export async function readTopic(
  kafka: Kafka,
  topic: string,
  opts: { until: (records: RawRecord[]) => boolean; timeoutMs: number; readCommitted?: boolean },
): Promise<RawRecord[]> {
  const consumer = kafka.consumer({
    kafkaJS: { groupId: `reader-${randomUUID()}`, fromBeginning: true, autoCommit: false },
    'isolation.level': opts.readCommitted === false ? 'read_uncommitted' : 'read_committed',
  });
  await consumer.connect();
  const records: RawRecord[] = [];
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, opts.timeoutMs);
      if (opts.until(records)) {
        clearTimeout(timer);
        return resolve();
      }
      void consumer.run({
        eachMessage: async ({ topic: t, partition, message }) => {
          records.push({ topic: t, partition, offset: message.offset, key: message.key, value: message.value });
          if (opts.until(records)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return records;
}
