/**
 * The consumer's rebalance callback: every partition assignment carries the offsets stored in Postgres.
 *
 * @confluentinc/kafka-javascript (lib/kafkajs/_consumer.js, `userSpecifiedRebalanceCb`) awaits a user
 * `rebalance_cb` and, when it returns an array, assigns exactly that, offsets included, instead of the
 * partitions' committed offsets. But when the callback throws, the client logs the error and carries on
 * with its default: Kafka's committed offsets, which are not the truth here (a replay may have moved the
 * Postgres position back). So the callback is guarded: any failure logs fatal and exits non-zero, and
 * it never settles afterwards, so the client cannot reach its fallback before the process is gone.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Logger } from '../processors/runtime/logger.js';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** What the client assigns: `offset` must be a number (the client rejects strings other than keywords). */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

export type RebalanceCallback = (err: { code: number; message?: string }, assignment: TopicPartition[]) => Promise<TopicPartitionOffset[] | null>;

export interface RebalanceHandlers {
  /** Claims the partitions and returns each with its stored next offset. */
  onAssign(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]>;
  onRevoke(partitions: readonly TopicPartition[]): void;
  log: Logger;
  /** Default: process.exit. */
  exit?: (code: number) => void;
}

const ASSIGN = KafkaJS.ErrorCodes.ERR__ASSIGN_PARTITIONS;
const REVOKE = KafkaJS.ErrorCodes.ERR__REVOKE_PARTITIONS;
const key = (tp: TopicPartition): string => `${tp.topic}/${tp.partition}`;

/** Throws unless `given` assigns every partition of `asked` (and nothing else) at a valid offset. */
export function checkAssignment(asked: readonly TopicPartition[], given: readonly TopicPartitionOffset[]): void {
  const want = new Set(asked.map(key));
  const got = new Set(given.map(key));
  const missing = [...want].filter((k) => !got.has(k));
  const extra = [...got].filter((k) => !want.has(k));
  if (missing.length > 0 || extra.length > 0 || got.size !== given.length) {
    throw new Error(`assignment mismatch: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
  }
  const bad = given.find((tp) => !Number.isSafeInteger(tp.offset) || tp.offset < 0);
  if (bad) throw new Error(`invalid offset ${String(bad.offset)} for ${key(bad)}`);
}

export function guardedRebalanceCallback(h: RebalanceHandlers): RebalanceCallback {
  const exit = h.exit ?? ((code: number) => process.exit(code));
  return async (err, assignment) => {
    try {
      if (err.code === ASSIGN) {
        const withOffsets = await h.onAssign(assignment);
        checkAssignment(assignment, withOffsets);
        return withOffsets;
      }
      if (err.code === REVOKE) {
        h.onRevoke(assignment);
        return null; // the client's default unassign
      }
      throw new Error(`unexpected rebalance event ${err.code}: ${err.message ?? ''}`);
    } catch (e) {
      h.log.fatal({ err: e, partitions: assignment.map(key) }, 'partition assignment failed: exiting rather than consume from Kafka committed offsets');
      exit(1);
      return new Promise<never>(() => undefined);
    }
  };
}
