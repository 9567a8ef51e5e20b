/**
 * The floor under the runner (bench/processors.ts): a plain consume -> produce loop on the same client and settings as
 * processors/runtime/runner.ts, bytes copied unchanged, committed as its at-least-once mode does (a batch's offset stored once
 * all its records were acknowledged, committed every `--commit-ms`). Runs until SIGTERM.
 */
import { createKafka } from '../../processors/runtime/kafka.js';
import { createLogger } from '../../processors/runtime/logger.js';
import { cli, int, required } from './options.js';
import { stackConfig } from './run-topics.js';

const a = cli('bench/lib/client-loop.ts', {
  input: required('topic'), output: required('topic'), group: required('group'), maxBatch: int(1, '500'), concurrency: int(1, '8'), commitMs: int(5, '100'),
});
const kafka = createKafka({ brokers: stackConfig.kafkaBrokers, clientId: `bench-${a.group}`, log: createLogger('client-loop', 'warn'), security: stackConfig });
const producer = kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 1, 'compression.codec': 'lz4' });
const consumer = kafka.consumer({
  'group.id': a.group, 'enable.auto.commit': true, 'auto.commit.interval.ms': a.commitMs, 'auto.offset.reset': 'earliest', 'isolation.level': 'read_uncommitted',
  'partition.assignment.strategy': 'cooperative-sticky', 'js.consumer.max.batch.size': a.maxBatch, 'session.timeout.ms': 10_000,
});
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [a.input] });
void consumer.run({
  partitionsConsumedConcurrently: a.concurrency,
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset }) => {
    await producer.send({ topic: a.output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  },
});
const stop = (): void => void Promise.allSettled([consumer.disconnect(), producer.disconnect()]).finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
