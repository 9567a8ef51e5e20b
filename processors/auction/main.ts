/** The auction processor as a service: bids -> auction-outcomes, budgets reserved in Redis. */
import { Counter } from 'prom-client';
import { connectRedis } from '../runtime/redis.js';
import { runProcessorService } from '../runtime/service.js';
import { auctionProcessor, type Reserve } from './auction-processor.js';
import type { AuthorizeStatus } from './auction.js';
import { redisReserve } from './reserve.js';

import { auctionSpecs as specs } from './config.js';

await runProcessorService({
  name: 'auction',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input ? 'bid-set.avsc' : topic === cfg.output ? 'auction-outcome.avsc' : undefined),
  create: async (cfg, log, registry) => {
    const redis = await connectRedis(cfg, log);
    const reservations = new Counter({
      name: 'auction_reservations_total', labelNames: ['result'], registers: [registry],
      help: 'Budget reservation attempts by the authorize script\'s answer: ok, daily_budget, lifetime_budget, frequency_cap (a batch re-processed after a crash counts again)',
    });
    // Every result exported from the start (at 0), so the first refusal is a visible increase.
    for (const result of ['ok', 'daily_budget', 'lifetime_budget', 'frequency_cap'] satisfies AuthorizeStatus[]) reservations.inc({ result }, 0);
    const viaRedis = redisReserve(redis);
    const reserve: Reserve = async (...args) => {
      const status = await viaRedis(...args);
      reservations.inc({ result: status });
      return status;
    };
    return { ...auctionProcessor({ name: cfg.name, input: cfg.input, output: cfg.output, reserve }), close: async () => void (await redis.quit()) };
  },
});
