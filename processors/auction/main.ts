/** The auction processor as a service: bids -> auction-outcomes, budgets reserved in Redis. */
import { Redis } from 'ioredis';
import { runProcessorService } from '../runtime/service.js';
import { auctionProcessor } from './auction-processor.js';
import { redisReserve } from './reserve.js';

import { auctionSpecs as specs } from './config.js';

await runProcessorService({
  name: 'auction',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input ? 'bid-set.avsc' : topic === cfg.output ? 'auction-outcome.avsc' : undefined),
  create: async (cfg, log) => {
    // Commands fail fast while Redis is down (no offline queue): the batch fails and is retried, nothing is sold unreserved.
    const redis = new Redis(cfg.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    redis.on('error', (err) => log.warn({ err }, 'Redis connection error'));
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', resolve);
      setTimeout(() => reject(new Error(`Redis at ${cfg.redisUrl} not ready within 10 s: start it (npm run stack:up) or set REDIS_URL`)), 10_000).unref();
    });
    return { ...auctionProcessor({ name: cfg.name, input: cfg.input, output: cfg.output, reserve: redisReserve(redis) }), close: async () => void (await redis.quit()) };
  },
});
