/**
 * Test support for tests that drive the Runner in-process: input and output topics of the run's own that carry
 * the dead-letter record (schemas/avro/dead-letter.avsc, a small, known schema), with a codec, a producer
 * and a wait for the output. Not used by production code.
 */
import { randomUUID } from 'node:crypto';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../../schemas/topics.js';
import { readTopic, type RawRecord } from '../runtime/read-topic.js';
import type { TopicsFixture } from './topics.fixture.js';
import { waitFor } from './wait.js';

/** The dead-letter record (schemas/avro/dead-letter.avsc). */
export interface DeadLetter { processor: string; topic: string; partition: number; offset: number; errorCode: string; errorMessage: string; key: Buffer | null; value: Buffer | null; failedAtMs: number }

/** Record number `i` (its offset and message). */
export const deadLetterRecord = (i: number): DeadLetter => ({ processor: 'x', topic: 't', partition: 0, offset: i, errorCode: 'X', errorMessage: String(i), key: null, value: null, failedAtMs: 1 });

/**
 * `<prefix>-in-<run>` and `<prefix>-out-<run>` with `partitions` partitions (deleted after the file's tests) and
 * the shared dead-letter topic, each subject with the dead-letter schema; a codec and a connected producer
 * (linger.ms 5; the caller disconnects it).
 */
export async function deadLetterRunnerTopics(fx: TopicsFixture, prefix: string, partitions: number) {
  const run = randomUUID().slice(0, 8);
  const input = `${prefix}-in-${run}`;
  const output = `${prefix}-out-${run}`;
  await fx.createTopics([input, output], partitions, [TOPICS.deadLetters]);
  const codec = new AvroCodec(fx.cfg.schemaRegistryUrl);
  for (const t of [input, output, TOPICS.deadLetters]) await codec.register(subjectFor(t), loadSchema('dead-letter.avsc'));
  const producer = fx.kafka.producer({ 'linger.ms': 5 });
  await producer.connect();
  /**
   * The output, read read_committed, once it holds `want` distinct keys, or as last read when `stop()`
   * says so (e.g. the runner failed) or after 60 s: the caller's assertions say what is missing.
   */
  const readOutput = async (want: number, stop: () => boolean, intervalMs: number): Promise<RawRecord[]> => {
    let out: RawRecord[] = [];
    return waitFor(async () => (stop() ? out : (out = await readTopic(fx.kafka, output, { timeoutMs: 10_000, idleMs: 1000, readCommitted: true }))), {
      until: (o) => stop() || new Set(o.map((r) => r.key?.toString())).size >= want, atDeadline: 'last', what: `${want} records on ${output}`, timeoutMs: 60_000, intervalMs,
    });
  };
  return { run, input, output, codec, producer, readOutput };
}
