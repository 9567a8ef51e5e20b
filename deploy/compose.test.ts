/**
 * Docker cannot run on the development machine, so this keeps docker-compose.yml honest: every
 * component the code needs is a service, host ports and credentials match the config defaults,
 * and every variable a project service sets is one some config module reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { commonSpecs, postgresSpecs, redisSpecs, loadConfig, type Spec } from '../processors/runtime/config.js';
import { projectServices } from './services.js';

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, unknown>;
  command?: string[];
}
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const defaults = loadConfig({ ...commonSpecs, ...postgresSpecs, ...redisSpecs }, {});
const hostPorts = (s: Service | undefined): number[] => (s?.ports ?? []).map((p) => Number(String(p).split(':')[0]));

test('compose declares the infrastructure with host ports matching the config defaults', () => {
  const s = compose.services;
  for (const name of ['kafka', 'schema-registry', 'postgres', 'redis', 'prometheus', 'grafana']) {
    assert.ok(s[name], `service ${name} is missing`);
  }
  assert.match(String(s.kafka?.image), /^apache\/kafka:4\./, 'Kafka is the official 4.x image');
  assert.equal(s.kafka?.environment?.KAFKA_PROCESS_ROLES, 'broker,controller', 'Kafka runs KRaft');
  assert.match(String(s['schema-registry']?.image), /^confluentinc\/cp-schema-registry:/);
  assert.ok(hostPorts(s.kafka).includes(Number(defaults.kafkaBrokers.split(':')[1])), 'Kafka host port');
  assert.ok(hostPorts(s['schema-registry']).includes(Number(new URL(defaults.schemaRegistryUrl).port)), 'registry host port');
  const pg = new URL(defaults.postgresUrl);
  assert.ok(hostPorts(s.postgres).includes(Number(pg.port)), 'Postgres host port');
  assert.equal(s.postgres?.environment?.POSTGRES_USER, pg.username);
  assert.equal(s.postgres?.environment?.POSTGRES_PASSWORD, pg.password);
  assert.equal(s.postgres?.environment?.POSTGRES_DB, pg.pathname.slice(1));
  assert.ok(hostPorts(s.redis).includes(Number(new URL(defaults.redisUrl).port)), 'Redis host port');
});

test('compose runs every project service from the one Dockerfile with known variables', () => {
  for (const svc of projectServices) {
    const s = compose.services[svc.name];
    assert.ok(s, `project service ${svc.name} is missing from docker-compose.yml`);
    assert.equal(s.build, '.', `${svc.name} is built from the Dockerfile`);
    assert.deepEqual(s.command, ['node', `dist/${svc.entry.replace(/\.ts$/, '.js')}`], `${svc.name} entry point`);
    const known = new Set(Object.values(svc.specs as Record<string, Spec>).map((spec) => spec.env));
    for (const key of Object.keys(s.environment ?? {})) {
      assert.ok(known.has(key), `${svc.name} sets ${key}, which its config does not read`);
    }
    if (svc.httpPort !== undefined) {
      assert.equal(String(s.environment?.PROCESSOR_HTTP_PORT), String(svc.httpPort), `${svc.name} PROCESSOR_HTTP_PORT`);
      assert.ok(hostPorts(s).includes(svc.httpPort), `${svc.name} publishes ${svc.httpPort}`);
    }
    if (svc.port !== undefined) {
      const port = loadConfig(svc.specs, {})[svc.port as keyof typeof svc.specs];
      assert.ok(hostPorts(s).includes(Number(port)), `${svc.name} publishes its default port ${String(port)}`);
    }
  }
});
