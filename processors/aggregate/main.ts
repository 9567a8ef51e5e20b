/** The aggregate processor as a service: auction-outcomes + tracking-events + loss-notices -> window-counts. */
import { connectRedis } from '../runtime/redis.js';
import { Counter } from 'prom-client';
import { runProcessorService } from '../runtime/service.js';
import { aggregateSpecs as specs } from './config.js';
import { aggregateProcessor } from './aggregate.js';
import { redisFirstSeen } from './dedup.js';
import { PipelineError } from '../../schemas/errors.js';

const SCHEMAS: Record<'outcomes' | 'tracking' | 'losses' | 'output', string> = { outcomes: 'auction-outcome.avsc', tracking: 'tracking-event.avsc', losses: 'loss-notice.avsc', output: 'window-count.avsc' };

await runProcessorService({
  name: 'aggregate',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.outcomes ? SCHEMAS.outcomes : topic === cfg.tracking ? SCHEMAS.tracking : topic === cfg.losses ? SCHEMAS.losses : topic === cfg.output ? SCHEMAS.output : undefined),
  create: async (cfg, log, registry) => {
    if (cfg.outcomeDedupTtlMs <= cfg.latenessMs) {
      throw new PipelineError('CONFIG_INVALID', `AGGREGATE_OUTCOME_DEDUP_TTL_MS (${cfg.outcomeDedupTtlMs}) must exceed AGGREGATE_LATENESS_MS (${cfg.latenessMs}): a re-emitted outcome inside the lateness horizon would be counted twice`);
    }
    const redis = await connectRedis(cfg, log);
    const metrics = {
      late: new Counter({ name: 'aggregate_late_records_total', help: 'Records dropped because they reached Kafka later than the lateness horizon', labelNames: ['topic'], registers: [registry] }),
      duplicates: new Counter({ name: 'aggregate_duplicate_notices_total', help: 'Notices (tracking events and loss notices) whose event id was already counted', registers: [registry] }),
      duplicateOutcomes: new Counter({ name: 'aggregate_duplicate_outcomes_total', help: 'Auction outcomes whose request was already counted (re-emitted by an at-least-once auction)', registers: [registry] }),
    };
    const processor = aggregateProcessor({
      name: cfg.name, outcomesTopic: cfg.outcomes, trackingTopic: cfg.tracking, lossesTopic: cfg.losses, output: cfg.output, windowMs: cfg.windowMs, latenessMs: cfg.latenessMs,
      firstSeen: redisFirstSeen(redis, cfg.dedupTtlMs), outcomeDedupTtlMs: cfg.outcomeDedupTtlMs, log, metrics,
    });
    return { ...processor, close: async () => void (await redis.quit()) };
  },
});
