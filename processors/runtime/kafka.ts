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
