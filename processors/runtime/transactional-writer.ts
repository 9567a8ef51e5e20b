/**
 * The exactly-once mode's writer: one Kafka transaction per group commit (outputs, then the input
 * offsets through the consumer, then commit), and what to do when the broker misbehaves, as the client
 * documents it (librdkafka's transactional API; KIP-890; the 2024 Jepsen analysis of Kafka transactions):
 *  - a commit or abort that fails with a retriable error (e.g. timed out while the broker is away) is
 *    called again to resume, until it succeeds or `resumeForMs` has passed;
 *  - any other commit failure aborts the transaction;
 *  - a fatal error, an abort that cannot complete, or a producer stuck in a transaction is not patched
 *    up: the producer is disconnected and a new one with the same transactional.id takes its place
 *    (its initialisation fences the old epoch and aborts whatever it left open).
 * Every failure is rethrown, so the batches in the transaction are re-read: nothing is half written.
 */
import type { Consumer, Kafka, Producer } from './kafka.js';
import type { Logger } from './logger.js';
import { PipelineError, isPipelineError } from '../../schemas/errors.js';
import { backoffMs } from './retry.js';
import type { KafkaJsHeaders } from './trace-context.js';

export interface TopicMessages {
  topic: string;
  messages: Array<{ key: string | null; value: Buffer; headers?: KafkaJsHeaders }>;
}

export interface TopicOffsets {
  topic: string;
  partitions: Array<{ partition: number; offset: string }>;
}

interface ClientError {
  retriable?: boolean;
  fatal?: boolean;
}

const flags = (err: unknown): ClientError => (typeof err === 'object' && err !== null ? (err as ClientError) : {});

export class TransactionalWriter {
  private producer: Producer | null = null;
  /** Producers replaced after a fatal or indefinite error (metrics, tests). */
  recreated = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: Record<string, string | number | boolean>,
    private readonly log: Logger,
    /** How long a retriable commit or abort is resumed before the producer is replaced. */
    private readonly resumeForMs = 60_000,
  ) {}

  async connect(): Promise<void> {
    if (this.producer) return;
    const producer = this.kafka.producer(this.config);
    await producer.connect();
    this.producer = producer;
  }

  /** Writes `batches` and commits `offsets` for `consumer`'s group in one transaction. */
  async write(batches: readonly TopicMessages[], offsets: readonly TopicOffsets[], consumer: Consumer): Promise<void> {
    await this.connect();
    const producer = this.producer!;
    let tx: Producer;
    try {
      tx = await producer.transaction();
    } catch (err) {
      // e.g. "Can only start one transaction at a time": the last one never ended. Start afresh.
      await this.replace('could not begin a transaction', err);
      throw wrap(err);
    }
    try {
      if (batches.length > 0) await tx.sendBatch({ topicMessages: batches.map((b) => ({ topic: b.topic, messages: b.messages })) });
      await tx.sendOffsets({ consumer, topics: offsets.map((o) => ({ topic: o.topic, partitions: o.partitions })) });
      await this.resume(() => tx.commit(), 'commit');
    } catch (err) {
      if (flags(err).fatal) await this.replace('fatal transaction error', err);
      else {
        try {
          await this.resume(() => tx.abort(), 'abort');
        } catch (abortErr) {
          await this.replace('transaction abort failed', abortErr);
        }
      }
      throw wrap(err);
    }
  }

  /** Calls `end` again while it fails with a retriable error ("retry call to resume"), for up to resumeForMs. */
  private async resume(end: () => Promise<void>, what: string): Promise<void> {
    const until = Date.now() + this.resumeForMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await end();
      } catch (err) {
        if (!flags(err).retriable || flags(err).fatal || Date.now() >= until) throw err;
        this.log.warn({ err, attempt }, `transaction ${what} failed with a retriable error: resuming it`);
        await new Promise((r) => setTimeout(r, backoffMs(attempt, { maxMs: 2000 })));
      }
    }
  }

  /** Drops the producer (bounded wait) so the next write creates a new one with the same transactional.id. */
  private async replace(reason: string, err: unknown): Promise<void> {
    const old = this.producer;
    this.producer = null;
    this.recreated++;
    this.log.error({ err, reason }, 'replacing the transactional producer');
    if (old) await Promise.race([old.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = null;
  }
}

function wrap(err: unknown): PipelineError {
  return isPipelineError(err) ? err : new PipelineError('KAFKA_PRODUCE_FAILED', `transaction failed: ${(err as Error).message}`, { cause: err });
}
