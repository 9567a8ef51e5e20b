/**
 * Kafka transport security against a real broker that requires SASL: a private KRaft broker with a
 * SASL_PLAINTEXT listener (throwaway-sasl-kafka.ts, from the stack's jars; the stack's own broker is
 * PLAINTEXT). The clients made from the configuration (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, the password
 * from a _FILE) authenticate with SCRAM-SHA-512 and PLAIN; without credentials, or with a wrong password,
 * they are refused; and the runner's clients in both delivery modes (KafkaJS-compatible consumer and
 * transactional producer; librdkafka's own consumer and delivery producer; the admin client) move records.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commonSpecs, loadConfig } from '../../schemas/config.js';
import { createLogger } from './logger.js';
import { createKafka, ensureTopics, type Kafka } from './kafka.js';
import { readTopic } from './read-topic.js';
import { spawnService } from '../testing/spawn-service.js';
import { startSaslKafka, type SaslKafka } from '../testing/throwaway-sasl-kafka.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor } from '../../schemas/topics.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import { waitFor } from '../testing/wait.js';

const log = createLogger('test', 'silent');
const dir = mkdtempSync(join(tmpdir(), 'kafka-sasl-'));
let broker: SaslKafka;
let passwordFile: string;
before(async () => {
  broker = await startSaslKafka();
  passwordFile = join(dir, 'kafka-password');
  writeFileSync(passwordFile, `${broker.password}\n`, { mode: 0o600 });
});
after(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function env(mechanism: string, password?: string): Record<string, string> {
  return {
    KAFKA_BROKERS: broker.brokers, KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: broker.user,
    ...(password === undefined ? { KAFKA_SASL_PASSWORD_FILE: passwordFile } : { KAFKA_SASL_PASSWORD: password }),
  };
}

function kafkaFor(vars: Record<string, string>): Kafka {
  const cfg = loadConfig(commonSpecs, vars);
  return createKafka({ brokers: cfg.kafkaBrokers, clientId: 'sasl-test', log, security: cfg });
}

/** Resolves with the error `p` rejects with, or 'resolved' / 'timed out'. */
async function outcome(p: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    p.then(() => 'resolved', (err: unknown) => `rejected: ${(err as Error).message}`),
    new Promise<string>((r) => setTimeout(() => r('timed out'), ms)),
  ]);
}

test('SCRAM-SHA-512 and PLAIN with the password from KAFKA_SASL_PASSWORD_FILE: admin, producer and consumer work', async () => {
  const topic = `sasl-${randomUUID().slice(0, 8)}`;
  for (const mechanism of ['SCRAM-SHA-512', 'PLAIN']) {
    const kafka = kafkaFor(env(mechanism));
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: mechanism, value: Buffer.from(`via ${mechanism}`) }] });
    await producer.disconnect();
  }
  const records = await readTopic(kafkaFor(env('SCRAM-SHA-512')), topic, { timeoutMs: 60_000 });
  assert.deepEqual(records.map((r) => r.value?.toString()).sort(), ['via PLAIN', 'via SCRAM-SHA-512']);
});

test('without credentials, or with a wrong password, the broker refuses the client', async () => {
  const wrong = kafkaFor(env('SCRAM-SHA-512', 'not-the-password')).producer();
  // librdkafka logs the SASL failure; the client's connect rejects (broker transport failure): never connected.
  assert.match(await outcome(wrong.connect(), 60_000), /^rejected: /);
  await wrong.disconnect().catch(() => undefined);
  // A PLAINTEXT client talking to the SASL listener never gets metadata.
  const plain = createKafka({ brokers: broker.brokers, clientId: 'sasl-test-plain', log }).producer({ 'socket.timeout.ms': 5000 } as never);
  assert.notEqual(await outcome(plain.connect(), 15_000), 'resolved');
  await plain.disconnect().catch(() => undefined);
});

for (const delivery of ['exactly-once', 'at-least-once'] as const) {
  test(`the runner (${delivery}) moves records through a SASL broker with its settings from the environment`, async () => {
    const run = randomUUID().slice(0, 8);
    const input = `sasl-in-${run}`;
    const output = `sasl-out-${run}`;
    const kafka = kafkaFor(env('SCRAM-SHA-512'));
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [input, output].map((t) => ({ topic: t, numPartitions: 2, replicationFactor: 1 })));
    await admin.disconnect();
    const codec = new AvroCodec(loadConfig(commonSpecs).schemaRegistryUrl);
    await codec.register(subjectFor(input), loadSchema('bid-request.avsc'));
    const ids = Array.from({ length: 20 }, (_, i) => `r-${i}-${run}`);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, messages: ids.map((id) => ({ key: id, value: codec.encode(subjectFor(input), request(id)) })) });
    await producer.disconnect();
    const svc = await spawnService('processors/passthrough/main.ts', 'PROCESSOR_HTTP_PORT', {
      ...env('PLAIN'), PASSTHROUGH_NAME: `sasl-${run}`, PASSTHROUGH_INPUT: input, PASSTHROUGH_OUTPUT: output,
      PASSTHROUGH_DELIVERY: delivery, PROCESSOR_INSTANCE_ID: 'a', TOPIC_PARTITIONS: '2',
    }, 90_000);
    try {
      const keys = await waitFor(async () => (await readTopic(kafka, output, { timeoutMs: 20_000 })).map((r) => r.key!.toString()), {
        until: (k) => k.length >= ids.length, atDeadline: 'last', what: 'every record on the output', timeoutMs: 90_000, intervalMs: 500,
      });
      assert.deepEqual([...new Set(keys)].sort(), [...ids].sort(), svc.output());
    } finally {
      await svc.stop();
    }
  });
}

function request(id: string): BidRequest {
  return {
    id, imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 100_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: null, app: null, device: null, user: { id: `u-${id.slice(0, 3)}`, buyeruid: null, segments: [], interests: [], ext: null },
    tmax: null, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null, receivedAtMs: Date.now(), ingestNodeId: 't', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'NOT_ATTEMPTED', profile: null,
  };
}
