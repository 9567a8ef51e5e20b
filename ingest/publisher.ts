/**
 * Writes accepted requests (and tracking notices: one Publisher per topic, sharing the producer) to
 * Kafka. A publish resolves only when the broker has acknowledged the record (acks=all, idempotent
 * producer), so an answered 202 is never lost. The number of records awaiting a delivery report is
 * bounded: past the bound the edge sheds load with 503 instead of queueing.
 */
import { PipelineError } from '../schemas/errors.js';
import type { AvroCodec } from '../schemas/codec.js';
import type { DeliveryProducer, RdKafkaError } from '../processors/runtime/delivery-producer.js';
import type { RecordHeaders } from '../processors/runtime/trace-context.js';

/** librdkafka's "local queue full". */
const ERR_QUEUE_FULL = -184;

export class Publisher<T> {
  private pending = 0;
  /** When a delivery last settled, or the first record of a busy spell was handed over (performance.now()). */
  private progressAt = 0;

  constructor(
    private readonly producer: Pick<DeliveryProducer, 'produce'>,
    private readonly codec: AvroCodec,
    private readonly topic: string,
    private readonly subject: string,
    private readonly maxInflight: number,
    /** The record key (bid requests: partitionKey; tracking events: the request id). */
    private readonly keyOf: (value: T) => string,
  ) {}

  get inflight(): number {
    return this.pending;
  }

  /**
   * True when records await delivery and none has settled for `ms`: the broker is reachable enough to
   * answer metadata but not taking records (e.g. the idempotent producer waiting for a producer id).
   */
  stalled(ms: number, now = performance.now()): boolean {
    return this.pending > 0 && now - this.progressAt > ms;
  }

  /** `headers`: the record's Kafka headers (librdkafka's form), e.g. the request's x-request-id and traceparent. */
  async publish(record: T, headers?: RecordHeaders): Promise<void> {
    if (this.pending >= this.maxInflight) {
      throw new PipelineError('KAFKA_QUEUE_FULL', `${this.pending} records already await delivery`);
    }
    const value = this.codec.encode(this.subject, record);
    if (this.pending++ === 0) this.progressAt = performance.now();
    try {
      await this.producer.produce(this.topic, this.keyOf(record), value, headers);
    } catch (err) {
      // Local queue full sheds load; everything else (timeouts, broker down) is a failed delivery. Both answer 503.
      if ((err as RdKafkaError).code === ERR_QUEUE_FULL) throw new PipelineError('KAFKA_QUEUE_FULL', 'producer queue is full', { cause: err });
      throw new PipelineError('KAFKA_PRODUCE_FAILED', `delivery to ${this.topic} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.pending--;
      this.progressAt = performance.now();
    }
  }
}
