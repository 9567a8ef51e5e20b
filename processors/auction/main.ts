/** The auction processor as a service: bids -> auction-outcomes, budgets reserved in Redis. */
import { connectRedis } from '../runtime/redis.js';
import { runProcessorService } from '../runtime/service.js';
import { auctionProcessor } from './auction-processor.js';
import { redisReserve } from './reserve.js';

import { auctionSpecs as specs } from './config.js';

await runProcessorService({
  name: 'auction',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input ? 'bid-set.avsc' : topic === cfg.output ? 'auction-outcome.avsc' : undefined),
  create: async (cfg, log) => {
    const redis = await connectRedis(cfg.redisUrl, log);
    return { ...auctionProcessor({ name: cfg.name, input: cfg.input, output: cfg.output, reserve: redisReserve(redis) }), close: async () => void (await redis.quit()) };
  },
});
