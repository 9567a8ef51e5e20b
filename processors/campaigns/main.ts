/**
 * The campaign management service: resolves the bootstrap operator token (operator-token.ts: refuses to
 * start without one unless RTB_DEV_MODE=1), migrates Postgres, makes sure the compacted campaigns topic
 * and its schema exist, re-sends every campaign (start-up and every CAMPAIGNS_REPUBLISH_MS; a campaign
 * that cannot be encoded is skipped and logged), then serves the API.
 * SIGTERM/SIGINT: stop listening, let in-flight requests finish, flush the producer, exit 0 (the one
 * start-up path, processors/runtime/start.ts).
 */
import postgres from 'postgres';
import { loadCampaignsConfig } from './config.js';
import { createKafka } from '../runtime/kafka.js';
import { postgresTls } from '../runtime/postgres.js';
import { runService } from '../runtime/start.js';
import { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, registerTopicSchemas } from '../../schemas/topics.js';
import { migrate } from '../../schemas/postgres/migrate.js';
import { CampaignStore } from './store.js';
import { CampaignPublisher, createCampaignProducer, ensureCampaignsTopic, startRepublisher, unpublishableLogger } from './publisher.js';
import { TokenStore } from './token-store.js';
import { resolveOperatorToken } from './operator-token.js';
import { createCampaignMetrics } from './metrics.js';
import { readApiTls, startCampaignsApi } from './api.js';

/** Rejects after `ms`, so a hung dependency makes /ready answer 503 instead of hanging. */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref())]);
}

await runService({
  name: 'campaigns',
  loadConfig: () => loadCampaignsConfig(),
  start: async ({ cfg, log, registry }) => {
    // First, before touching anything: a service without a usable operator token must not start.
    const operator = await resolveOperatorToken(cfg);
    if (cfg.devMode) log.warn('RTB_DEV_MODE=1: development mode, never use it in production');
    if (operator.source === 'generated') log.warn({ path: operator.path }, `development mode: generated an operator token and wrote it to ${operator.path} (mode 0600); use it as Authorization: Bearer <the file's content>`);
    else log.info({ source: operator.source, path: operator.path }, operator.source === 'env' ? 'operator token from CAMPAIGNS_OPERATOR_TOKEN' : `operator token read from ${operator.path}`);
    if (operator.warning) log.warn(operator.warning);
    // Read before anything starts: a certificate that is missing or unreadable stops the service here.
    const tls = readApiTls(cfg.tlsCertFile, cfg.tlsKeyFile);
    const sql = postgres(cfg.postgresUrl, { max: 10, onnotice: () => undefined, ...postgresTls(cfg) });
    const applied = await migrate(sql, { onApplied: (name, ms) => log.info({ migration: name, ms }, 'migration applied') });
    log.info({ applied: applied.length }, 'database schema is current');

    const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'campaigns', log, security: cfg });
    const admin = kafka.admin();
    await admin.connect();
    await ensureCampaignsTopic(admin, { numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication });
    const codec = new AvroCodec(cfg.schemaRegistryUrl);
    await registerTopicSchemas(codec, [TOPICS.campaigns]);
    const producer = createCampaignProducer(kafka, cfg.publishTimeoutMs);
    await producer.connect();

    const metrics = createCampaignMetrics(registry);
    const store = new CampaignStore(sql);
    const publisher = new CampaignPublisher(producer, codec, (result) => metrics.published.inc({ result }));
    // Start-up re-send: delivers whatever a previous instance committed but did not publish.
    const first = await publisher.republishAll(store, { onUnpublishable: unpublishableLogger(log) });
    (first.unpublishable > 0 ? log.warn.bind(log) : log.info.bind(log))(first, 'republished every campaign');
    const republisher = startRepublisher({
      publisher, store, intervalMs: cfg.republishMs, log,
      onDone: (r, seconds) => metrics.republishSeconds.observe({ result: r instanceof Error ? 'failed' : 'ok' }, seconds),
    });

    // The API answers /health, /ready and /metrics itself, beside its routes.
    const server = await startCampaignsApi({
      host: cfg.host, port: cfg.port, store, registry, metrics, log, tokens: new TokenStore(sql), operatorToken: operator.token,
      ...(tls ? { tls } : {}),
      bounds: { requestTimeoutMs: cfg.requestTimeoutMs, maxConnections: cfg.maxConnections },
      publish: (c) => publisher.publish(c),
      isReady: async () => {
        const checks = [within(sql`select 1`, 2000), within(admin.fetchTopicMetadata({ topics: [TOPICS.campaigns] }), 2000)];
        return (await Promise.allSettled(checks)).every((r) => r.status === 'fulfilled');
      },
    });
    const address = server.address();
    return {
      started: { msg: 'campaign API listening', fields: { port: typeof address === 'object' ? address?.port : address, tls: tls !== undefined, republishMs: cfg.republishMs } },
      stopping: { msg: 'stopping: finishing in-flight requests' },
      stop: async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await republisher.stop();
        await producer.flush({ timeout: cfg.publishTimeoutMs }).catch((err: unknown) => log.error({ err }, 'producer flush failed'));
        await producer.disconnect().catch(() => undefined);
        await admin.disconnect().catch(() => undefined);
        await sql.end({ timeout: 5 });
      },
      stopped: 'campaign API stopped',
    };
  },
});
