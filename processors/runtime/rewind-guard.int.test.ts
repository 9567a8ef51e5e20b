/**
 * The exactly-once runner against a consumer that falls back to the start of its input (what an offset
 * reset to earliest does; seen once after a broker kill -9 in a full chaos run, where the aggregate then
 * counted every earlier window twice): records below what this process committed are skipped, so every
 * input record still has exactly one output. Without the guard the seek below doubles the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createLogger } from './logger.js';
import { ensureTopics, type Consumer } from './kafka.js';
import { readTopic } from './read-topic.js';
import { Runner } from './runner.js';
import type { Processor } from './processor.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../../schemas/topics.js';
import { topicsFixture } from '../testing/topics.fixture.js';
import { waitFor } from '../testing/wait.js';

interface DeadLetter { processor: string; topic: string; partition: number; offset: number; errorCode: string; errorMessage: string; key: Buffer | null; value: Buffer | null; failedAtMs: number }

const { cfg, kafka, created } = topicsFixture('rewind-guard-test');
const PARTITIONS = 2;

test('runner (exactly-once): a consumer rewound to the start of its input does not process committed records again', async () => {
  const run = randomUUID().slice(0, 8);
  const input = `rw-in-${run}`;
  const output = `rw-out-${run}`;
  created.push(input, output);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [input, output, TOPICS.deadLetters].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })));
  await admin.disconnect();
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  for (const t of [input, output, TOPICS.deadLetters]) await codec.register(subjectFor(t), loadSchema('dead-letter.avsc'));
  const record = (i: number): DeadLetter => ({ processor: 'x', topic: 't', partition: 0, offset: i, errorCode: 'X', errorMessage: String(i), key: null, value: null, failedAtMs: 1 });
  const producer = kafka.producer({ 'linger.ms': 5 });
  await producer.connect();
  const send = (from: number, n: number) => producer.send({
    topic: input, messages: Array.from({ length: n }, (_, k) => ({ key: `k${from + k}`, value: codec.encode(subjectFor(input), record(from + k)), partition: (from + k) % PARTITIONS })),
  });

  const processor: Processor<DeadLetter> = { name: `rw-${run}`, input, outputs: [output], process: (r) => [{ topic: output, key: r.key, value: r.value }] };
  const registry = new Registry();
  let fatal: unknown = null;
  const runner = new Runner(processor, {
    kafka, codec, log: createLogger('test', 'silent'), registry, brokers: cfg.kafkaBrokers, instanceId: run, onFatal: (err) => void (fatal = err ?? 'fatal'),
  });
  const outputs = async (want: number) => {
    let out: Awaited<ReturnType<typeof readTopic>> = [];
    return waitFor(async () => (fatal === null ? (out = await readTopic(kafka, output, { timeoutMs: 10_000, idleMs: 1000, readCommitted: true })) : out), {
      until: (o) => fatal !== null || new Set(o.map((r) => r.key?.toString())).size >= want, atDeadline: 'last', what: `${want} records on the output`, timeoutMs: 60_000, intervalMs: 300,
    });
  };
  await runner.start();
  try {
    await send(0, 100);
    assert.equal((await outputs(100)).length, 100, 'the first 100 records, once each');

    // What an offset reset to earliest does to the live consumer: every partition back to offset 0.
    const consumer = (runner as unknown as { consumer: Consumer }).consumer;
    for (let p = 0; p < PARTITIONS; p++) consumer.seek({ topic: input, partition: p, offset: '0' });
    await send(100, 50);
    const out = await outputs(150);
    assert.equal(fatal, null);
    assert.equal(new Set(out.map((r) => r.key?.toString())).size, 150, 'every record processed');
    // The records after the seek are through; anything handed over again is behind us in every partition.
    assert.equal(out.length, 150, `each record once: ${out.length - 150} processed twice after the rewind`);
    const skipped = (await registry.getSingleMetric('processor_rewound_records_skipped_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    assert.equal(skipped, 100, 'the 100 committed records handed over again were skipped and counted');
  } finally {
    await runner.stop();
    await producer.disconnect();
  }
});
