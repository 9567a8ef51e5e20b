/** The settle processor as a service: tracking-events + loss-notices -> settled, charged or released reservations and performance counters in Redis, plus the periodic releaser. */
import { createRedis } from '../runtime/redis.js';
import { runProcessorService } from '../runtime/service.js';
import { maskUrlCredentials } from '../runtime/logger.js';
import { settleSpecs as specs } from './config.js';
import { createSettleMetrics } from './metrics.js';
import { PendingReservations } from './reservations.js';
import { startReleaser, type Releaser } from './releaser.js';
import { settleProcessor } from './settle-processor.js';

await runProcessorService({
  name: 'settle',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input ? 'tracking-event.avsc' : topic === cfg.lossInput ? 'loss-notice.avsc' : undefined),
  create: async (cfg, log, registry) => {
    // Commands fail fast while Redis is down (no offline queue): the batch fails and is retried.
    const redis = createRedis(cfg, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    redis.on('error', (err) => log.warn({ err }, 'Redis connection error'));
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      setTimeout(() => reject(new Error(`Redis at ${maskUrlCredentials(cfg.redisUrl)} not ready within 10 s: start it (npm run stack:up) or set REDIS_URL`)), 10_000).unref();
    });
    const metrics = createSettleMetrics(registry);
    const pending = new PendingReservations(redis, { indexKey: cfg.pendingIndexKey, log, dedupTtlMs: cfg.dedupTtlMs });
    let releaser: Releaser | null = null;
    return settleProcessor({
      name: cfg.name,
      input: cfg.input,
      lossInput: cfg.lossInput,
      settle: (refs) => pending.settle(refs),
      releaseLost: (refs) => pending.releaseLost(refs),
      countPerf: (refs) => pending.countPerf(refs),
      onResult: (result, event) => {
        metrics.reservations.inc({ result });
        if (result === 'invalid') log.warn({ requestId: event.requestId, campaignId: event.campaignId, impId: event.impId }, 'reservation key holds no known state: left alone');
      },
      onLoss: (result) => metrics.lossNotices.inc({ result }),
      onPerf: (result, event) => metrics.perfEvents.inc({ type: event.type === 'CLICK' ? 'clicks' : 'imps', result }),
      init: async () => {
        releaser = startReleaser({
          everyMs: cfg.releaseEveryMs, afterMs: cfg.releaseAfterMs, log, release: (cutoff) => pending.releaseBefore(cutoff),
          onRun: (counts) => {
            metrics.releaseRuns.inc({ outcome: counts ? 'ok' : 'error' });
            if (counts) {
              metrics.reservations.inc({ result: 'released' }, counts.released);
              metrics.reservations.inc({ result: 'invalid' }, counts.invalid);
            }
          },
        });
      },
      close: async () => {
        await releaser?.stop();
        await redis.quit();
      },
    });
  },
});
