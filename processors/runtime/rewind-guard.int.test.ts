/**
 * The exactly-once runner against a consumer that falls back to the start of its input (what an offset
 * reset to earliest does; seen once after a broker kill -9 in a full chaos run, where the aggregate then
 * counted every earlier window twice): records below what this process committed are skipped, so every
 * input record still has exactly one output. Without the guard the seek below doubles the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from './logger.js';
import type { Consumer } from './kafka.js';
import { Runner } from './runner.js';
import type { Processor } from './processor.js';
import { subjectFor } from '../../schemas/topics.js';
import { topicsFixture } from '../testing/topics.fixture.js';
import { deadLetterRecord, deadLetterRunnerTopics, type DeadLetter } from '../testing/dead-letter-runner.fixture.js';

const fx = topicsFixture('rewind-guard-test');
const { cfg, kafka } = fx;
const PARTITIONS = 2;

test('runner (exactly-once): a consumer rewound to the start of its input does not process committed records again', async () => {
  const { run, input, output, codec, producer, readOutput } = await deadLetterRunnerTopics(fx, 'rw', PARTITIONS);
  const send = (from: number, n: number) => producer.send({
    topic: input, messages: Array.from({ length: n }, (_, k) => ({ key: `k${from + k}`, value: codec.encode(subjectFor(input), deadLetterRecord(from + k)), partition: (from + k) % PARTITIONS })),
  });

  const processor: Processor<DeadLetter> = { name: `rw-${run}`, input, outputs: [output], process: (r) => [{ topic: output, key: r.key, value: r.value }] };
  const registry = new Registry();
  let fatal: unknown = null;
  const runner = new Runner(processor, {
    kafka, codec, log: createLogger('test', 'silent'), registry, brokers: cfg.kafkaBrokers, instanceId: run, onFatal: (err) => void (fatal = err ?? 'fatal'),
  });
  const outputs = (want: number) => readOutput(want, () => fatal !== null, 300);
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
