/**
 * The end offsets of a topic as a read_committed consumer sees them (the last stable offset per
 * partition), for "have I caught up?" checks. Empty partitions are left out: there is nothing to read.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Kafka } from './kafka.js';
import type { Logger } from './logger.js';

/** librdkafka's UNKNOWN_TOPIC_OR_PART. */
const UNKNOWN_TOPIC = 3;

/**
 * Resolves with partition -> end offset. While the topic does not exist it waits (warning once), since
 * its owner may simply not have started yet; `cancelled` ends the wait with null.
 */
export async function committedEndOffsets(kafka: Kafka, topic: string, log: Logger, cancelled: () => boolean): Promise<Map<number, bigint> | null> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let waited = false; !cancelled(); waited = true) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic, { isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED });
        return new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
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
