/**
 * The bid processor as a service: bid-requests-enriched -> bids. It loads the campaign catalogue from
 * the compacted campaigns topic before consuming (readiness waits for it) and follows it, so a
 * campaign change takes effect within the follower's latency, without a restart. Once the catalogue
 * is loaded it starts the campaign counter snapshot (counter-snapshot.ts) and waits for its first read,
 * so the first batches do not decide without counters; a Redis that is down then does not delay start.
 */
import { createRedis } from '../runtime/redis.js';
import { Counter, Gauge } from 'prom-client';
import { runProcessorService } from '../runtime/service.js';
import { createKafka } from '../runtime/kafka.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPIC_SCHEMAS, TOPICS } from '../../schemas/topics.js';
import { createCampaignFollower } from '../domain/campaign-follower.js';
import { CampaignIndex } from './campaign-index.js';
import { FrequencyReader } from './bid-state.js';
import { CounterSnapshot } from './counter-snapshot.js';
import { bidProcessor } from './bid-processor.js';
import { FxRates } from './fx-rates.js';

import { bidSpecs as specs } from './config.js';

await runProcessorService({
  name: 'bid',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input ? 'bid-request.avsc' : topic === cfg.output ? 'bid-set.avsc' : undefined),
  create: async (cfg, log, registry) => {
    const index = new CampaignIndex();
    const codec = new AvroCodec(cfg.schemaRegistryUrl);
    await codec.register(subjectFor(cfg.campaignsTopic), loadSchema(TOPIC_SCHEMAS[TOPICS.campaigns]));
    const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: `bid-campaigns-${cfg.instanceId}`, log, security: cfg });
    const follower = createCampaignFollower({
      kafka, codec, log, topic: cfg.campaignsTopic,
      onUpsert: (_id, c) => index.upsert(c),
      onDelete: (id) => index.remove(id),
    });
    const redis = createRedis(cfg, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000 });
    redis.on('error', (err) => log.warn({ err }, 'Redis connection error'));
    const frequencies = new FrequencyReader(redis, cfg.stateTimeoutMs);
    const refreshFailures = new Counter({ name: 'bid_counters_refresh_failures_total', help: 'Background reads of the campaign counter snapshot that failed or timed out', registers: [registry] });
    const snapshot = new CounterSnapshot({ redis, campaigns: () => index.campaigns(), refreshMs: cfg.countersRefreshMs, log, metrics: { refreshFailures } });
    new Gauge({
      name: 'bid_counters_age_seconds', help: 'Age of the campaign counter snapshot in use (+Inf before the first read); over 10x BID_COUNTERS_REFRESH_MS it is not used',
      registers: [registry], collect() { this.set(snapshot.ageMs() / 1000); },
    });
    const fxRefreshFailures = new Counter({ name: 'bid_fx_refresh_failures_total', help: 'Re-reads of the currency rate table that failed (the last good table stays in use)', registers: [registry] });
    const fx = new FxRates({
      source: { file: cfg.fxRatesFile, url: cfg.fxRatesUrl }, refreshMs: cfg.fxRefreshMs, maxAgeMs: cfg.fxMaxAgeMs,
      onRefreshError: (err) => {
        fxRefreshFailures.inc();
        log.warn({ err: err.message }, 'currency rate refresh failed; keeping the last good table');
      },
    });
    // A bad rate source stops the start here, with the one line fetchRateTable wrote.
    await fx.start();
    new Gauge({
      name: 'bid_fx_rates_age_seconds', help: 'Age of the currency rate table by its asOfMs (+Inf without one); over BID_FX_MAX_AGE_MS only USD is bid',
      registers: [registry], collect() { this.set(fx.ageMs(Date.now()) / 1000); },
    });
    const metrics = {
      stateUnavailable: new Counter({ name: 'bid_state_unavailable_total', help: 'Requests decided with empty counters because Redis was slow or down, or the counter snapshot too old', registers: [registry] }),
      decisions: new Counter({ name: 'bid_decisions_total', help: 'Requests by result: bid, or the no-bid reason', labelNames: ['result'], registers: [registry] }),
    };
    const processor = bidProcessor({
      name: cfg.name, input: cfg.input, output: cfg.output, index, metrics,
      campaignCounters: (now) => snapshot.counters(now),
      fx: (now) => fx.usable(now), seats: cfg.seats,
      readFrequencies: (q, now) => frequencies.read(q, now),
      init: async () => {
        await follower.start();
        await follower.ready;
        const warm = await snapshot.start();
        log.info({ campaigns: index.size, counters: warm ? 'loaded' : 'unavailable' }, 'campaign catalogue loaded');
      },
    });
    return {
      ...processor,
      close: async () => {
        snapshot.stop();
        fx.stop();
        await follower.stop();
        redis.disconnect();
      },
    };
  },
});
