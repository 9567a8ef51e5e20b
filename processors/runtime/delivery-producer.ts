/**
 * The non-transactional Kafka producer: librdkafka's own produce call with a per-record delivery
 * callback, without the KafkaJS-compatible layer (which builds a promise, an array, a map and a
 * metadata object per send; measured: bench/results/2026-11-22-edge.md). Used by the edge (a request
 * is answered 202 only from its callback) and by the runner's at-least-once mode (input offsets are
 * stored only after every output of the batch was delivered). Transactions keep the KafkaJS-compatible API.
 *
 * Delivery reports are collected by polling on the main thread every `pollIntervalMs` (one native
 * call drains all waiting reports) rather than one cross-thread wake-up per report, and only while
 * records await their report: an idle producer polling every millisecond burnt 7% of a core
 * (measured on an idle processor), which on a 2-core machine running seven services adds up.
 */
import { RdKafka } from '@confluentinc/kafka-javascript';
import type { Logger } from './logger.js';
import type { RecordHeaders } from './trace-context.js';

type Done = (err: RdKafkaError | null) => void;

/** librdkafka's error: `code` is negative for local errors (e.g. -184 queue full, -192 timed out). */
export interface RdKafkaError extends Error {
  code: number;
}

export interface DeliveryProducerOptions {
  brokers: string;
  clientId: string;
  log: Logger;
  /** librdkafka producer properties (acks, idempotence, linger, compression, ...). */
  config: Record<string, string | number | boolean>;
  /** How often waiting delivery reports are collected, ms. */
  pollIntervalMs: number;
  connectTimeoutMs?: number;
}

export class DeliveryProducer {
  private pending = 0;
  private poller: NodeJS.Timeout | null = null;

  private constructor(
    private readonly producer: RdKafka.Producer,
    private readonly pollIntervalMs: number,
  ) {}

  /** Counts a record handed to librdkafka; the poller runs while any awaits its report. */
  private sent(n: number): void {
    this.pending += n;
    if (this.pollIntervalMs > 0 && this.poller === null && this.pending > 0) {
      this.poller = setInterval(() => this.producer.poll(), this.pollIntervalMs);
    }
  }

  private settled(): void {
    if (--this.pending === 0 && this.poller !== null) {
      clearInterval(this.poller);
      this.poller = null;
    }
  }

  static async connect(opts: DeliveryProducerOptions): Promise<DeliveryProducer> {
    const log = opts.log.child({ component: 'kafka-producer' });
    const producer = new RdKafka.Producer({
      ...opts.config,
      'metadata.broker.list': opts.brokers,
      'client.id': opts.clientId,
      // The Java client's placement (and the KafkaJS-compatible layer's default): a user's requests land
      // on the same partition whichever client wrote them.
      partitioner: 'murmur2_random',
      dr_cb: true,
    } as RdKafka.ProducerGlobalConfig);
    let self: DeliveryProducer | null = null;
    producer.on('delivery-report', (err, report) => {
      self?.settled();
      (report.opaque as Done)((err as unknown as RdKafkaError | undefined) ?? null);
    });
    // Broker connection errors are reported here and retried by librdkafka; deliveries that cannot
    // succeed fail through their own callbacks at message.timeout.ms.
    producer.on('event.error', (err) => log.warn({ err }, 'kafka producer error'));
    await new Promise<void>((resolve, reject) =>
      producer.connect({ timeout: opts.connectTimeoutMs ?? 10_000 }, (err) => (err ? reject(err) : resolve())),
    );
    // 0: librdkafka's background thread wakes the event loop when reports are due, instead of a timer.
    if (opts.pollIntervalMs === 0) producer.setPollInBackground(true);
    self = new DeliveryProducer(producer, opts.pollIntervalMs);
    return self;
  }

  /** Resolves when the broker has acknowledged the record; rejects with an RdKafkaError otherwise. `headers`: librdkafka's form. */
  produce(topic: string, key: string, value: Buffer, headers?: RecordHeaders): Promise<void> {
    return this.produceTo(topic, null, key, value, headers); // partition null: the partitioner hashes the key
  }

  /** As produce, to a given partition (bench/producer.ts compares one partition with the keyed spread). */
  produceTo(topic: string, partition: number | null, key: string, value: Buffer, headers?: RecordHeaders): Promise<void> {
    return new Promise((resolve, reject) => {
      const done: Done = (err) => (err ? reject(err) : resolve());
      try {
        this.producer.produce(topic, partition, value, key, Date.now(), done, headers);
        this.sent(1);
      } catch (err) {
        reject(err); // synchronous failures: local queue full (-184), unknown topic, closed client
      }
    });
  }

  /**
   * Produces every record and resolves once all are acknowledged (one promise per call, not per
   * record); rejects with the first failure. Records of one partition keep their order (idempotent producer).
   * A record's `headers` (librdkafka's form; undefined: none) are written with it.
   */
  produceAll(records: ReadonlyArray<{ topic: string; key: string | null; value: Buffer; headers?: RecordHeaders | undefined }>): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let left = records.length;
      let failed = false;
      const done: Done = (err) => {
        if (failed) return;
        if (err) {
          failed = true;
          reject(err);
        } else if (--left === 0) resolve();
      };
      try {
        const now = Date.now();
        for (const r of records) {
          this.producer.produce(r.topic, null, r.value, r.key, now, done, r.headers);
          this.sent(1);
        }
      } catch (err) {
        failed = true;
        reject(err);
      }
    });
  }

  /** Waits until every queued record has its delivery report, or the timeout passes. */
  flush(timeoutMs: number): Promise<void> {
    // flush itself polls, so the reports of every record still waiting arrive.
    return new Promise((resolve, reject) => this.producer.flush(timeoutMs, (err) => (err ? reject(err) : resolve())));
  }

  disconnect(): Promise<void> {
    if (this.poller !== null) clearInterval(this.poller);
    this.poller = null;
    return new Promise((resolve) => this.producer.disconnect(() => resolve()));
  }
}
