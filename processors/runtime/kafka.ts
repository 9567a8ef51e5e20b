/**
 * Kafka client set-up: the one place that constructs clients of @confluentinc/kafka-javascript
 * (its KafkaJS-compatible promise API over librdkafka). Logs go through pino.
 *
 * Transport security: `kafkaSecurityProperties` turns the KAFKA_SECURITY_* / KAFKA_SASL_* / KAFKA_SSL_*
 * configuration (config.ts `kafkaSecuritySpecs`) into librdkafka properties. `createKafka({ security })`
 * puts them into the common configuration of every producer, consumer and admin client made from it; the
 * clients built on librdkafka's own API (flow-consumer.ts, delivery-producer.ts, setGroupOffsets,
 * end-offsets.ts committedDataEnds, group-lag.ts CommittedOffsets, deploy/find-request.ts) take the same properties.
 */
import { accessSync, constants } from 'node:fs';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from './logger.js';
import { PipelineError } from '../../schemas/errors.js';

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

/** The Kafka transport security settings (config.ts `kafkaSecuritySpecs`); any service config has them. */
export interface KafkaSecurityConfig {
  readonly kafkaSecurityProtocol: 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
  readonly kafkaSaslMechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly kafkaSaslUsername: string;
  readonly kafkaSaslPassword: string;
  readonly kafkaSslCaFile: string;
  readonly kafkaSslCertFile: string;
  readonly kafkaSslKeyFile: string;
  readonly kafkaSslKeyPassword: string;
  readonly kafkaSslVerifyHostname: boolean;
}

/**
 * librdkafka properties for the configured transport security: none for PLAINTEXT; security.protocol, the
 * SASL mechanism and credentials for SASL_*; the CA, client certificate and key files for SSL / SASL_SSL.
 * A setting that cannot work (SASL without credentials, a certificate without its key, TLS files with a
 * protocol that has no TLS, a file that cannot be read) is CONFIG_INVALID naming the variable, at start-up
 * rather than as a connection that never succeeds. `undefined` (tests on the local stack): none.
 */
export function kafkaSecurityProperties(cfg: KafkaSecurityConfig | undefined): Record<string, string> {
  if (!cfg) return {};
  const protocol = cfg.kafkaSecurityProtocol;
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const files: Array<[string, string, string]> = [
    ['KAFKA_SSL_CA_FILE', cfg.kafkaSslCaFile, 'ssl.ca.location'],
    ['KAFKA_SSL_CERT_FILE', cfg.kafkaSslCertFile, 'ssl.certificate.location'],
    ['KAFKA_SSL_KEY_FILE', cfg.kafkaSslKeyFile, 'ssl.key.location'],
  ];
  if (!tls) {
    const set = files.find(([, v]) => v !== '');
    if (set) throw new PipelineError('CONFIG_INVALID', `${set[0]} is set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS: set KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL, or unset ${set[0]}`);
  }
  if (!sasl && (cfg.kafkaSaslUsername !== '' || cfg.kafkaSaslPassword !== '')) {
    throw new PipelineError('CONFIG_INVALID', `KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD are set but KAFKA_SECURITY_PROTOCOL=${protocol} does not authenticate: set KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT)`);
  }
  if (protocol === 'PLAINTEXT') return {};
  const props: Record<string, string> = { 'security.protocol': protocol.toLowerCase() };
  if (sasl) {
    if (cfg.kafkaSaslUsername === '' || cfg.kafkaSaslPassword === '') {
      throw new PipelineError('CONFIG_INVALID', `KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)`);
    }
    props['sasl.mechanism'] = cfg.kafkaSaslMechanism;
    props['sasl.username'] = cfg.kafkaSaslUsername;
    props['sasl.password'] = cfg.kafkaSaslPassword;
  }
  if (tls) {
    if ((cfg.kafkaSslCertFile === '') !== (cfg.kafkaSslKeyFile === '')) {
      throw new PipelineError('CONFIG_INVALID', 'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate and its private key)');
    }
    for (const [variable, path, property] of files) {
      if (path === '') continue;
      try {
        accessSync(path, constants.R_OK);
      } catch (err) {
        throw new PipelineError('CONFIG_INVALID', `${variable}=${JSON.stringify(path)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      props[property] = path;
    }
    if (cfg.kafkaSslKeyPassword !== '') props['ssl.key.password'] = cfg.kafkaSslKeyPassword;
    props['ssl.endpoint.identification.algorithm'] = cfg.kafkaSslVerifyHostname ? 'https' : 'none';
  }
  return props;
}

/**
 * A KafkaJS-compatible client factory. `security`: the service's configuration (its transport security
 * settings go to every client made from it); omitted only by tests and tools against the local PLAINTEXT stack.
 */
export function createKafka(opts: { brokers: string; clientId: string; log: Logger; security?: KafkaSecurityConfig }): Kafka {
  return new KafkaJS.Kafka({
    kafkaJS: {
      brokers: opts.brokers.split(',').map((b) => b.trim()),
      clientId: opts.clientId,
      logger: kafkaLogger(opts.log),
      logLevel: KafkaJS.logLevel.WARN,
    },
    ...kafkaSecurityProperties(opts.security),
  });
}

/**
 * The consumer settings of an exactly-once stage (the runner's exactly-once mode, the sink): offsets are
 * never auto-committed (the stage commits them with its writes), only committed data is read, partitions
 * move cooperatively, batches hold up to `maxBatch` records, and a member silent for 10 s loses its partitions.
 */
export function exactlyOnceConsumerConfig(group: string, maxBatch: number) {
  return {
    'group.id': group,
    'enable.auto.commit': false,
    'auto.offset.reset': 'earliest',
    'isolation.level': 'read_committed',
    'partition.assignment.strategy': 'cooperative-sticky',
    'js.consumer.max.batch.size': maxBatch,
    'session.timeout.ms': 10_000,
  } as const satisfies KafkaJS.ConsumerConstructorConfig;
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
  await untilVisible(admin, missing.map((t) => t.topic));
  return missing.map((t) => t.topic);
}

/**
 * Waits until every partition of `topics` has a leader in the broker's metadata. A topic is created
 * asynchronously: a consumer that subscribed at once got "Unknown topic or partition" and, in the
 * KafkaJS-compatible client, next looked for it only after topic.metadata.refresh.interval.ms (5 min).
 * Seen in the chaos run: the aggregate, started with the other services on new topics, consumed nothing
 * for exactly 5 minutes.
 */
async function untilVisible(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  for (let last = ''; ; ) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
      const waiting = topics.filter((t) => {
        const m = meta.find((x) => x.name === t);
        return !m || m.partitions.length === 0 || m.partitions.some((p) => p.leader < 0);
      });
      if (waiting.length === 0) return;
      last = `no leader yet for ${waiting.join(', ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`topics created but not visible within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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
  security?: KafkaSecurityConfig,
): Promise<void> {
  const { RdKafka } = await import('@confluentinc/kafka-javascript');
  const consumer = new RdKafka.KafkaConsumer({ 'group.id': groupId, 'metadata.broker.list': brokers, 'enable.auto.commit': false, ...kafkaSecurityProperties(security) }, {});
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    // commitSync blocks until the broker answered; it throws on failure (e.g. the group has live members).
    consumer.commitSync(partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })));
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
