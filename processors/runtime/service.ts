/**
 * Runs one processor as a service on the one start-up path (start.ts): validates config, creates its
 * topics, registers the schemas it reads and writes, starts the runner and the health server, and shuts
 * down gracefully on SIGTERM/SIGINT. Each processor's main.ts is a few lines calling `runProcessorService`.
 */
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { commonSpecs, loadConfig, type ConfigOf, type Spec } from '../../schemas/config.js';
import type { Logger } from './logger.js';
import { createKafka, ensureTopics, kafkaSecurityProperties } from './kafka.js';
import { runService } from './start.js';
import { Runner, inputsOf } from './runner.js';
import type { Processor } from './processor.js';
import { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, TOPIC_SCHEMAS, loadSchema, subjectFor } from '../../schemas/topics.js';

export const runnerSpecs = {
  ...commonSpecs,
  instanceId: { env: 'PROCESSOR_INSTANCE_ID', type: 'string', pattern: /^[A-Za-z0-9._-]+$/, default: hostname().replace(/[^A-Za-z0-9._-]/g, '-'), doc: 'stable id of this instance (its transactional.id suffix); unique per running instance' },
  httpHost: { env: 'PROCESSOR_HTTP_HOST', type: 'string', default: '0.0.0.0', doc: 'address of /health, /ready, /metrics' },
  httpPort: { env: 'PROCESSOR_HTTP_PORT', type: 'int', min: 0, max: 65535, default: 0, doc: 'port of /health, /ready, /metrics (0 = any free port)' },
  concurrency: { env: 'PROCESSOR_CONCURRENCY', type: 'int', min: 1, max: 256, default: 8, doc: 'partition batches processed at once, committed in one transaction' },
  maxBatch: { env: 'PROCESSOR_MAX_BATCH', type: 'int', min: 1, max: 100_000, default: 500, doc: 'records per batch and transaction' },
  maxRetries: { env: 'PROCESSOR_MAX_RETRIES', type: 'int', min: 0, max: 1000, default: 10, doc: 'consecutive failed batches before exiting' },
  startupTimeoutMs: { env: 'PROCESSOR_STARTUP_TIMEOUT_MS', type: 'int', min: 1000, max: 3_600_000, default: 120_000, doc: 'a start-up that has not reached readiness by then exits 1 naming the step it was in (a hang becomes an exit the supervisor restarts)' },
  transactionTimeoutMs: { env: 'PROCESSOR_TX_TIMEOUT_MS', type: 'int', min: 1000, max: 900_000, default: 10_000, doc: 'transaction.timeout.ms (at-least-once: message.timeout.ms)' },
  delivery: { env: 'PROCESSOR_DELIVERY', type: 'enum', values: ['default', 'exactly-once'] as const, default: 'default', doc: "'default': the processor's own guarantee (decision hops at-least-once, accounting exactly-once); 'exactly-once' forces transactions" },
  commitIntervalMs: { env: 'PROCESSOR_COMMIT_INTERVAL_MS', type: 'int', min: 5, max: 60_000, default: 100, doc: 'at-least-once: how often delivered input offsets are committed (bounds re-processing after a kill)' },
  lingerMs: { env: 'PROCESSOR_LINGER_MS', type: 'int', min: 0, max: 1000, default: 1, doc: 'at-least-once: producer linger.ms' },
  poisonRetries: {
    env: 'PROCESSOR_POISON_RETRIES', type: 'int', min: 1, max: 1000, default: 5,
    doc: 'failed attempts of one record (with the usual backoff) before it is dead-lettered instead of retried, when its error does not look like infrastructure and other records go through; keep it <= PROCESSOR_MAX_RETRIES',
  },
  stuckReadyMs: { env: 'PROCESSOR_STUCK_READY_MS', type: 'int', min: 0, max: 3_600_000, default: 30_000, doc: '/ready answers 503 (naming the partition) while a partition has been failing for longer than this' },
} as const satisfies Record<string, Spec>;

export type RunnerConfig = ConfigOf<typeof runnerSpecs>;

export interface ServiceDefinition<S extends Record<string, Spec>, T, Ctx> {
  name: string;
  specs: S;
  /** The schema file of a topic, when it is not a pipeline topic of schemas/topics.ts. */
  schemaFor?: (topic: string, cfg: ConfigOf<S & typeof runnerSpecs>) => string | undefined;
  /** Builds the processor; `registry` is for its domain metrics (the runner adds the standard ones). */
  create: (cfg: ConfigOf<S & typeof runnerSpecs>, log: Logger, registry: Registry) => Promise<Processor<T, Ctx>> | Processor<T, Ctx>;
}

export async function runProcessorService<S extends Record<string, Spec>, T, Ctx>(def: ServiceDefinition<S, T, Ctx>): Promise<void> {
  await runService({
    name: def.name,
    loadConfig: () => loadConfig({ ...def.specs, ...runnerSpecs } as S & typeof runnerSpecs),
    startupDeadline: (cfg) => ({ ms: cfg.startupTimeoutMs, variable: 'PROCESSOR_STARTUP_TIMEOUT_MS' }),
    start: async ({ cfg, log, registry, step }) => {
      step('create');
      const processor = await def.create(cfg, log, registry);
      step('topics');
      const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: `${def.name}-${cfg.instanceId}`, log, security: cfg });
      const admin = kafka.admin();
      await admin.connect();
      const topics = [...inputsOf(processor), ...processor.outputs, TOPICS.deadLetters];
      await ensureTopics(admin, topics.map((topic) => ({ topic, numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication })));
      await admin.disconnect();
      step('schemas');
      const codec = new AvroCodec(cfg.schemaRegistryUrl);
      for (const topic of new Set(topics)) {
        const file = def.schemaFor?.(topic, cfg) ?? (TOPIC_SCHEMAS as Record<string, string>)[topic];
        if (!file) throw new Error(`no schema known for topic ${topic}`);
        await codec.register(subjectFor(topic), loadSchema(file));
      }
      const runner = new Runner(processor, {
        kafka, codec, log, registry, instanceId: cfg.instanceId, maxBatch: cfg.maxBatch, concurrency: cfg.concurrency, maxRetries: cfg.maxRetries, transactionTimeoutMs: cfg.transactionTimeoutMs,
        brokers: cfg.kafkaBrokers, delivery: cfg.delivery === 'default' ? undefined : cfg.delivery, commitIntervalMs: cfg.commitIntervalMs, lingerMs: cfg.lingerMs,
        poisonRetries: cfg.poisonRetries, stuckReadyMs: cfg.stuckReadyMs, security: kafkaSecurityProperties(cfg),
      });
      step('init');
      await processor.init?.();
      step('consume');
      await runner.start();
      return {
        health: { host: cfg.httpHost, port: cfg.httpPort, portVariable: 'PROCESSOR_HTTP_PORT', ready: () => runner.readiness() },
        started: { msg: 'processor started', fields: { input: processor.input, outputs: processor.outputs, group: runner.group, delivery: runner.delivery } },
        stopping: { msg: 'stopping: finishing the current batch' },
        stop: () => runner.stop(),
        stopped: 'processor stopped',
      };
    },
  });
}
