/**
 * Reads a whole topic once (read_committed, a throw-away consumer group), and says whether it got
 * everything. Unlike processors/runtime/read-topic.ts it also gives up when NOTHING arrives for a while
 * after subscribing (a consumer that never gets its partitions would otherwise wait for the hard stop),
 * and it knows that a topic written in transactions ends with a commit marker that is never delivered:
 * once every partition is read up to one offset short of its end, it waits `MARKER_WAIT_MS` for that
 * last offset and, if nothing comes, takes it for a marker. So it needs no telling whether the writer
 * used transactions (the decision hops may run either way).
 */
import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Admin, Kafka } from '../../processors/runtime/kafka.js';
import type { RawRecord } from '../../processors/runtime/read-topic.js';

export interface ReadResult {
  /** Empty when `each` was given. */
  records: RawRecord[];
  count: number;
  /** Every partition was read up to its end; false when the read stopped on idleness or the timeout. */
  complete: boolean;
  ms: number;
}

const MARKER_WAIT_MS = 1000;

export interface ReadOptions {
  timeoutMs?: number;
  /** Stop after this long without a record (counted from the subscription until the first record arrives). */
  idleMs?: number;
  /** Hands each record over instead of keeping it (a topic too large to hold); awaited in order. */
  each?: (r: RawRecord) => void | Promise<void>;
}

export async function readWholeTopic(kafka: Kafka, admin: Admin, topic: string, o: ReadOptions = {}): Promise<ReadResult> {
  const started = performance.now();
  const ends = new Map<number, bigint>();
  for (const p of await admin.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED })) {
    if (BigInt(p.high) > BigInt(p.low)) ends.set(p.partition, BigInt(p.high));
  }
  const records: RawRecord[] = [];
  let count = 0;
  if (ends.size === 0) return { records, count, complete: true, ms: 0 };
  const next = new Map<number, bigint>();
  const reached = (slack: bigint): boolean => [...ends].every(([p, high]) => (next.get(p) ?? 0n) >= high - slack);
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
      const rearm = (ms = o.idleMs ?? 10_000, then = finish): void => {
        clearTimeout(idle);
        idle = setTimeout(then, ms);
      };
      rearm();
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const r = { topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp };
            count++;
            if (o.each) await o.each(r);
            else records.push(r);
          }
          const last = batch.messages.at(-1);
          if (last) next.set(batch.partition, BigInt(last.offset) + 1n);
          if (reached(0n)) {
            complete = true;
            return finish();
          }
          if (reached(1n)) return rearm(MARKER_WAIT_MS, () => ((complete = true), finish()));
          rearm();
        },
      });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    // It committed nothing, but an empty group still lingers in the broker's list until it expires.
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return { records, count, complete, ms: Math.round(performance.now() - started) };
}
