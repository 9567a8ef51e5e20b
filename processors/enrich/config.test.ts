import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../schemas/config.js';
import { enrichSpecs } from './config.js';

test('enrich config has the documented defaults', () => {
  assert.deepEqual({ ...loadConfig(enrichSpecs, {}) }, {
    redisUrl: 'redis://127.0.0.1:6379', redisPassword: '', redisUsername: '', redisTlsCaFile: '', name: 'enrich', input: 'bid-requests', output: 'bid-requests-enriched',
    timeoutMs: 20, breakerFailures: 5, breakerCooldownMs: 2000,
  });
});

test('enrich config rejects a bad value naming the variable', () => {
  assert.throws(() => loadConfig(enrichSpecs, { ENRICH_TIMEOUT_MS: '0' }), /ENRICH_TIMEOUT_MS="0" is invalid: must be >= 1/);
  assert.throws(() => loadConfig(enrichSpecs, { ENRICH_BREAKER_FAILURES: 'five' }), /ENRICH_BREAKER_FAILURES="five" is invalid/);
  assert.throws(() => loadConfig(enrichSpecs, { ENRICH_OUTPUT: 'a topic' }), /ENRICH_OUTPUT/);
  assert.throws(() => loadConfig(enrichSpecs, { REDIS_URL: 'localhost:6379' }), /REDIS_URL/);
});
