/** TableFollower against the real Kafka and registry, each test on its own compacted topic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { commonSpecs, loadConfig } from '../../schemas/config.js';
import { createLogger } from './logger.js';
import { createKafka, ensureTopics, type Kafka } from './kafka.js';
import { TableFollower } from './table-follower.js';
import { AvroCodec } from '../../schemas/codec.js';
import { waitFor } from '../testing/wait.js';

const cfg = loadConfig(commonSpecs);
const log = createLogger('table-follower-test', 'error');
const schema = { type: 'record', name: 'Item', namespace: 'rtb.test', fields: [{ name: 'name', type: 'string' }, { name: 'rev', type: 'long' }] };
interface Item { name: string; rev: number }

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const topic = `table-test-${randomUUID()}`;
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'table-follower-test', log });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(`${topic}-value`, schema);
  const producer = kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 0 });
  await producer.connect();
  t.after(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  const put = (key: string, item: Item | null) =>
    producer.send({ topic, messages: [{ key, value: item === null ? null : codec.encode(`${topic}-value`, item) }] });
  return { topic, kafka, codec, producer, put };
}

function follow(t: { after: (fn: () => Promise<void>) => void }, kafka: Kafka, codec: AvroCodec, topic: string, extra: Partial<ConstructorParameters<typeof TableFollower<Item>>[0]> = {}) {
  const events: string[] = [];
  const follower = new TableFollower<Item>({
    kafka, codec, topic, log,
    map: (v) => ({ name: (v as Item).name, rev: (v as Item).rev }),
    onUpsert: (k, v) => events.push(`upsert ${k} ${v.rev}`),
    onDelete: (k) => events.push(`delete ${k}`),
    ...extra,
  });
  t.after(() => follower.stop());
  return { follower, events };
}

test('table follower loads the existing topic before ready resolves, latest value per key, tombstones applied', async (t) => {
  const { topic, kafka, codec, put } = await setup(t);
  for (let i = 0; i < 30; i++) await put(`k${i}`, { name: `item ${i}`, rev: 1 });
  await put('k0', { name: 'item 0 again', rev: 2 });
  await put('k1', null);
  const { follower, events } = follow(t, kafka, codec, topic);
  await follower.start();
  await follower.ready;
  assert.equal(follower.isReady, true);
  assert.equal(follower.size, 29, '30 keys, one deleted');
  assert.deepEqual(follower.get('k0'), { name: 'item 0 again', rev: 2 });
  assert.equal(follower.get('k1'), undefined);
  assert.ok(events.includes('delete k1'), 'onDelete reported the tombstone');
  assert.equal(events.filter((e) => e.startsWith('upsert')).length, 31);
});

test('table follower keeps following after ready: upserts and deletes arrive without a restart, in order within each partition', async (t) => {
  const { topic, kafka, codec, put } = await setup(t);
  await put('a', { name: 'a', rev: 1 });
  const { follower, events } = follow(t, kafka, codec, topic);
  await follower.start();
  await follower.ready;
  // Only records written after ready: each one can reach the table only by following.
  // Records of different partitions interleave in any order, so the expectation is kept per partition
  // (taken from where the broker put each record): the follower promises offset order within a partition.
  const partitionOf = new Map<string, number>();
  const expected = new Map<number, string[]>();
  const write = async (key: string, item: Item | null) => {
    const [meta] = await put(key, item);
    partitionOf.set(key, meta!.partition);
    const list = expected.get(meta!.partition) ?? [];
    list.push(item === null ? `delete ${key}` : `upsert ${key} ${item.rev}`);
    expected.set(meta!.partition, list);
  };
  const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
  for (let rev = 2; rev <= 4; rev++) for (const k of keys) await write(k, { name: `${k}${rev}`, rev });
  await write('b', null);
  await waitFor(() => keys.every((k) => k === 'b' || follower.get(k)?.rev === 4) && follower.get('b') === undefined, { what: 'the records written after ready', timeoutMs: 15_000, intervalMs: 25 });
  await write('b', { name: 'b again', rev: 5 });
  await waitFor(() => follower.get('b')?.rev === 5, { what: 'the key written again after its tombstone', timeoutMs: 15_000, intervalMs: 25 });

  for (const k of keys) assert.deepEqual(follower.get(k), k === 'b' ? { name: 'b again', rev: 5 } : { name: `${k}4`, rev: 4 }, `latest value of ${k}`);
  assert.equal(events[0], 'upsert a 1', 'the record loaded before ready comes first');
  const after = events.slice(1);
  for (const [partition, want] of expected) {
    const got = after.filter((e) => partitionOf.get(e.split(' ')[1]!) === partition);
    assert.deepEqual(got, want, `events of partition ${partition}, in offset order, each once`);
  }
  assert.equal(after.length, [...expected.values()].reduce((n, l) => n + l.length, 0), 'nothing but the records written');
});

test('table follower on an empty topic is ready at once', async (t) => {
  const { topic, kafka, codec } = await setup(t);
  const { follower } = follow(t, kafka, codec, topic);
  await follower.start();
  await follower.ready;
  assert.equal(follower.size, 0);
});

test('table follower lets accept keep a newer value over a late older one', async (t) => {
  const { topic, kafka, codec, put } = await setup(t);
  await put('x', { name: 'new', rev: 5 });
  await put('x', { name: 'stale', rev: 3 });
  const { follower, events } = follow(t, kafka, codec, topic, { accept: (incoming, current) => current === undefined || incoming.rev >= current.rev });
  await follower.start();
  await follower.ready;
  assert.deepEqual(follower.get('x'), { name: 'new', rev: 5 });
  assert.deepEqual(events, ['upsert x 5']);
});

test('table follower skips undecodable records (one warning per partition), never shows aborted transactions, still becomes ready', async (t) => {
  const { topic, kafka, codec, producer, put } = await setup(t);
  // Three bad records under one key: one partition. Only the first is a warning; the catch-up line counts them all.
  for (let i = 0; i < 3; i++) await producer.send({ topic, messages: [{ key: 'junk', value: Buffer.from(`not avro at all ${i}`) }] });
  const tx = kafka.producer({ 'transactional.id': `table-test-${randomUUID()}`, 'enable.idempotence': true, acks: -1 });
  await tx.connect();
  t.after(() => tx.disconnect());
  const aborted = await tx.transaction();
  await aborted.send({ topic, messages: [{ key: 'ghost', value: codec.encode(`${topic}-value`, { name: 'ghost', rev: 1 }) }] });
  await aborted.abort();
  const committed = await tx.transaction();
  await committed.send({ topic, messages: [{ key: 'real', value: codec.encode(`${topic}-value`, { name: 'real', rev: 1 }) }] });
  await committed.commit();
  await put('plain', { name: 'plain', rev: 1 });
  // The last record of each touched partition may be a transaction marker, which is never delivered.
  const lines: Array<{ level: string; msg: string; skipped?: number }> = [];
  const captured = createLogger('table-follower-test', 'debug', { write: (l: string) => void lines.push(JSON.parse(l)) });
  const { follower } = follow(t, kafka, codec, topic, { idleMs: 1000, log: captured });
  await follower.start();
  await follower.ready;
  assert.deepEqual(follower.get('real'), { name: 'real', rev: 1 });
  assert.deepEqual(follower.get('plain'), { name: 'plain', rev: 1 });
  assert.equal(follower.get('ghost'), undefined, 'aborted record not applied');
  assert.equal(follower.get('junk'), undefined);
  assert.equal(follower.skipped, 3, 'every undecodable record was counted');
  const skipped = lines.filter((l) => l.msg.startsWith('undecodable record skipped'));
  assert.deepEqual(skipped.map((l) => l.level), ['warn', 'debug', 'debug'], 'the first on the partition warns, the others are debug lines');
  const caught = lines.find((l) => l.msg.startsWith('table follower caught up'));
  assert.deepEqual([caught?.level, caught?.skipped], ['warn', 3]);
});

test('table follower rejects ready when stopped before catching up', async (t) => {
  const { topic, kafka, codec, put } = await setup(t);
  await put('a', { name: 'a', rev: 1 });
  const { follower } = follow(t, kafka, codec, topic);
  await follower.start();
  await follower.stop();
  // Either it already caught up (fast machine) or ready rejects; it must not hang.
  const outcome = await follower.ready.then(() => 'ready', (err: Error) => err.message);
  assert.ok(outcome === 'ready' || /stopped before it caught up/.test(outcome), outcome);
});

test('table follower started before its topic exists waits for it, then loads and follows it', async (t) => {
  const topic = `table-test-${randomUUID()}`;
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'table-follower-test', log });
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const { follower } = follow(t, kafka, codec, topic);
  const started = follower.start();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(follower.isReady, false, 'not ready without a topic');
  const admin = kafka.admin();
  await admin.connect();
  t.after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });
  await ensureTopics(admin, [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
  await codec.register(`${topic}-value`, schema);
  await started;
  await follower.ready;
  const producer = kafka.producer({ 'enable.idempotence': true, acks: -1 });
  await producer.connect();
  t.after(() => producer.disconnect());
  await producer.send({ topic, messages: [{ key: 'late', value: codec.encode(`${topic}-value`, { name: 'late', rev: 1 }) }] });
  await waitFor(() => follower.get('late') !== undefined, { what: 'the first record', timeoutMs: 15_000, intervalMs: 25 });
});
