/**
 * The sink as a service, on the one start-up path (processors/runtime/start.ts): validates its config,
 * applies pending migrations, creates its input and the dead-letter topic if missing, registers their
 * schemas, starts the sink and /health /ready /metrics, and on SIGTERM/SIGINT lets the in-flight batch
 * commit before exiting 0.
 */
import { hostname } from 'node:os';
import postgres from 'postgres';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { postgresTls } from '../processors/runtime/postgres.js';
import { runService } from '../processors/runtime/start.js';
import { AvroCodec } from '../schemas/codec.js';
import { TOPICS, loadSchema, subjectFor } from '../schemas/topics.js';
import { loadSinkConfig } from './config.js';
import { migrate } from '../schemas/postgres/migrate.js';
import { Sink } from './sink.js';

await runService({
  name: 'sink',
  loadConfig: () => loadSinkConfig(),
  start: async ({ cfg, log, registry, onStartFailure }) => {
    // One connection per concurrent transaction is enough: the sink applies one batch at a time.
    const sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined, ...postgresTls(cfg) });
    onStartFailure(() => sql.end({ timeout: 1 }));
    const applied = await migrate(sql);
    if (applied.length > 0) log.info({ applied }, 'migrations applied');
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
    return {
      health: { host: cfg.httpHost, port: cfg.httpPort, portVariable: 'SINK_HTTP_PORT', ready: () => sink.ready },
      started: { msg: 'sink started', fields: { input: cfg.input, group: cfg.group } },
      stopping: { msg: 'stopping: finishing the current batch' },
      stop: async () => {
        await sink.stop();
        await sql.end({ timeout: 5 });
      },
      stopped: 'sink stopped',
    };
  },
});
