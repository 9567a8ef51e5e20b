/**
 * The floor under the runner, for bench/processors.ts: a plain consume -> produce loop on the same client
 * (@confluentinc/kafka-javascript, its KafkaJS-compatible API, as processors/runtime/runner.ts uses it) that
 * copies each record's key and value bytes unchanged to another topic: no decoding, no encoding, no
 * processor, no metrics. Committed the way the runner's non-transactional (at-least-once) mode commits:
 * a batch's offset is stored once every one of its records was acknowledged, and librdkafka commits the
 * stored offsets every `--commit-ms`. Consumer and producer settings are the runner's. Runs as its own
 * process until SIGTERM.
 *
 *   node --import tsx bench/lib/client-loop.ts --input <topic> --output <topic> --group <group> [--max-batch 500] [--concurrency 8] [--commit-ms 100]
 */
import { parseArgs } from 'node:util';
import { PipelineError } from '../../schemas/errors.js';
import { createKafka } from '../../processors/runtime/kafka.js';
import { createLogger } from '../../processors/runtime/logger.js';
import { numArg } from './options.js';
import { stackConfig } from './run-topics.js';

const { values: a } = parseArgs({
  strict: true,
  options: {
    input: { type: 'string' }, output: { type: 'string' }, group: { type: 'string' },
    'max-batch': { type: 'string', default: '500' }, concurrency: { type: 'string', default: '8' }, 'commit-ms': { type: 'string', default: '100' },
  },
});
if (!a.input || !a.output || !a.group) throw new PipelineError('CONFIG_INVALID', '--input, --output and --group are required');
const output = a.output;
const log = createLogger('client-loop', 'warn');
const kafka = createKafka({ brokers: stackConfig.kafkaBrokers, clientId: `bench-${a.group}`, log, security: stackConfig });
const producer = kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 1, 'compression.codec': 'lz4' });
const consumer = kafka.consumer({
  'group.id': a.group,
  'enable.auto.commit': true,
  'auto.commit.interval.ms': numArg('commit-ms', a['commit-ms'], 5, true),
  'auto.offset.reset': 'earliest',
  'isolation.level': 'read_uncommitted',
  'partition.assignment.strategy': 'cooperative-sticky',
  'js.consumer.max.batch.size': numArg('max-batch', a['max-batch'], 1, true),
  'session.timeout.ms': 10_000,
});
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: [a.input] });
void consumer.run({
  partitionsConsumedConcurrently: numArg('concurrency', a.concurrency, 1, true),
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset }) => {
    await producer.send({ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  },
});
const stop = (): void => void Promise.allSettled([consumer.disconnect(), producer.disconnect()]).finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
