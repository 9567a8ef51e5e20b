/** The auction processor's configuration (validated at start by runProcessorService, with the runner's variables). */
import { redisSpecs, type Spec } from '../../schemas/config.js';

export const auctionSpecs = {
  ...redisSpecs,
  input: { env: 'AUCTION_INPUT', type: 'string', default: 'bids', doc: 'topic of bid sets' },
  output: { env: 'AUCTION_OUTPUT', type: 'string', default: 'auction-outcomes', doc: 'topic of auction outcomes' },
  name: { env: 'AUCTION_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'auction', doc: 'processor (and consumer group) name' },
} as const satisfies Record<string, Spec>;
