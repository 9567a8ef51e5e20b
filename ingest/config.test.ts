import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSpecs, redisSpecs, redactConfig, envNamesOf, REDACTED, type Spec } from '../schemas/config.js';
import { campaignsSpecs } from '../processors/campaigns/config.js';
import { ingestSpecs, loadIngestConfig } from './config.js';

test('config of the ingest edge rejects a bad URL and a bad port by name', () => {
  assert.throws(() => loadIngestConfig({ SCHEMA_REGISTRY_URL: 'localhost:8081' }), /SCHEMA_REGISTRY_URL/);
  assert.throws(() => loadIngestConfig({ INGEST_PORT: '0' }), /INGEST_PORT/);
  assert.equal(loadIngestConfig({}).maxBodyBytes, 65536);
});

test('config dumps mask secrets, and every secret-typed variable is marked', () => {
  const { trackingSecret, trackingSecretPrevious, apiKey, postgresUrl, redisUrl } = { ...ingestSpecs, ...postgresSpecs, ...redisSpecs };
  for (const spec of [trackingSecret, trackingSecretPrevious, apiKey, postgresUrl, redisUrl, campaignsSpecs.operatorToken]) assert.equal((spec as Spec).secret, true, spec.env);
  const cfg = loadIngestConfig({ INGEST_TRACKING_SECRET: 'a-real-key-0123456789', INGEST_API_KEY: '' });
  const dump = redactConfig(ingestSpecs, cfg);
  assert.equal(dump.trackingSecret, REDACTED);
  assert.equal(dump.apiKey, '', 'an unset secret shows as unset');
  assert.equal(dump.port, 8080);
  assert.ok(!JSON.stringify(dump).includes('a-real-key'));
  assert.ok(envNamesOf(ingestSpecs).has('INGEST_TRACKING_SECRET_FILE'));
  assert.ok(!envNamesOf(ingestSpecs).has('INGEST_PORT_FILE'));
});
