/**
 * The runner against the real stack, through the pass-through processor: exactly-once output while
 * instances are killed with SIGKILL and restarted, two instances sharing the partitions, and poison
 * records dead-lettered with their origin and original bytes without stopping the partition; in the
 * at-least-once mode, the same kills lose nothing and re-emit only what followed the last commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readTopic } from './read-topic.js';
import { waitDrained } from './group-lag.js';
import { spawnService, type ServiceProcess } from '../testing/spawn-service.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../../schemas/topics.js';
import { topicsFixture } from '../testing/topics.fixture.js';
import { frame } from '../../schemas/wire-format.js';
import type { BidRequest } from '../../schemas/bid-request.js';

const { cfg, kafka, admin, createTopics } = topicsFixture('runner-test');

function request(id: string): BidRequest {
  return {
    id, imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 100_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: null, app: null, device: null, user: { id: `u-${id.slice(0, 3)}`, buyeruid: null, segments: [], interests: [], ext: null },
    tmax: null, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null, receivedAtMs: Date.now(), ingestNodeId: 't', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'NOT_ATTEMPTED', profile: null,
  };
}

async function setup(n: number) {
  const input = `rt-in-${randomUUID()}`;
  const output = `rt-out-${randomUUID()}`;
  await createTopics([input, output], 4);
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(subjectFor(input), loadSchema('bid-request.avsc'));
  const producer = kafka.producer({ 'linger.ms': 5 });
  await producer.connect();
  const ids = Array.from({ length: n }, () => randomUUID());
  for (let i = 0; i < ids.length; i += 500) {
    await producer.send({ topic: input, messages: ids.slice(i, i + 500).map((id) => ({ key: id, value: codec.encode(subjectFor(input), request(id)) })) });
  }
  const poison = [Buffer.from('not avro at all'), Buffer.from([1, 0, 0, 0, 1, 2]), frame(987_654_321, Buffer.from([2, 3]))];
  await producer.send({ topic: input, messages: poison.map((value) => ({ key: 'poison', value, partition: 0 })) });
  await producer.disconnect();
  return { input, output, ids, poison };
}

function start(name: string, input: string, output: string, instance: string, delivery = 'exactly-once'): Promise<ServiceProcess> {
  return spawnService('processors/passthrough/main.ts', 'PROCESSOR_HTTP_PORT', {
    PASSTHROUGH_NAME: name, PASSTHROUGH_INPUT: input, PASSTHROUGH_OUTPUT: output, PROCESSOR_INSTANCE_ID: instance, PROCESSOR_MAX_BATCH: '200', PASSTHROUGH_DELIVERY: delivery,
  });
}

async function checkExactlyOnce(s: Awaited<ReturnType<typeof setup>>, name: string) {
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const out = await readTopic(kafka, s.output, { timeoutMs: 60_000 });
  const counts = new Map<string, number>();
  for (const r of out) {
    const id = (await codec.decode<BidRequest>(r.value as Buffer)).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const missing = s.ids.filter((id) => !counts.has(id));
  const duplicated = [...counts].filter(([, c]) => c > 1);
  assert.deepEqual({ missing: missing.length, duplicated: duplicated.length, total: out.length }, { missing: 0, duplicated: 0, total: s.ids.length });

  const dead = (await readTopic(kafka, TOPICS.deadLetters, { timeoutMs: 30_000 })).filter((r) => r.key?.toString() === name);
  const letters = await Promise.all(dead.map((r) => codec.decode<{ topic: string; partition: number; offset: number; errorCode: string; value: Buffer }>(r.value as Buffer)));
  assert.equal(letters.length, s.poison.length, 'each poison record dead-lettered once');
  const raw = await readTopic(kafka, s.input, { timeoutMs: 30_000 });
  for (const bytes of s.poison) {
    const l = letters.find((x) => Buffer.from(x.value).equals(bytes));
    assert.ok(l, `dead letter for ${bytes.toString('hex')}`);
    assert.equal(l.topic, s.input);
    assert.equal(l.partition, 0);
    const origin = raw.find((r) => r.partition === 0 && Number(r.offset) === l.offset);
    assert.ok(origin?.value?.equals(bytes), 'the dead letter names the offset the poison record has in the input');
    assert.equal(l.errorCode, 'DECODE_FAILED');
  }
}

test('runner: SIGKILL and restart mid-stream neither loses nor duplicates a record; poison is dead-lettered', async () => {
  const s = await setup(4000);
  const name = `rt-${randomUUID().slice(0, 8)}`;
  for (let round = 0; round < 3; round++) {
    const p = await start(name, s.input, s.output, 'a');
    await new Promise((r) => setTimeout(r, 700 + round * 300));
    const exit = await p.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
  }
  const last = await start(name, s.input, s.output, 'a');
  try {
    assert.ok(await waitDrained(await admin(), `rtb-${name}`, [s.input], 90_000), 'input fully consumed');
  } finally {
    await last.stop();
  }
  await checkExactlyOnce(s, name);
});

test('runner: two instances share the partitions; killing one moves its work without duplicates', async () => {
  const s = await setup(4000);
  const name = `rt-${randomUUID().slice(0, 8)}`;
  const a = await start(name, s.input, s.output, 'a');
  const b = await start(name, s.input, s.output, 'b');
  await new Promise((r) => setTimeout(r, 1000));
  await b.stop('SIGKILL');
  try {
    assert.ok(await waitDrained(await admin(), `rtb-${name}`, [s.input], 90_000), 'input fully consumed by the survivor');
  } finally {
    await a.stop();
  }
  await checkExactlyOnce(s, name);
});

test('runner (at-least-once): SIGKILL and restart mid-stream loses no record, keeps each key in order, dead-letters poison', async () => {
  const s = await setup(4000);
  const name = `rt-alo-${randomUUID().slice(0, 8)}`;
  for (let round = 0; round < 3; round++) {
    const p = await start(name, s.input, s.output, 'a', 'at-least-once');
    await new Promise((r) => setTimeout(r, 700 + round * 300));
    assert.equal((await p.stop('SIGKILL')).signal, 'SIGKILL');
  }
  const last = await start(name, s.input, s.output, 'a', 'at-least-once');
  try {
    assert.ok(await waitDrained(await admin(), `rtb-${name}`, [s.input], 90_000), 'input fully consumed');
  } finally {
    await last.stop();
  }
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const inputOrder = new Map<string, number>();
  for (const r of await readTopic(kafka, s.input, { timeoutMs: 60_000 })) if (r.key?.toString() !== 'poison') inputOrder.set(r.key!.toString(), Number(r.offset));
  const out = await readTopic(kafka, s.output, { timeoutMs: 60_000 });
  const counts = new Map<string, number>();
  const lastInputOffset = new Map<number, number>();
  let reorderedOutsideARetry = 0;
  for (const r of out) {
    const id = (await codec.decode<BidRequest>(r.value as Buffer)).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    // Within an output partition, input offsets only go back where a killed instance's tail is re-emitted.
    const at = inputOrder.get(id)!;
    if (at < (lastInputOffset.get(r.partition) ?? -1) && counts.get(id) === 1) reorderedOutsideARetry++;
    lastInputOffset.set(r.partition, at);
  }
  const missing = s.ids.filter((id) => !counts.has(id));
  const duplicates = [...counts.values()].reduce((n, c) => n + c - 1, 0);
  assert.equal(missing.length, 0, `${missing.length} of ${s.ids.length} records lost`);
  assert.equal(reorderedOutsideARetry, 0, 'a first copy never overtakes an earlier record of its partition');
  // Re-emitted: only what followed the last commit (100 ms) before each of the three kills.
  assert.ok(duplicates < s.ids.length / 2, `${duplicates} re-emitted of ${s.ids.length}`);
  const dead = (await readTopic(kafka, TOPICS.deadLetters, { timeoutMs: 30_000 })).filter((r) => r.key?.toString() === name);
  const letters = await Promise.all(dead.map((r) => codec.decode<{ value: Buffer; errorCode: string }>(r.value as Buffer)));
  for (const bytes of s.poison) assert.ok(letters.some((l) => Buffer.from(l.value).equals(bytes) && l.errorCode === 'DECODE_FAILED'), `dead letter for ${bytes.toString('hex')}`);
});
