/**
 * Reads a whole topic once (read_committed, a throw-away consumer group), and says whether it got
 * everything. Unlike processors/runtime/read-topic.ts it also gives up when NOTHING arrives for a while
 * after subscribing (a consumer that never gets its partitions would otherwise wait for the hard stop),
 * and it knows that a topic written in transactions ends with a commit marker that is never delivered.
 */
import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Admin, Kafka } from '../../processors/runtime/kafka.js';
import type { RawRecord } from '../../processors/runtime/read-topic.js';

export interface ReadResult {
  records: RawRecord[];
  /** Every partition was read up to its end; false when the read stopped on idleness or the timeout. */
  complete: boolean;
  ms: number;
}

export interface ReadOptions {
  /** The topic's producer uses transactions, so each partition's last offset is a marker (default true). */
  transactional?: boolean;
  timeoutMs?: number;
  /** Stop after this long without a record (counted from the subscription until the first record arrives). */
  idleMs?: number;
}

export async function readWholeTopic(kafka: Kafka, admin: Admin, topic: string, o: ReadOptions = {}): Promise<ReadResult> {
  const started = performance.now();
  const trailing = o.transactional === false ? 0n : 1n;
  const ends = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED })) {
    if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  }
  const records: RawRecord[] = [];
  if (ends.size === 0) return { records, complete: true, ms: 0 };
  const next = new Map<number, bigint>();
  const done = (): boolean => [...ends].every(([p, high]) => (next.get(p) ?? 0n) >= high - trailing);
  const groupId = `bench-reader-${randomUUID()}`;
  const consumer = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    'isolation.level': 'read_committed',
    'js.consumer.max.batch.size': 5000,
  });
  await consumer.connect();
  let complete = false;
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((resolve) => {
      let idle: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(hardStop);
        clearTimeout(idle);
        resolve();
      };
      const hardStop = setTimeout(finish, o.timeoutMs ?? 60_000);
      const rearm = (): void => {
        clearTimeout(idle);
        idle = setTimeout(finish, o.idleMs ?? 10_000);
      };
      rearm();
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            records.push({ topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp });
          }
          const last = batch.messages.at(-1);
          if (last) next.set(batch.partition, BigInt(last.offset) + 1n);
          if (done()) {
            complete = true;
            return finish();
          }
          rearm();
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    // It committed nothing, but an empty group still lingers in the broker's list until it expires.
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return { records, complete, ms: Math.round(performance.now() - started) };
}
