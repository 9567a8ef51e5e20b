/**
 * The sink as a service: validates its config, applies pending migrations, creates its input and the
 * dead-letter topic if missing, registers their schemas, starts the sink and /health /ready /metrics,
 * and on SIGTERM/SIGINT lets the in-flight batch commit before exiting 0.
 */
import { hostname } from 'node:os';
import postgres from 'postgres';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { postgresTls } from '../processors/runtime/postgres.js';
import { createRegistry } from '../processors/runtime/metrics.js';
import { startHealthServer } from '../processors/runtime/http.js';
import { AvroCodec } from '../schemas/codec.js';
import { TOPICS, loadSchema, subjectFor } from '../schemas/topics.js';
import { loadSinkConfig } from './config.js';
import { migrate, type Sql } from '../schemas/postgres/migrate.js';
import { Sink } from './sink.js';

let log = createLogger('sink', 'info');
let sql: Sql | undefined;
try {
  const cfg = loadSinkConfig();
  log = createLogger('sink', cfg.logLevel);
  // One connection per concurrent transaction is enough: the sink applies one batch at a time.
  sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined, ...postgresTls(cfg) });
  const applied = await migrate(sql);
  if (applied.length > 0) log.info({ applied }, 'migrations applied');
  const registry = createRegistry('sink');
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: `sink-${hostname()}-${process.pid}`, log, security: cfg });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [cfg.input, TOPICS.deadLetters].map((topic) => ({ topic, numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication })));
  await admin.disconnect();
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(subjectFor(cfg.input), loadSchema('window-count.avsc'));
  await codec.register(subjectFor(TOPICS.deadLetters), loadSchema('dead-letter.avsc'));
  const sink = new Sink({ kafka, sql, codec, log, registry, input: cfg.input, group: cfg.group, maxBatch: cfg.maxBatch, maxRetries: cfg.maxRetries });
  await sink.start();
  const http = await startHealthServer({ host: cfg.httpHost, port: cfg.httpPort, registry, isReady: () => sink.ready });
  const address = http.address();
  log.info({ input: cfg.input, group: cfg.group, port: typeof address === 'object' ? address?.port : address }, 'sink started');
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing the current batch');
    await sink.stop();
    await sql?.end({ timeout: 5 });
    http.close();
    log.info('sink stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  log.fatal({ err }, `sink failed to start: ${(err as Error).message}`);
  await sql?.end({ timeout: 1 }).catch(() => undefined);
  process.exit(1);
}
