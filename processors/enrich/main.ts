/** The enrich processor as a service: bid-requests -> bid-requests-enriched with Redis user profiles. */
import { runProcessorService } from '../runtime/service.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { enrichSpecs } from './config.js';
import { enrich } from './enrich.js';
import { ProfileStore } from './profile-store.js';

await runProcessorService({
  name: 'enrich',
  specs: enrichSpecs,
  // Overridden topics (tests, replays) carry the same schema as the defaults.
  schemaFor: (topic, cfg) => (topic === cfg.input || topic === cfg.output ? 'bid-request.avsc' : undefined),
  create: (cfg, log, registry) => {
    const profiles = new ProfileStore(cfg, { log });
    profiles.connect();
    const breaker = new CircuitBreaker({
      failureThreshold: cfg.breakerFailures,
      cooldownMs: cfg.breakerCooldownMs,
      timeoutMs: cfg.timeoutMs,
      onStateChange: (from, to) => {
        if (to === 'open' && from === 'closed') log.warn({ timeoutMs: cfg.timeoutMs }, 'profile lookups failing: circuit open, requests pass on UNAVAILABLE');
        if (to === 'closed') log.info('profile lookups answering again: circuit closed');
      },
    });
    return enrich({ name: cfg.name, input: cfg.input, output: cfg.output, profiles, breaker, registry });
  },
});
