import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSinkConfig } from './config.js';

test('sink config has the documented defaults and names a bad variable', () => {
  const cfg = loadSinkConfig({});
  assert.deepEqual([cfg.input, cfg.group, cfg.maxBatch, cfg.httpPort, cfg.postgresUrl], ['window-counts', 'rtb-sink', 2000, 9104, 'postgres://rtb:rtb@127.0.0.1:5432/rtb']);
  assert.ok(Object.isFrozen(cfg));
  assert.throws(() => loadSinkConfig({ SINK_MAX_BATCH: '0' }), /SINK_MAX_BATCH="0" is invalid: must be >= 1/);
  assert.throws(() => loadSinkConfig({ SINK_GROUP: 'a b' }), /SINK_GROUP/);
  assert.throws(() => loadSinkConfig({ POSTGRES_URL: 'mysql://x' }), /POSTGRES_URL/);
});
