/**
 * The ingest edge process, on the one start-up path (processors/runtime/start.ts). With INGEST_WORKERS=N > 1
 * it forks N workers that share the port (uWebSockets.js listens with SO_REUSEPORT, so the kernel spreads
 * connections across them) and forwards SIGTERM/SIGINT to them.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadIngestConfig, type IngestConfig } from './config.js';
import type { Registry } from 'prom-client';
import type { Logger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics, kafkaSecurityProperties } from '../processors/runtime/kafka.js';
import { runService, type Running } from '../processors/runtime/start.js';
import { AvroCodec } from '../schemas/codec.js';
import { TOPIC_SCHEMAS, TOPICS, loadSchema, subjectFor } from '../schemas/topics.js';
import { Publisher } from './publisher.js';
import { DeliveryProducer } from '../processors/runtime/delivery-producer.js';
import { partitionKey, type BidRequest } from '../schemas/bid-request.js';
import type { LossNotice, TrackingEvent } from '../schemas/tracking-event.js';
import { createEdgeMetrics } from './metrics.js';
import { startEdge } from './server.js';
import { OutcomeWaiter } from './outcome-waiter.js';
import { OutcomeListener } from './outcome-listener.js';
import { REQUEST_ID_HEADER, saneRequestId } from '../processors/runtime/trace-context.js';
import { loadExchanges, type Exchanges } from './exchanges.js';
import { parseRequestKey } from '../schemas/request-key.js';
import { resolveTrackingSecrets } from './tracking-secret.js';

async function startWorker(cfg: IngestConfig, log: Logger, registry: Registry, exchanges: Exchanges): Promise<Running> {
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: `ingest-${cfg.nodeId}`, log, security: cfg });
  const admin = kafka.admin();
  await admin.connect();
  const sync = cfg.openrtbMode === 'sync';
  const topics = sync ? [cfg.topic, cfg.outcomesTopic, cfg.trackingTopic, cfg.lossTopic] : [cfg.topic, cfg.trackingTopic, cfg.lossTopic];
  await ensureTopics(admin, topics.map((topic) => ({ topic, numPartitions: cfg.topicPartitions, replicationFactor: cfg.topicReplication })));
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(subjectFor(cfg.topic), loadSchema(TOPIC_SCHEMAS[TOPICS.bidRequests]));
  await codec.register(subjectFor(cfg.trackingTopic), loadSchema(TOPIC_SCHEMAS[TOPICS.trackingEvents]));
  await codec.register(subjectFor(cfg.lossTopic), loadSchema(TOPIC_SCHEMAS[TOPICS.lossNotices]));
  const waiter = new OutcomeWaiter();
  let listener: OutcomeListener | null = null;
  if (sync) {
    await codec.register(subjectFor(cfg.outcomesTopic), loadSchema(TOPIC_SCHEMAS[TOPICS.auctionOutcomes]));
    listener = new OutcomeListener(kafka, codec, cfg.outcomesTopic, waiter, log, cfg.nodeId);
    await listener.start();
  }

  const producer = await DeliveryProducer.connect({
    brokers: cfg.kafkaBrokers,
    clientId: `ingest-${cfg.nodeId}`,
    log,
    pollIntervalMs: cfg.deliveryPollMs,
    config: {
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': cfg.lingerMs,
      'compression.codec': cfg.compression,
      'message.timeout.ms': cfg.deliveryTimeoutMs,
      'queue.buffering.max.messages': Math.max(100_000, cfg.maxInflight * 2),
      ...kafkaSecurityProperties(cfg),
    },
  });
  const publisher = new Publisher<BidRequest>(producer, codec, cfg.topic, subjectFor(cfg.topic), cfg.maxInflight, partitionKey);
  // Same producer (acks=all, idempotent): a notice is answered only once Kafka holds its event. Keyed by request id.
  const tracker = new Publisher<TrackingEvent>(producer, codec, cfg.trackingTopic, subjectFor(cfg.trackingTopic), cfg.maxInflight, (e) => e.requestId);
  const losses = new Publisher<LossNotice>(producer, codec, cfg.lossTopic, subjectFor(cfg.lossTopic), cfg.maxInflight, (e) => e.requestId);

  // Readiness: schemas are registered (above) and the broker answered a metadata request recently.
  let kafkaReachable = true;
  const probe = setInterval(() => {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('metadata request timed out')), 2000).unref());
    Promise.race([admin.fetchTopicMetadata({ topics: [cfg.topic] }), timeout]).then(
      () => {
        if (!kafkaReachable) log.info('Kafka reachable again');
        kafkaReachable = true;
      },
      (err: unknown) => {
        if (kafkaReachable) log.error({ err }, 'Kafka unreachable: /ready answers 503');
        kafkaReachable = false;
      },
    );
  }, 2000);
  probe.unref();

  const metrics = createEdgeMetrics(registry, () => publisher.inflight + tracker.inflight + losses.inflight, sync ? waiter : undefined);
  const edge = await startEdge({
    cfg, log, metrics, registry, publish: (r, headers) => publisher.publish(r, headers),
    // A notice follows the bid request its token names: its record carries that request id (the OpenRTB
    // id; the token holds no other) as x-request-id, so settle's and the aggregate's lines about it name it.
    // The token names the request by requestKey(exchange, id): the header carries the OpenRTB id alone, as before
    // (requestIdHeader). Loss notices alike.
    publishTracking: (e) => tracker.publish(e, requestIdHeader(e.requestId)),
    publishLoss: (n) => losses.publish(n, requestIdHeader(n.requestId)),
    // Not ready while deliveries are stalled: a load balancer then sends traffic to another edge node.
    isReady: () => kafkaReachable && !publisher.stalled(cfg.readyStallMs) && !tracker.stalled(cfg.readyStallMs) && !losses.stalled(cfg.readyStallMs) && (listener === null || listener.assigned),
    awaitOutcome: sync ? (key, ms) => waiter.wait(key, ms) : undefined,
    cancelOutcome: (key, wait) => waiter.cancel(key, wait),
    exchanges,
  });
  return {
    started: {
      msg: 'ingest edge listening',
      fields: { port: edge.port, tls: edge.tls, metricsPort: edge.metricsPort, topic: cfg.topic, exchanges: exchanges.open ? ['dev (RTB_DEV_MODE, no keys)'] : exchanges.list.map((e) => e.id) },
    },
    stopping: { msg: 'shutting down: draining in-flight requests', fields: () => ({ inFlight: edge.inFlight }) },
    stop: async () => {
      clearInterval(probe);
      await edge.drain(cfg.shutdownTimeoutMs);
      waiter.cancelAll();
      await listener?.stop();
      await producer.flush(cfg.shutdownTimeoutMs).catch((err: unknown) => log.error({ err }, 'producer flush failed'));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
    stopped: 'ingest edge stopped',
  };
}

/** The x-request-id header of a notice's record: the OpenRTB id of requestKey(exchange, id), when sane. */
function requestIdHeader(key: string): Array<Record<string, string>> | undefined {
  const id = parseRequestKey(key).id;
  return saneRequestId(id) ? [{ [REQUEST_ID_HEADER]: id }] : undefined;
}

/** Forks the workers; a signal is forwarded to them and the process exits when the last one has (0 only if it exited 0). */
function startSupervisor(cfg: IngestConfig, log: Logger): Running {
  const self = fileURLToPath(import.meta.url);
  let stopping = false;
  let alive = cfg.workers;
  const children = Array.from({ length: cfg.workers }, (_, i) => {
    const child = fork(self, process.argv.slice(2), { env: { ...process.env, INGEST_WORKERS: '1', INGEST_NODE_ID: `${cfg.nodeId}-${i}` }, execArgv: process.execArgv });
    child.on('exit', (code, signal) => {
      alive--;
      if (!stopping) {
        log.error({ worker: i, code, signal }, 'ingest worker exited unexpectedly: stopping the edge');
        for (const c of children) c.kill('SIGTERM');
        stopping = true;
      }
      if (alive === 0) process.exit(stopping && code === 0 ? 0 : 1);
    });
    return child;
  });
  return {
    started: { msg: 'ingest supervisor started workers', fields: { workers: cfg.workers, port: cfg.port } },
    stop: () => {
      stopping = true;
      for (const c of children) c.kill('SIGTERM');
      // The workers drain; the exit handler above ends the process once the last one is gone.
      return new Promise<never>(() => undefined);
    },
  };
}

await runService({
  name: 'ingest',
  loadConfig: () => loadIngestConfig(),
  start: async ({ cfg: loaded, log, registry }) => {
    // Before anything else: an edge without a secret of its own (unset, or a published one) must not sign or accept notices.
    const secrets = await resolveTrackingSecrets(loaded);
    if (secrets.warning) log.warn(secrets.warning);
    const cfg: IngestConfig = { ...loaded, trackingSecret: secrets.trackingSecret, trackingSecretPrevious: secrets.trackingSecretPrevious };
    // Exchanges are validated here, before any worker starts: a bad entry is one line naming the field.
    const exchanges = loadExchanges(cfg, (message) => log.warn(message));
    // The edge answers /health, /ready and /metrics on its own uWS server (and INGEST_METRICS_PORT).
    return cfg.workers > 1 ? startSupervisor(cfg, log) : startWorker(cfg, log, registry, exchanges);
  },
});
