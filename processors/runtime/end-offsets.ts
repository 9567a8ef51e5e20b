/**
 * Where a topic's data ends, per partition: the one place that asks the brokers (group-lag.ts measures
 * consumers against it; the replay tool, find-request, the table follower, the sink's claims, the tests and
 * the benchmarks read it here).
 *  - `topicEnds`: each partition's log start and end: the high watermark, or with `readCommitted` the last
 *    stable offset (what a read_committed consumer may read up to).
 *  - `committedDataEnds`: the offset after each partition's last committed DATA record: where a consumer that
 *    stores "last record + 1" (the runner's commits, the sink's Postgres positions) stands once it has read
 *    everything. Neither end above is that on a transactional topic: commit markers occupy offsets that are
 *    never delivered.
 *  - `committedEndOffsets`: the last stable offsets of the non-empty partitions, waiting for the topic to exist
 *    (the table follower's "have I loaded everything?").
 *  - `offsetsAtTime`: per partition the first offset at or after a time (the end when there is none).
 */
import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { kafkaSecurityProperties, type Admin, type Kafka, type KafkaSecurityConfig } from './kafka.js';
import type { Logger } from './logger.js';

export interface PartitionEnds {
  partition: number;
  /** The log start: the first offset still held. */
  low: bigint;
  /** The high watermark, or the last stable offset when read committed. */
  high: bigint;
}

/** Each partition's log start and end (high watermark; with `readCommitted`, the last stable offset). */
export async function topicEnds(admin: Admin, topic: string, opts: { readCommitted?: boolean } = {}): Promise<PartitionEnds[]> {
  const offsets = await admin.fetchTopicOffsets(topic, opts.readCommitted ? { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED } : undefined);
  return offsets.map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }));
}

/** Per partition: the first offset at or after `fromMs`, or the end (high watermark) when nothing is that recent. */
export async function offsetsAtTime(admin: Admin, topic: string, fromMs: number): Promise<Array<{ partition: number; offset: bigint; end: bigint }>> {
  const ends = new Map((await topicEnds(admin, topic)).map((p) => [p.partition, p.high]));
  return (await admin.fetchTopicOffsetsByTimestamp(topic, fromMs)).map((p) => {
    const end = ends.get(p.partition) ?? 0n;
    return { partition: p.partition, offset: Number(p.offset) < 0 ? end : BigInt(p.offset), end };
  });
}

/** librdkafka's UNKNOWN_TOPIC_OR_PART. */
const UNKNOWN_TOPIC = 3;

/**
 * Resolves with partition -> last stable offset, for the partitions that hold data. While the topic does
 * not exist it waits (warning once), since its owner may simply not have started yet; `cancelled` ends the
 * wait with null.
 */
export async function committedEndOffsets(kafka: Kafka, topic: string, log: Logger, cancelled: () => boolean): Promise<Map<number, bigint> | null> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let waited = false; !cancelled(); waited = true) {
      try {
        const offsets = await topicEnds(admin, topic, { readCommitted: true });
        return new Map(offsets.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
      } catch (err) {
        if ((err as { code?: unknown }).code !== UNKNOWN_TOPIC) throw err;
        if (!waited) log.warn({ topic }, 'topic does not exist yet: waiting for it');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    return null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Per partition of `ends` (from `topicEnds`, or the admin API's strings), the offset after the last
 * committed data record; the log start when there is none. Reads each partition's tail (read_committed)
 * from `tail` offsets before the end, through a consumer of its own (about a second per partition).
 */
export async function committedDataEnds(
  brokers: string,
  topic: string,
  ends: ReadonlyArray<{ partition: number; low: bigint | string; high: bigint | string }>,
  tail = 200,
  security?: KafkaSecurityConfig,
): Promise<Map<number, bigint>> {
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
