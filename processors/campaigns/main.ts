/**
 * The campaign management service: migrates Postgres, makes sure the compacted campaigns topic and its
 * schema exist, re-sends every campaign (start-up and every CAMPAIGNS_REPUBLISH_MS), then serves the API.
 * SIGTERM/SIGINT: stop listening, let in-flight requests finish, flush the producer, exit 0.
 */
import postgres from 'postgres';
import { loadCampaignsConfig } from './config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka } from '../runtime/kafka.js';
import { createRegistry } from '../runtime/metrics.js';
import { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, registerTopicSchemas } from '../../schemas/topics.js';
import { migrate } from '../../sink/migrate.js';
import { CampaignStore } from './store.js';
import { CampaignPublisher, createCampaignProducer, ensureCampaignsTopic, startRepublisher } from './publisher.js';
import { createCampaignMetrics } from './metrics.js';
import { startCampaignsApi } from './api.js';

/** Rejects after `ms`, so a hung dependency makes /ready answer 503 instead of hanging. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

let log = createLogger('campaigns', 'info');
try {
  const cfg = loadCampaignsConfig();
  log = createLogger('campaigns', cfg.logLevel);
  const sql = postgres(cfg.postgresUrl, { max: 10, onnotice: () => undefined });
  const applied = await migrate(sql, { onApplied: (name, ms) => log.info({ migration: name, ms }, 'migration applied') });
  log.info({ applied: applied.length }, 'database schema is current');

  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'campaigns', log });
  const admin = kafka.admin();
  await admin.connect();
  await ensureCampaignsTopic(admin, { numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication });
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await registerTopicSchemas(codec, [TOPICS.campaigns]);
  const producer = createCampaignProducer(kafka, cfg.publishTimeoutMs);
  await producer.connect();

  const registry = createRegistry('campaigns');
  const metrics = createCampaignMetrics(registry);
  const store = new CampaignStore(sql);
  const publisher = new CampaignPublisher(producer, codec, (result) => metrics.published.inc({ result }));
  // Start-up re-send: delivers whatever a previous instance committed but did not publish.
  const first = await publisher.republishAll(store);
  log.info(first, 'republished every campaign');
  const republisher = startRepublisher({
    publisher, store, intervalMs: cfg.republishMs, log,
    onDone: (r, seconds) => metrics.republishSeconds.observe({ result: r instanceof Error ? 'failed' : 'ok' }, seconds),
  });

  const server = await startCampaignsApi({
    host: cfg.host, port: cfg.port, store, registry, metrics, log,
    publish: (c) => publisher.publish(c),
    isReady: async () => {
      const checks = [within(sql`select 1`, 2000), within(admin.fetchTopicMetadata({ topics: [TOPICS.campaigns] }), 2000)];
      return (await Promise.allSettled(checks)).every((r) => r.status === 'fulfilled');
    },
  });
  const address = server.address();
  log.info({ port: typeof address === 'object' ? address?.port : address, republishMs: cfg.republishMs }, 'campaign API listening');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight requests');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await republisher.stop();
    await producer.flush({ timeout: cfg.publishTimeoutMs }).catch((err: unknown) => log.error({ err }, 'producer flush failed'));
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await sql.end({ timeout: 5 });
    log.info('campaign API stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  log.fatal({ err }, `campaigns failed to start: ${(err as Error).message}`);
  process.exit(1);
}
