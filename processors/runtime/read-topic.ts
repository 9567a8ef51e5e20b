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

export interface ReadOptions {
  timeoutMs?: number;
  /** Stop after this long without a record (default 3000, counted from the first record). */
  idleMs?: number;
  /** Count the idle time from the subscription too: a consumer that never gets its partitions stops then, not at the timeout. */
  idleBeforeFirst?: boolean;
  readCommitted?: boolean;
  /** Hands each record over instead of keeping it (a topic too large to hold); awaited in order. */
  onRecord?: (r: RawRecord) => void | Promise<void>;
  /**
   * Once every partition is read up to one offset short of its end, wait this long for that offset and, if nothing comes,
   * take it for a transaction's commit marker (never delivered), so the read is complete whether or not the writer used
   * transactions. Without it such a read ends on idleness, as incomplete.
   */
  markerWaitMs?: number;
}

export interface ReadResult {
  /** Empty with `onRecord`. */
  records: RawRecord[];
  count: number;
  /** Every partition was read up to its end at the start; false when the read stopped on idleness or the timeout. */
  complete: boolean;
  ms: number;
}

/**
 * Done when every partition has been read up to its high watermark at the start, or when nothing new
 * arrived for `idleMs` (transaction markers occupy offsets but are never delivered), or at `timeoutMs`.
 */
export async function readTopic(kafka: Kafka, topic: string, opts: ReadOptions = {}): Promise<RawRecord[]> {
  return (await readTopicFully(kafka, topic, opts)).records;
}

/** readTopic, saying whether it got everything. */
export async function readTopicFully(kafka: Kafka, topic: string, opts: ReadOptions = {}): Promise<ReadResult> {
  const started = performance.now();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<number, bigint>();
  const next = new Map<number, bigint>();
  const reached = (slack: bigint): boolean => [...ends].every(([p, high]) => (next.get(p) ?? 0n) >= high - slack);
  const result: ReadResult = { records: [], count: 0, complete: false, ms: 0 };
  const groupId = `reader-${randomUUID()}`;
  try {
    for (const p of await topicEnds(admin, topic)) ends.set(p.partition, p.high);
    if (reached(0n)) return { ...result, complete: true };
    const consumer = kafka.consumer({
      kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
      'isolation.level': opts.readCommitted === false ? 'read_uncommitted' : 'read_committed',
      'js.consumer.max.batch.size': 5000,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic] });
      await new Promise<void>((resolve) => {
        let idle: NodeJS.Timeout | undefined;
        const finish = (complete = false): void => {
          clearTimeout(hardStop);
          clearTimeout(idle);
          result.complete = complete;
          resolve();
        };
        const hardStop = setTimeout(finish, opts.timeoutMs ?? 60_000);
        const rearm = (ms = opts.idleMs ?? 3000, then = finish): void => {
          clearTimeout(idle);
          idle = setTimeout(then, ms);
        };
        if (opts.idleBeforeFirst) rearm();
        void consumer.run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const r = { topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers };
              result.count++;
              if (opts.onRecord) await opts.onRecord(r);
              else result.records.push(r);
            }
            const last = batch.messages.at(-1);
            if (last) next.set(batch.partition, BigInt(last.offset) + 1n);
            if (reached(0n)) return finish(true);
            if (opts.markerWaitMs !== undefined && reached(1n)) return rearm(opts.markerWaitMs, () => finish(true));
            rearm();
          },
        });
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  } finally {
    // It committed nothing, but an empty group still lingers in the broker's list until it expires.
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return { ...result, ms: Math.round(performance.now() - started) };
}

