/**
 * Decodes a batch of window-counts records into parts. A record that cannot be applied (undecodable,
 * unknown schema id, or failing `invalidPart`) goes to the dead-letter topic with its origin, error code
 * and original bytes, like the runner does, and the rest of the batch carries on. A registry outage is
 * retryable and fails the whole attempt instead: those records are fine, just not readable yet.
 */
import type { Logger } from '../processors/runtime/logger.js';
import type { Producer } from '../processors/runtime/kafka.js';
import { PipelineError, isPipelineError } from '../schemas/errors.js';
import type { AvroCodec } from '../schemas/codec.js';
import type { WindowCount } from '../schemas/tracking-event.js';
import { TOPICS, subjectFor } from '../schemas/topics.js';
import { invalidPart, type PartAt } from './part-rows.js';

export interface RawRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
}

export interface DecodedBatch {
  parts: PartAt[];
  /** Error codes of the records dead-lettered (already sent). */
  dead: string[];
}

export async function decodeBatch(
  deps: { codec: AvroCodec; producer: Producer; log: Logger },
  topic: string,
  partition: number,
  records: readonly RawRecord[],
): Promise<DecodedBatch> {
  const subject = subjectFor(topic);
  const parts: PartAt[] = [];
  const letters: Array<{ key: string; value: Buffer }> = [];
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
      const code = isPipelineError(err) ? err.code : 'INVALID_RECORD';
      deps.log.warn({ topic, partition, offset: msg.offset, code, err }, 'record dead-lettered');
      dead.push(code);
      letters.push({
        key: 'sink',
        value: deps.codec.encode(subjectFor(TOPICS.deadLetters), {
          processor: 'sink', topic, partition, offset: Number(msg.offset), errorCode: code,
          errorMessage: err instanceof Error ? err.message : String(err), key: msg.key, value: msg.value, failedAtMs: Date.now(),
        }),
      });
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
