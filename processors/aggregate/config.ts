/** The aggregate processor's configuration (validated at start with the runner's variables). */
import { redisSpecs, type Spec } from '../../schemas/config.js';

export const aggregateSpecs = {
  ...redisSpecs,
  name: { env: 'AGGREGATE_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'aggregate', doc: 'processor (and consumer group) name' },
  outcomes: { env: 'AGGREGATE_OUTCOMES', type: 'string', default: 'auction-outcomes', doc: 'topic of auction outcomes' },
  tracking: { env: 'AGGREGATE_TRACKING', type: 'string', default: 'tracking-events', doc: 'topic of tracking notices' },
  losses: { env: 'AGGREGATE_LOSSES', type: 'string', default: 'loss-notices', doc: 'topic of loss notices (lurl)' },
  output: { env: 'AGGREGATE_OUTPUT', type: 'string', default: 'window-counts', doc: 'topic of partial window sums' },
  windowMs: { env: 'AGGREGATE_WINDOW_MS', type: 'int', min: 1000, max: 86_400_000, default: 60_000, doc: 'tumbling window width' },
  latenessMs: { env: 'AGGREGATE_LATENESS_MS', type: 'int', min: 0, max: 30 * 86_400_000, default: 3_600_000, doc: 'records reaching Kafka later than this after their event time are dropped (counted)' },
  outcomeDedupTtlMs: { env: 'AGGREGATE_OUTCOME_DEDUP_TTL_MS', type: 'int', min: 60_000, max: 30 * 86_400_000, default: 2 * 3_600_000, doc: "how long an auction outcome's request id is remembered to drop re-emitted outcomes; must exceed AGGREGATE_LATENESS_MS (a copy arriving later is dropped as late anyway) and covers the replay horizon" },
  dedupTtlMs: { env: 'AGGREGATE_DEDUP_TTL_MS', type: 'int', min: 60_000, max: 90 * 86_400_000, default: 7 * 86_400_000, doc: 'how long an event id of a tracking or loss notice is remembered (must cover the replay horizon)' },
} as const satisfies Record<string, Spec>;
