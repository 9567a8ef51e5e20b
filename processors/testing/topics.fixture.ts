/**
 * Test support: a Kafka client on the local stack for a test file, and the topics it creates, deleted when
 * the file's tests are done (`createTopics`, or `created.push(topic)` for topics made otherwise). Not used by
 * production code.
 */
import { after } from 'node:test';
import { commonSpecs, loadConfig } from '../../schemas/config.js';
import { createKafka, ensureTopics, type Admin, type Kafka } from '../runtime/kafka.js';
import { createLogger } from '../runtime/logger.js';

/**
 * Creates `topics` with `partitions` partitions each (replication 1) and records them in `created`, to be
 * deleted; `shared` topics (e.g. the dead-letter topic) are created if missing with the same partitions, never deleted.
 */
export async function createTopics(kafka: Kafka, created: string[], topics: readonly string[], partitions: number, shared: readonly string[] = []): Promise<void> {
  created.push(...topics);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...topics, ...shared].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })));
  await admin.disconnect();
}

export type TopicsFixture = ReturnType<typeof topicsFixture>;

export function topicsFixture(clientId: string) {
  const cfg = loadConfig(commonSpecs);
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId, log: createLogger('test', 'silent'), security: cfg });
  const created: string[] = [];
  /** One connected admin client for the file, made when first asked for. */
  let connected: Promise<Admin> | undefined;
  const admin = (): Promise<Admin> =>
    (connected ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })());
  after(async () => {
    const a = await admin();
    await a.deleteTopics({ topics: created }).catch(() => undefined);
    await a.disconnect();
  });
  return {
    cfg, kafka, admin, created,
    /** createTopics on this file's client, deleted when its tests are done. */
    createTopics: (topics: readonly string[], partitions: number, shared: readonly string[] = []) => createTopics(kafka, created, topics, partitions, shared),
  };
}
