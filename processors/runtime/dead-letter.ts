/**
 * The dead letter of one input record, as the runner and the sink write it to `dead-letters`: keyed by the
 * stage's name, with where the record came from, the error's code and message, the original key and value
 * bytes unchanged and the attempts it took, and the input's trace headers (trace-context.ts), so the dead
 * letter of a request is found by its request id. One warning line names the record.
 */
import type { Logger } from './logger.js';
import { isPipelineError } from '../../schemas/errors.js';
import type { FlowMessage } from './flow-consumer.js';
import type { OutRecord } from './processor.js';
import { traceHeaders, traceLogFields, type RecordHeaders } from './trace-context.js';
import { TOPICS } from '../../schemas/topics.js';

export interface DeadLetter {
  /** The error code it is counted under (`*_dead_letters_total{code}`). */
  code: string;
  /** For the `dead-letters` topic; the value is a rtb.v1.DeadLetter, to encode with its subject. */
  record: OutRecord;
  /** The input record's trace headers, undefined when it had none. */
  headers: RecordHeaders | undefined;
}

/** `err` of the record from `topic`/`partition` (failed `attempts` times) as a dead letter of `stage`; logs it. */
export function deadLetter(log: Logger, stage: string, topic: string, partition: number, msg: FlowMessage, err: unknown, attempts = 1): DeadLetter {
  const code = isPipelineError(err) ? err.code : 'INVALID_RECORD';
  log.warn({ topic, partition, offset: msg.offset, ...traceLogFields(msg.headers), code, attempts, err }, attempts > 1 ? `record dead-lettered after ${attempts} failed attempts (poison)` : 'record dead-lettered');
  return {
    code,
    headers: traceHeaders(msg.headers),
    record: {
      topic: TOPICS.deadLetters,
      key: stage,
      value: {
        processor: stage, topic, partition, offset: Number(msg.offset), errorCode: code,
        errorMessage: err instanceof Error ? err.message : String(err), key: msg.key, value: msg.value, failedAtMs: Date.now(), attempts,
      },
    },
  };
}
