/**
 * Decodes a batch of window-counts records into parts. A record that cannot be applied (undecodable,
 * unknown schema id, or failing `invalidPart`) becomes the runner's dead letter (processors/runtime/
 * dead-letter.ts: origin, error code, original bytes, trace headers) and the rest of the batch carries on.
 * A registry outage is retryable and fails the whole attempt instead: those records are fine, just not
 * readable yet.
 */
import type { Logger } from '../processors/runtime/logger.js';
import type { Producer } from '../processors/runtime/kafka.js';
import { PipelineError, isPipelineError } from '../schemas/errors.js';
import { deadLetter } from '../processors/runtime/dead-letter.js';
import type { FlowMessage } from '../processors/runtime/flow-consumer.js';
import { toKafkaJsHeaders } from '../processors/runtime/trace-context.js';
import type { AvroCodec } from '../schemas/codec.js';
import type { WindowCount } from '../schemas/tracking-event.js';
import { TOPICS, subjectFor } from '../schemas/topics.js';
import { invalidPart, type PartAt } from './part-rows.js';

export interface DecodedBatch {
  parts: PartAt[];
  /** Error codes of the records dead-lettered (already sent). */
  dead: string[];
}

export async function decodeBatch(
  deps: { codec: AvroCodec; producer: Producer; log: Logger },
  topic: string,
  partition: number,
  records: readonly FlowMessage[],
): Promise<DecodedBatch> {
  const subject = subjectFor(topic);
  const parts: PartAt[] = [];
  const letters: Array<{ key: string | null; value: Buffer; headers?: ReturnType<typeof toKafkaJsHeaders> }> = [];
  const dead: string[] = [];
  for (const msg of records) {
    try {
      if (!msg.value) throw new PipelineError('DECODE_FAILED', 'record has no value');
      const part = await deps.codec.decode<WindowCount>(msg.value, subject);
      const why = invalidPart(part);
      if (why) throw new PipelineError('INVALID_RECORD', why);
      parts.push({ part, offset: BigInt(msg.offset), timestampMs: Number(msg.timestamp) });
    } catch (err) {
      if (isPipelineError(err) && err.retryable) throw err;
      const d = deadLetter(deps.log, 'sink', topic, partition, msg, err);
      dead.push(d.code);
      letters.push({ key: d.record.key, value: deps.codec.encode(subjectFor(d.record.topic), d.record.value), ...(d.headers ? { headers: toKafkaJsHeaders(d.headers) } : {}) });
    }
  }
  if (letters.length > 0) {
    try {
      await deps.producer.send({ topic: TOPICS.deadLetters, messages: letters });
    } catch (err) {
      throw new PipelineError('KAFKA_PRODUCE_FAILED', `dead letters not sent: ${(err as Error).message}`, { cause: err });
    }
  }
  return { parts, dead };
}
