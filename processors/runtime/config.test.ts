import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, commonSpecs } from './config.js';
import { isPipelineError } from './errors.js';
import { loadIngestConfig } from '../../ingest/config.js';

const specs = {
  port: { env: 'PORT', type: 'int', min: 1, max: 65535, default: 8080, doc: 'a port' },
  on: { env: 'ON', type: 'bool', default: false, doc: 'a switch' },
  mode: { env: 'MODE', type: 'enum', values: ['a', 'b'] as const, default: 'a', doc: 'a mode' },
  hosts: { env: 'HOSTS', type: 'list', default: ['x'], doc: 'hosts' },
  need: { env: 'NEED', type: 'string', doc: 'required thing' },
} as const;

test('config applies defaults and parses each type', () => {
  const c = loadConfig(specs, { NEED: 'n', ON: 'yes', HOSTS: 'a, b,,c' });
  assert.deepEqual({ ...c }, { port: 8080, on: true, mode: 'a', hosts: ['a', 'b', 'c'], need: 'n' });
  assert.ok(Object.isFrozen(c));
});

test('config fails naming the variable for each invalid value', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ NEED: 'n', PORT: 'eighty' }, /^PORT="eighty" is invalid: must be an integer/],
    [{ NEED: 'n', PORT: '70000' }, /^PORT="70000" is invalid: must be <= 65535/],
    [{ NEED: 'n', ON: 'maybe' }, /^ON="maybe" is invalid: must be true or false/],
    [{ NEED: 'n', MODE: 'c' }, /^MODE="c" is invalid: must be one of a, b/],
    [{}, /^NEED is required/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => loadConfig(specs, env), (e: unknown) => isPipelineError(e, 'CONFIG_INVALID') && message.test(e.message), String(message));
  }
});

test('config defaults match the local stack', () => {
  const c = loadConfig(commonSpecs, {});
  assert.equal(c.kafkaBrokers, '127.0.0.1:9092');
  assert.equal(c.schemaRegistryUrl, 'http://127.0.0.1:8081/apis/ccompat/v7');
  assert.equal(c.topicPartitions, 12);
});

test('config of the ingest edge rejects a bad URL and a bad port by name', () => {
  assert.throws(() => loadIngestConfig({ SCHEMA_REGISTRY_URL: 'localhost:8081' }), /SCHEMA_REGISTRY_URL/);
  assert.throws(() => loadIngestConfig({ INGEST_PORT: '0' }), /INGEST_PORT/);
  assert.equal(loadIngestConfig({}).maxBodyBytes, 65536);
});
