/**
 * A dependency outage shorter than the retry budget must not stop the runner: every partition batch fails
 * at once (Redis went away under the auction, the aggregate, settle), each backs off and retries, and
 * processing resumes. Found by the chaos run (deploy/chaos.int.test.ts): the runner counted failures for
 * the whole process, so eight partition batches failing together spent PROCESSOR_MAX_RETRIES (10) in one
 * round and the auction exited 70 ms into a Redis restart. Failures now count per partition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { createLogger } from './logger.js';
import { ensureTopics } from './kafka.js';
import { readTopic } from './read-topic.js';
import { PipelineError } from '../../schemas/errors.js';
import { Runner } from './runner.js';
import type { Delivery, Processor } from './processor.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../../schemas/topics.js';
import { topicsFixture } from '../testing/topics.fixture.js';
import { waitFor } from '../testing/wait.js';

/** The dead-letter record (schemas/avro/dead-letter.avsc): a small, known schema to carry through. */
interface DeadLetter { processor: string; topic: string; partition: number; offset: number; errorCode: string; errorMessage: string; key: Buffer | null; value: Buffer | null; failedAtMs: number }

const { cfg, kafka, created } = topicsFixture('runner-retries-test');

const PARTITIONS = 8;

for (const delivery of ['at-least-once', 'exactly-once'] as const) {
  test(`runner (${delivery}): every partition failing at once for a moment is retried per partition, not fatal`, async () => {
    const run = randomUUID().slice(0, 8);
    const input = `rr-in-${run}`;
    const output = `rr-out-${run}`;
    created.push(input, output);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [input, output, TOPICS.deadLetters].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })));
    await admin.disconnect();
    const codec = new AvroCodec(cfg.schemaRegistryUrl);
    // Any schema does: the dead-letter record (a small, known one).
    for (const t of [input, output]) await codec.register(subjectFor(t), loadSchema('dead-letter.avsc'));
    await codec.register(subjectFor(TOPICS.deadLetters), loadSchema('dead-letter.avsc'));
    const record = (i: number): DeadLetter => ({ processor: 'x', topic: 't', partition: 0, offset: i, errorCode: 'X', errorMessage: String(i), key: null, value: null, failedAtMs: 1 });
    const producer = kafka.producer({ 'linger.ms': 5 });
    await producer.connect();
    await producer.send({ topic: input, messages: Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: codec.encode(subjectFor(input), record(i)), partition: i % PARTITIONS })) });
    await producer.disconnect();

    // "Redis" is down for 600 ms from the first batch: each partition fails at 0, ~0.1 and ~0.3 s and succeeds
    // at ~0.7 s, 3 failures in a row each, within maxRetries 4; all partitions together fail many more.
    let downUntil: number | null = null;
    let failures = 0;
    const processor: Processor<DeadLetter> = {
      name: `rr-${delivery === 'exactly-once' ? 'eo' : 'alo'}-${run}`, delivery: delivery as Delivery, input, outputs: [output],
      async prepare() {
        downUntil ??= Date.now() + 600;
        if (Date.now() < downUntil) {
          failures++;
          throw new PipelineError('DEPENDENCY_UNAVAILABLE', 'dependency down (test)');
        }
      },
      process: (r) => [{ topic: output, key: r.key, value: r.value }],
    };
    let fatal: unknown = null;
    const runner = new Runner(processor, {
      kafka, codec, log: createLogger('test', 'silent'), registry: new Registry(), brokers: cfg.kafkaBrokers, instanceId: run,
      maxRetries: 4, concurrency: PARTITIONS, onFatal: (err) => void (fatal = err ?? 'fatal'),
    });
    await runner.start();
    try {
      let out: Awaited<ReturnType<typeof readTopic>> = [];
      out = await waitFor(async () => (fatal === null ? (out = await readTopic(kafka, output, { timeoutMs: 10_000, idleMs: 1000, readCommitted: true })) : out), {
        until: (o) => fatal !== null || new Set(o.map((r) => r.key?.toString())).size === 400, atDeadline: 'last', what: '400 records on the output', timeoutMs: 60_000, intervalMs: 500,
      });
      assert.equal(fatal, null, `the runner gave up after ${failures} failed batches in all`);
      assert.ok(failures > 4, `the outage failed more batches (${failures}) than one partition may fail in a row, so a shared count would have been fatal`);
      assert.equal(new Set(out.map((r) => r.key?.toString())).size, 400, 'every record made it through once the dependency was back');
    } finally {
      // After a fatal error the failed batch never settles (the process would have exited): do not wait on it.
      await Promise.race([runner.stop(), new Promise((r) => setTimeout(r, 10_000))]);
    }
  });
}
