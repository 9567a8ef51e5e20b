/**
 * A dependency outage shorter than the retry budget must not stop the runner: every partition batch fails
 * at once (Redis went away under the auction, the aggregate, settle), each backs off and retries, and
 * processing resumes. Found by the chaos run (deploy/chaos.int.test.ts): the runner counted failures for
 * the whole process, so eight partition batches failing together spent PROCESSOR_MAX_RETRIES (10) in one
 * round and the auction exited 70 ms into a Redis restart. Failures now count per partition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createLogger } from './logger.js';
import { PipelineError } from '../../schemas/errors.js';
import { Runner } from './runner.js';
import type { Delivery, Processor } from './processor.js';
import { subjectFor } from '../../schemas/topics.js';
import { topicsFixture } from '../testing/topics.fixture.js';
import { deadLetterRecord, deadLetterRunnerTopics, type DeadLetter } from '../testing/dead-letter-runner.fixture.js';

const fx = topicsFixture('runner-retries-test');
const { cfg, kafka } = fx;

const PARTITIONS = 8;

for (const delivery of ['at-least-once', 'exactly-once'] as const) {
  test(`runner (${delivery}): every partition failing at once for a moment is retried per partition, not fatal`, async () => {
    // Any schema does: the dead-letter record (a small, known one).
    const { run, input, output, codec, producer, readOutput } = await deadLetterRunnerTopics(fx, 'rr', PARTITIONS);
    await producer.send({ topic: input, messages: Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, value: codec.encode(subjectFor(input), deadLetterRecord(i)), partition: i % PARTITIONS })) });
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
      const out = await readOutput(400, () => fatal !== null, 500);
      assert.equal(fatal, null, `the runner gave up after ${failures} failed batches in all`);
      assert.ok(failures > 4, `the outage failed more batches (${failures}) than one partition may fail in a row, so a shared count would have been fatal`);
      assert.equal(new Set(out.map((r) => r.key?.toString())).size, 400, 'every record made it through once the dependency was back');
    } finally {
      // After a fatal error the failed batch never settles (the process would have exited): do not wait on it.
      await Promise.race([runner.stop(), new Promise((r) => setTimeout(r, 10_000))]);
    }
  });
}
