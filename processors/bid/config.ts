/** The bid processor's configuration (validated at start by runProcessorService, with the runner's variables). */
import { redisSpecs, type Spec } from '../../schemas/config.js';

export const bidSpecs = {
  ...redisSpecs,
  input: { env: 'BID_INPUT', type: 'string', default: 'bid-requests-enriched', doc: 'topic of enriched bid requests' },
  output: { env: 'BID_OUTPUT', type: 'string', default: 'bids', doc: 'topic of bid sets' },
  campaignsTopic: { env: 'BID_CAMPAIGNS_TOPIC', type: 'string', default: 'campaigns', doc: 'compacted topic of campaigns to follow' },
  name: { env: 'BID_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'bid', doc: 'processor (and consumer group) name' },
  stateTimeoutMs: { env: 'BID_STATE_TIMEOUT_MS', type: 'int', min: 1, max: 10_000, default: 25, doc: "longest wait for a batch's frequency-count read from Redis" },
  countersRefreshMs: {
    env: 'BID_COUNTERS_REFRESH_MS', type: 'int', min: 10, max: 60_000, default: 250,
    doc: 'how often campaign counters (spend, delivery stats) are re-read from Redis in the background; a snapshot older than 10x this is not used',
  },
  fxRatesFile: { env: 'BID_FX_RATES_FILE', type: 'string', default: '', doc: 'JSON currency rate table {"base":"USD","asOfMs":...,"rates":{"EUR":"0.92"}} (units per USD, decimal strings); none = USD only' },
  fxRatesUrl: { env: 'BID_FX_RATES_URL', type: 'string', default: '', doc: 'URL of the same rate document (wins over BID_FX_RATES_FILE)' },
  fxRefreshMs: { env: 'BID_FX_REFRESH_MS', type: 'int', min: 1_000, max: 86_400_000, default: 300_000, doc: 'how often the rate table is re-read; a failed read keeps the last good table' },
  fxMaxAgeMs: {
    env: 'BID_FX_MAX_AGE_MS', type: 'int', min: 60_000, max: 30 * 86_400_000, default: 3 * 86_400_000,
    doc: "rates older than this (by the document's asOfMs) are not used: only USD is bid until fresh ones load",
  },
  seats: { env: 'BID_SEATS', type: 'list', default: [], doc: "our seat ids at the exchanges, accepted in a deal's wseat (besides each campaign's advertiser id)" },
} as const satisfies Record<string, Spec>;
