/**
 * Reads a whole topic, from the beginning to the end it had when the call started, with a throw-away
 * consumer group. For tests and operator tools, never for the pipeline's own processing.
 */
import { randomUUID } from 'node:crypto';
import { kafkaSecurityProperties, type Kafka, type KafkaSecurityConfig } from './kafka.js';
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
    for (const p of await admin.fetchTopicOffsets(topic)) ends.set(p.partition, BigInt(p.high));
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

/**
 * Per partition, the offset after the last committed data record: where a consumer that stores
 * "last record + 1" (the sink) stands when it has read everything. The high watermark is not that
 * on a transactional topic: commit markers occupy offsets that are never delivered. Reads each
 * partition's tail (read_committed) from `tail` offsets before the end.
 */
export async function committedDataEnds(brokers: string, topic: string, ends: ReadonlyArray<{ partition: number; low: string; high: string }>, tail = 200, security?: KafkaSecurityConfig): Promise<Map<number, bigint>> {
  const { RdKafka } = await import('@confluentinc/kafka-javascript');
  const out = new Map<number, bigint>();
  const consumer = new RdKafka.KafkaConsumer({
    'group.id': `data-end-${randomUUID()}`, 'metadata.broker.list': brokers, 'enable.auto.commit': false,
    'isolation.level': 'read_committed', 'enable.partition.eof': true, ...kafkaSecurityProperties(security),
  }, {});
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    for (const e of ends) {
      const low = BigInt(e.low);
      const high = BigInt(e.high);
      let end = low;
      if (high > low) {
        const from = high - BigInt(tail) > low ? high - BigInt(tail) : low;
        end = from;
        consumer.assign([{ topic, partition: e.partition, offset: Number(from) }]);
        const deadline = Date.now() + 10_000;
        for (let eof = false; !eof && Date.now() < deadline; ) {
          const batch = await new Promise<Array<{ offset?: number; partition?: number; value?: Buffer | null } | null>>((resolve, reject) =>
            consumer.consume(500, (err, msgs) => (err ? reject(err) : resolve(msgs as Array<{ offset?: number }>))));
          for (const m of batch) if (m && typeof m.offset === 'number' && m.value !== undefined) end = BigInt(m.offset) + 1n;
          // librdkafka reports the end of the partition as an event, not a message: poll position instead.
          const [pos] = consumer.position([{ topic, partition: e.partition }]);
          if (pos && typeof pos.offset === 'number' && BigInt(pos.offset) >= high) eof = true;
          if (batch.length === 0 && pos && typeof pos.offset === 'number' && BigInt(pos.offset) >= high - 1n) eof = true;
        }
        consumer.unassign();
      }
      out.set(e.partition, end);
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  return out;
}
