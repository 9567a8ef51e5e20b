/** The auction processor as a service: bids -> auction-outcomes, budgets reserved in Redis. */
import { Redis } from 'ioredis';
import { runProcessorService } from '../runtime/service.js';
import { redisSpecs, type Spec } from '../runtime/config.js';
import { auctionProcessor } from './auction-processor.js';
import { redisReserve } from './reserve.js';

const specs = {
  ...redisSpecs,
  input: { env: 'AUCTION_INPUT', type: 'string', default: 'bids', doc: 'topic of bid sets' },
  output: { env: 'AUCTION_OUTPUT', type: 'string', default: 'auction-outcomes', doc: 'topic of auction outcomes' },
  name: { env: 'AUCTION_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'auction', doc: 'processor (and consumer group) name' },
} as const satisfies Record<string, Spec>;

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
