/** Transport security settings turned into client options: Kafka (librdkafka properties), Redis (ioredis), Postgres. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonSpecs, loadConfig, postgresSpecs, redactConfig, redisSpecs, REDACTED } from '../../schemas/config.js';
import { isPipelineError } from '../../schemas/errors.js';
import { kafkaSecurityProperties } from './kafka.js';
import { redisOptions } from './redis.js';
import { postgresTls } from './postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'transport-security-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};
const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');
const cert = file('client.pem', 'cert');
const key = file('client.key', 'key');
const invalid = (pattern: RegExp) => (e: unknown) => isPipelineError(e, 'CONFIG_INVALID') && pattern.test(e.message);

test('Kafka: PLAINTEXT (the default, the local stack) adds no property', () => {
  assert.deepEqual(kafkaSecurityProperties(loadConfig(commonSpecs, {})), {});
  assert.deepEqual(kafkaSecurityProperties(undefined), {});
});

test('Kafka: SASL_SSL with SCRAM, a CA and a client certificate map to librdkafka properties; the password may come from a _FILE', () => {
  const cfg = loadConfig(commonSpecs, {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', KAFKA_SASL_USERNAME: 'rtb',
    KAFKA_SASL_PASSWORD_FILE: file('kafka-password', 's3cret\n'), KAFKA_SSL_CA_FILE: ca, KAFKA_SSL_CERT_FILE: cert, KAFKA_SSL_KEY_FILE: key,
  });
  assert.deepEqual(kafkaSecurityProperties(cfg), {
    'security.protocol': 'sasl_ssl', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'rtb', 'sasl.password': 's3cret',
    'ssl.ca.location': ca, 'ssl.certificate.location': cert, 'ssl.key.location': key, 'ssl.endpoint.identification.algorithm': 'https',
  });
  assert.equal(redactConfig(commonSpecs, cfg).kafkaSaslPassword, REDACTED, 'the password is never printed');
});

test('Kafka: SSL, SASL_PLAINTEXT with PLAIN, and hostname verification off', () => {
  assert.deepEqual(kafkaSecurityProperties(loadConfig(commonSpecs, { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: ca, KAFKA_SSL_VERIFY_HOSTNAME: 'false' })), {
    'security.protocol': 'ssl', 'ssl.ca.location': ca, 'ssl.endpoint.identification.algorithm': 'none',
  });
  assert.deepEqual(kafkaSecurityProperties(loadConfig(commonSpecs, { KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })), {
    'security.protocol': 'sasl_plaintext', 'sasl.mechanism': 'PLAIN', 'sasl.username': 'u', 'sasl.password': 'p',
  });
});

test('Kafka: settings that cannot work fail at start-up naming the variable', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_USERNAME: 'u' }, /needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/],
    [{ KAFKA_SSL_CA_FILE: ca }, /KAFKA_SSL_CA_FILE is set but KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS/],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SECURITY_PROTOCOL: 'SSL' }, /does not authenticate/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: cert }, /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together/],
    [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }, /KAFKA_SSL_CA_FILE=".*missing.pem" cannot be read \(ENOENT\)/],
  ];
  for (const [env, pattern] of bad) assert.throws(() => kafkaSecurityProperties(loadConfig(commonSpecs, env)), invalid(pattern), String(pattern));
  assert.throws(() => loadConfig(commonSpecs, { KAFKA_SECURITY_PROTOCOL: 'TLS' }), invalid(/KAFKA_SECURITY_PROTOCOL="TLS" is invalid: must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/));
  assert.throws(() => loadConfig(commonSpecs, { KAFKA_SASL_MECHANISM: 'GSSAPI' }), invalid(/must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/));
});

test('Redis: a password from REDIS_PASSWORD_FILE, TLS with a CA for rediss://; contradictions refused', () => {
  const cfg = loadConfig(redisSpecs, { REDIS_URL: 'rediss://redis.internal:6380', REDIS_PASSWORD_FILE: file('redis-password', 'pw\n'), REDIS_TLS_CA_FILE: ca });
  const o = redisOptions(cfg);
  assert.equal(o.password, 'pw');
  assert.ok(typeof o.tls === 'object' && Buffer.isBuffer(o.tls.ca), 'the CA file content');
  assert.deepEqual(redisOptions(loadConfig(redisSpecs, {})), {}, 'the local stack: plain, no password');
  assert.deepEqual(redisOptions(loadConfig(redisSpecs, { REDIS_URL: 'rediss://h:6380' })), { tls: {} }, 'rediss:// alone: TLS against the system store');
  assert.throws(() => redisOptions(loadConfig(redisSpecs, { REDIS_URL: 'redis://:a@h:6379', REDIS_PASSWORD: 'b' })), invalid(/REDIS_URL carries a password too/));
  assert.throws(() => redisOptions(loadConfig(redisSpecs, { REDIS_TLS_CA_FILE: ca })), invalid(/REDIS_URL is not rediss:\/\//));
  assert.throws(() => redisOptions(loadConfig(redisSpecs, { REDIS_USERNAME: 'u' })), invalid(/REDIS_USERNAME needs REDIS_PASSWORD/));
});

test('Postgres: POSTGRES_SSLMODE disable / require / verify-full (with a CA file)', () => {
  assert.deepEqual(postgresTls(loadConfig(postgresSpecs, {})), {});
  assert.deepEqual(postgresTls(loadConfig(postgresSpecs, { POSTGRES_SSLMODE: 'require' })), { ssl: 'require' });
  assert.deepEqual(postgresTls(loadConfig(postgresSpecs, { POSTGRES_SSLMODE: 'verify-full' })), { ssl: 'verify-full' });
  const withCa = postgresTls(loadConfig(postgresSpecs, { POSTGRES_SSLMODE: 'verify-full', POSTGRES_SSL_CA_FILE: ca }));
  assert.ok(typeof withCa.ssl === 'object' && Buffer.isBuffer(withCa.ssl.ca) && withCa.ssl.rejectUnauthorized === true);
  assert.throws(() => postgresTls(loadConfig(postgresSpecs, { POSTGRES_SSL_CA_FILE: ca })), invalid(/POSTGRES_SSLMODE=disable does not check certificates/));
  assert.throws(() => loadConfig(postgresSpecs, { POSTGRES_SSLMODE: 'prefer' }), invalid(/must be one of disable, require, verify-full/));
});

/** Non-test sources (test support included: it talks to the same servers). */
function sources(): Array<{ path: string; text: string }> {
  const root = new URL('../../', import.meta.url);
  const out: Array<{ path: string; text: string }> = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(new URL(rel, root), { withFileTypes: true })) {
      const p = `${rel}${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && !e.name.startsWith('.')) walk(`${p}/`);
      } else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
        out.push({ path: p, text: readFileSync(new URL(p, root), 'utf8') });
      }
    }
  };
  for (const dir of ['ingest/', 'processors/', 'sink/', 'deploy/', 'bench/', 'schemas/']) walk(dir);
  return out;
}

/** The text of each call starting at `pattern` up to its closing parenthesis. */
function calls(text: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(new RegExp(pattern.source, 'g'))) {
    let depth = 0;
    let i = m.index! + m[0].length - 1; // at the opening parenthesis
    const start = i;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) break;
    }
    out.push(text.slice(start, i + 1));
  }
  return out;
}

test('every Kafka, Redis and Postgres client the code makes gets the transport security settings', () => {
  const missing: string[] = [];
  for (const { path, text } of sources()) {
    for (const c of calls(text, /createKafka\(/)) if (!/security/.test(c) && !path.endsWith('kafka.ts')) missing.push(`${path}: createKafka${c.slice(0, 80)}`);
    for (const c of calls(text, /DeliveryProducer\.connect\(/)) if (!/security|kafkaSecurityProperties/.test(c)) missing.push(`${path}: DeliveryProducer.connect${c.slice(0, 80)}`);
    for (const c of calls(text, /new RdKafka\.(?:KafkaConsumer|Producer)\(/)) {
      // delivery-producer.ts spreads its caller's config, which carries them (checked above).
      if (!/security|kafkaSecurityProperties|\.\.\.opts\.config/.test(c)) missing.push(`${path}: new RdKafka client${c.slice(0, 80)}`);
    }
    for (const c of calls(text, /new KafkaJS\.Kafka\(/)) if (!/kafkaSecurityProperties/.test(c)) missing.push(`${path}: new KafkaJS.Kafka${c.slice(0, 80)}`);
    // Redis clients go through runtime/redis.ts (createRedis / connectRedis); the throw-away test server probes itself.
    if (/new Redis\(/.test(text) && !path.endsWith('runtime/redis.ts') && !path.endsWith('throwaway-redis.ts')) missing.push(`${path}: new Redis(...) instead of createRedis`);
    for (const c of calls(text, /(?<![\w.])postgres\(/)) if (!/postgresTls|\.\.\.tls/.test(c) && c !== '(ql)' && !path.endsWith('runtime/postgres.ts')) missing.push(`${path}: postgres${c.slice(0, 80)}`);
  }
  assert.deepEqual(missing, []);
});
