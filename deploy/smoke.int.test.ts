/**
 * Smoke test through every real component of the local stack (npm run stack:up):
 * Kafka + schema registry (Avro in the Confluent wire format), PostgreSQL and Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { Redis } from 'ioredis';
import { loadConfig, commonSpecs, postgresSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { AvroCodec } from '../schemas/codec.js';
import { unframe } from '../schemas/wire-format.js';

const cfg = loadConfig({ ...commonSpecs, ...postgresSpecs, ...redisSpecs });
const log = createLogger('smoke-test', 'warn');

test('smoke: an Avro record round-trips through Kafka under the schema registry', async (t) => {
  const topic = `smoke-${randomUUID()}`;
  const subject = `${topic}-value`;
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'smoke-test', log });
  const admin = kafka.admin();
  await admin.connect();
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  assert.deepEqual(await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]), [topic]);
  assert.deepEqual(await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]), [], 'second call creates nothing');

  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const schema = {
    type: 'record',
    name: 'Smoke',
    namespace: 'rtb.test',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'priceMicros', type: 'long' },
      { name: 'tags', type: { type: 'array', items: 'string' } },
    ],
  };
  const id = await codec.register(subject, schema);
  assert.ok(Number.isInteger(id) && id > 0, `registry returned schema id ${id}`);
  assert.equal(await codec.register(subject, schema), id, 'registering the same schema again returns the same id');

  const value = { id: randomUUID(), priceMicros: 1_250_000, tags: ['a', 'b'] };
  const bytes = codec.encode(subject, value);
  assert.equal(bytes[0], 0, 'magic byte');
  assert.equal(unframe(bytes).schemaId, id, 'schema id in the header');

  const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
  await producer.connect();
  t.after(() => producer.disconnect());
  const [meta] = await producer.send({ topic, messages: [{ key: value.id, value: bytes }] });
  assert.equal(meta?.errorCode, 0);

  const consumer = kafka.consumer({ kafkaJS: { groupId: `smoke-${randomUUID()}`, fromBeginning: true } });
  await consumer.connect();
  t.after(() => consumer.disconnect());
  await consumer.subscribe({ topics: [topic] });
  const received = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no record consumed within 30 s')), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        clearTimeout(timer);
        resolve(message.value as Buffer);
      },
    });
  });
  // A fresh codec proves the reader fetches the writer schema by id from the registry.
  const decoded = await new AvroCodec(cfg.schemaRegistryUrl).decode<typeof value>(received);
  assert.deepEqual({ ...decoded }, value);
});

test('smoke: PostgreSQL writes and reads a row', async (t) => {
  const sql = postgres(cfg.postgresUrl, { max: 1, onnotice: () => undefined });
  t.after(() => sql.end());
  const table = `smoke_${randomUUID().replaceAll('-', '')}`;
  await sql`create temporary table ${sql(table)} (id text primary key, amount_micros bigint not null)`;
  await sql`insert into ${sql(table)} ${sql({ id: 'x', amount_micros: '9007199254740993' })}`;
  const rows = await sql`select id, amount_micros::text as amount from ${sql(table)}`;
  assert.deepEqual(rows.map((r) => ({ ...r })), [{ id: 'x', amount: '9007199254740993' }]);
});

test('smoke: Redis sets and gets a key', async (t) => {
  const redis = new Redis(cfg.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  t.after(() => redis.quit());
  const key = `smoke:${randomUUID()}`;
  assert.equal(await redis.set(key, 'v1', 'PX', 10_000), 'OK');
  assert.equal(await redis.get(key), 'v1');
  assert.ok((await redis.pttl(key)) > 0);
});
