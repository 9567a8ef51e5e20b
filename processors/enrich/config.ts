/** The enrich processor's configuration (environment variables, validated once at start-up by the service). */
import { redisSpecs, type Spec } from '../../schemas/config.js';

const topic = /^[A-Za-z0-9._-]{1,249}$/;

export const enrichSpecs = {
  ...redisSpecs,
  name: { env: 'ENRICH_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'enrich', doc: 'processor name: consumer group rtb-<name> (tests give each run its own)' },
  input: { env: 'ENRICH_INPUT', type: 'string', pattern: topic, default: 'bid-requests', doc: 'topic of bid requests to enrich' },
  output: { env: 'ENRICH_OUTPUT', type: 'string', pattern: topic, default: 'bid-requests-enriched', doc: 'topic of enriched bid requests' },
  timeoutMs: { env: 'ENRICH_TIMEOUT_MS', type: 'int', min: 1, max: 10_000, default: 20, doc: 'longest profile lookup per batch, ms, before the batch passes on un-enriched' },
  breakerFailures: { env: 'ENRICH_BREAKER_FAILURES', type: 'int', min: 1, max: 1000, default: 5, doc: 'consecutive failed lookups that open the circuit' },
  breakerCooldownMs: { env: 'ENRICH_BREAKER_COOLDOWN_MS', type: 'int', min: 0, max: 600_000, default: 2000, doc: 'ms the circuit stays open before one trial lookup' },
} as const satisfies Record<string, Spec>;
