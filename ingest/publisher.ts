/**
 * Writes accepted requests to Kafka. A publish resolves only when the broker has acknowledged the record
 * (acks=all, idempotent producer), so an answered 202 is never lost. The number of requests awaiting a
 * delivery report is bounded: past the bound the edge sheds load with 503 instead of queueing.
 */
import type { Producer } from '../processors/runtime/kafka.js';
import { PipelineError } from '../processors/runtime/errors.js';
import type { AvroCodec } from '../schemas/codec.js';
import { partitionKey, type BidRequest } from '../schemas/bid-request.js';

export class Publisher {
  private pending = 0;

  constructor(
    private readonly producer: Producer,
    private readonly codec: AvroCodec,
    private readonly topic: string,
    private readonly subject: string,
    private readonly maxInflight: number,
  ) {}

  get inflight(): number {
    return this.pending;
  }

  async publish(request: BidRequest): Promise<void> {
    if (this.pending >= this.maxInflight) {
      throw new PipelineError('KAFKA_QUEUE_FULL', `${this.pending} requests already await delivery`);
    }
    const value = this.codec.encode(this.subject, request);
    this.pending++;
    try {
      await this.producer.send({ topic: this.topic, messages: [{ key: partitionKey(request), value }] });
    } catch (err) {
      const code = (err as { code?: number }).code;
      // librdkafka's local queue full is -184; everything else (timeouts, broker down) is a failed delivery.
      if (code === -184) throw new PipelineError('KAFKA_QUEUE_FULL', 'producer queue is full', { cause: err });
      throw new PipelineError('KAFKA_PRODUCE_FAILED', `delivery to ${this.topic} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.pending--;
    }
  }
}
