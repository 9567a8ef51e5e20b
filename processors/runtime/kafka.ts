/**
 * Kafka client set-up: the one place that constructs clients of @confluentinc/kafka-javascript
 * (its KafkaJS-compatible promise API over librdkafka). Logs go through pino.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from './logger.js';

export type Kafka = KafkaJS.Kafka;
export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type Admin = KafkaJS.Admin;

function kafkaLogger(log: Logger): KafkaJS.Logger {
  const make = (l: Logger): KafkaJS.Logger => ({
    info: (message, extra) => l.info(extra ?? {}, message),
    warn: (message, extra) => l.warn(extra ?? {}, message),
    error: (message, extra) => l.error(extra ?? {}, message),
    debug: (message, extra) => l.debug(extra ?? {}, message),
    namespace: (ns) => make(l.child({ ns })),
    setLogLevel: () => undefined,
  });
  return make(log.child({ component: 'kafka-client' }));
}

export function createKafka(opts: { brokers: string; clientId: string; log: Logger }): Kafka {
  return new KafkaJS.Kafka({
    kafkaJS: {
      brokers: opts.brokers.split(',').map((b) => b.trim()),
      clientId: opts.clientId,
      logger: kafkaLogger(opts.log),
      logLevel: KafkaJS.logLevel.WARN,
    },
  });
}

/** Creates the topics that do not exist yet (idempotent); existing topics are left as they are. */
export async function ensureTopics(
  admin: Admin,
  topics: ReadonlyArray<{ topic: string; numPartitions: number; replicationFactor: number; configEntries?: { name: string; value: string }[] }>,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing.map((t) => ({ ...t })) });
  } catch (err) {
    // Another process may have created one concurrently; only fail if something is still missing.
    const now = new Set(await admin.listTopics());
    if (missing.some((t) => !now.has(t.topic))) throw err;
  }
  return missing.map((t) => t.topic);
}

/**
 * Sets a consumer group's committed offsets (the admin API of this client has no such call): commits
 * them as a non-member, which the broker accepts only while the group has no live members, exactly
 * what a replay needs. Throws if the commit fails.
 */
export async function setGroupOffsets(
  brokers: string,
  groupId: string,
  topic: string,
  partitions: ReadonlyArray<{ partition: number; offset: string }>,
): Promise<void> {
  const { RdKafka } = await import('@confluentinc/kafka-javascript');
  const consumer = new RdKafka.KafkaConsumer({ 'group.id': groupId, 'metadata.broker.list': brokers, 'enable.auto.commit': false }, {});
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    // commitSync blocks until the broker answered; it throws on failure (e.g. the group has live members).
    consumer.commitSync(partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })));
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
