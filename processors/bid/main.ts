/**
 * The bid processor as a service: bid-requests-enriched -> bids. It loads the campaign catalogue from
 * the compacted campaigns topic before consuming (readiness waits for it) and follows it, so a
 * campaign change takes effect within the follower's latency, without a restart.
 */
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { runProcessorService } from '../runtime/service.js';
import { createKafka } from '../runtime/kafka.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPIC_SCHEMAS, TOPICS } from '../../schemas/topics.js';
import { createCampaignFollower } from '../campaigns/campaign-follower.js';
import { CampaignIndex } from './campaign-index.js';
import { BidStateReader } from './bid-state.js';
import { bidProcessor } from './bid-processor.js';

import { bidSpecs as specs } from './config.js';

await runProcessorService({
  name: 'bid',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input ? 'bid-request.avsc' : topic === cfg.output ? 'bid-set.avsc' : undefined),
  create: async (cfg, log, registry) => {
    const index = new CampaignIndex();
    const codec = new AvroCodec(cfg.schemaRegistryUrl);
    await codec.register(subjectFor(cfg.campaignsTopic), loadSchema(TOPIC_SCHEMAS[TOPICS.campaigns]));
    const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: `bid-campaigns-${cfg.instanceId}`, log });
    const follower = createCampaignFollower({
      kafka, codec, log, topic: cfg.campaignsTopic,
      onUpsert: (_id, c) => index.upsert(c),
      onDelete: (id) => index.remove(id),
    });
    const redis = new Redis(cfg.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000 });
    redis.on('error', (err) => log.warn({ err }, 'Redis connection error'));
    const reader = new BidStateReader(redis, cfg.stateTimeoutMs);
    const metrics = {
      stateUnavailable: new Counter({ name: 'bid_state_unavailable_total', help: 'Requests decided with empty counters because Redis was slow or down', registers: [registry] }),
      decisions: new Counter({ name: 'bid_decisions_total', help: 'Requests by result: bid, or the no-bid reason', labelNames: ['result'], registers: [registry] }),
    };
    const processor = bidProcessor({
      name: cfg.name, input: cfg.input, output: cfg.output, index, metrics,
      readState: (q, now) => reader.read(q, now),
      catalogueReady: async () => {
        await follower.start();
        await follower.ready;
        log.info({ campaigns: index.size }, 'campaign catalogue loaded');
      },
    });
    return {
      ...processor,
      close: async () => {
        await follower.stop();
        redis.disconnect();
      },
    };
  },
});
