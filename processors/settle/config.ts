/** The settle processor's configuration (validated at start by runProcessorService, with the runner's variables). */
import { redisSpecs, type Spec } from '../../schemas/config.js';
import { PENDING_CAMPAIGNS_KEY } from '../domain/redis-keys.js';
import { DEFAULT_DEDUP_TTL_MS } from './reservations.js';

export const settleSpecs = {
  ...redisSpecs,
  input: { env: 'SETTLE_INPUT', type: 'string', pattern: /^[A-Za-z0-9._-]{1,249}$/, default: 'tracking-events', doc: 'topic of tracking events' },
  lossInput: { env: 'SETTLE_LOSS_INPUT', type: 'string', pattern: /^[A-Za-z0-9._-]{1,249}$/, default: 'loss-notices', doc: 'topic of loss notices (lurl): their reservations are released at once' },
  dedupTtlMs: {
    env: 'SETTLE_DEDUP_TTL_MS', type: 'int', min: 3_600_000, max: 90 * 86_400_000, default: DEFAULT_DEDUP_TTL_MS,
    doc: 'how long a settled or charged reservation state and a counted impression/click event id are remembered, so a repeated notice is not counted again; keep it above INGEST_NOTICE_TOKEN_TTL_MS (7 days)',
  },
  name: { env: 'SETTLE_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'settle', doc: 'processor (and consumer group) name' },
  releaseAfterMs: { env: 'SETTLE_RELEASE_AFTER_MS', type: 'int', min: 100, max: 7 * 86_400_000, default: 300_000, doc: 'a reservation with no WIN/BILLING notice after this long is released' },
  releaseEveryMs: { env: 'SETTLE_RELEASE_EVERY_MS', type: 'int', min: 50, max: 3_600_000, default: 10_000, doc: 'interval between release runs' },
  pendingIndexKey: {
    env: 'SETTLE_PENDING_INDEX', type: 'string', pattern: /^[^\s{}]+$/, default: PENDING_CAMPAIGNS_KEY,
    doc: 'Redis set of campaigns with pending reservations; must be the one the auction writes (change only to isolate a test)',
  },
} as const satisfies Record<string, Spec>;
