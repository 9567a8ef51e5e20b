/**
 * The at-least-once mode's consumer: librdkafka's own consumer in a loop, without the KafkaJS-compatible
 * layer. That layer hands each partition's records to its own eachBatch through per-partition workers,
 * a message cache and AsyncLocalStorage (which turns on promise hooks for the whole process); with the
 * one-or-two-record batches of a low-latency hop it cost ~550 us of main-thread CPU per record at 250
 * records/s (CPU profile of the pass-through). Here one `consume` call returns whatever has arrived on
 * every assigned partition; the records are handled per partition, concurrently, their outputs awaited,
 * and only then is each partition's next offset stored; librdkafka commits stored offsets every
 * auto.commit.interval.ms and when partitions are revoked or the consumer closes. The next poll waits for
 * the previous one's outputs, so a partition's records are handled in order and a busy hop batches more.
 * A partition whose batch failed is sought back to that batch's first offset and paused for the backoff the
 * handler asks for (`backoffMs` on what it throws), so the poll loop keeps serving the other partitions
 * meanwhile; then it is resumed and read again. A handler may handle a batch in part (it returns the last
 * offset it handled): the partition is then read again from the next one.
 */
import { RdKafka } from '@confluentinc/kafka-javascript';
import type { Logger } from './logger.js';
import type { KafkaJsHeaders, RecordHeaders } from './trace-context.js';

/** A record as the runner's batch handler takes it. */
export interface FlowMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  /**
   * The record's headers as its consumer gives them: librdkafka's array here, the KafkaJS-compatible
   * object from the exactly-once mode's consumer; undefined when it has none (trace-context.ts reads both).
   */
  headers?: RecordHeaders | KafkaJsHeaders | undefined;
}

export interface FlowConsumerOptions {
  brokers: string;
  group: string;
  clientId: string;
  topics: readonly string[];
  maxBatch: number;
  commitIntervalMs: number;
  log: Logger;
  /** librdkafka security properties (kafka.ts `kafkaSecurityProperties`). */
  security?: Record<string, string>;
  /**
   * Handles one partition's records in order and returns the last offset it handled (undefined: all);
   * throws to have them read again, after the `backoffMs` the thrown error carries (if any).
   */
  handle: (topic: string, partition: number, messages: FlowMessage[], highWatermark: string) => Promise<string | void>;
}

type NativeMessage = RdKafka.Message;

export class FlowConsumer {
  private consumer: RdKafka.KafkaConsumer | null = null;
  private running = false;
  /** Set once the group has handed this member its (possibly empty) assignment: it consumes from then on. */
  joined = false;
  private loop: Promise<void> | null = null;
  /** Resumes of partitions paused for a backoff (cleared on stop). */
  private readonly resumes = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: FlowConsumerOptions) {}

  async start(): Promise<void> {
    const { opts } = this;
    const consumer = new RdKafka.KafkaConsumer({
      'group.id': opts.group,
      'client.id': opts.clientId,
      'metadata.broker.list': opts.brokers,
      'enable.auto.commit': true,
      'auto.commit.interval.ms': opts.commitIntervalMs,
      // Stored only once the outputs are acknowledged: what is committed has been delivered.
      'enable.auto.offset.store': false,
      'partition.assignment.strategy': 'cooperative-sticky',
      'session.timeout.ms': 10_000,
      'isolation.level': 'read_uncommitted',
      'socket.nagle.disable': true,
      // A fetch returns as soon as a record arrives; this only bounds an idle fetch (fewer idle round trips than 100).
      'fetch.wait.max.ms': 500,
      // librdkafka assigns and revokes itself (incrementally for cooperative-sticky).
      rebalance_cb: true,
      ...opts.security,
    } as RdKafka.ConsumerGlobalConfig, { 'auto.offset.reset': 'earliest' });
    consumer.on('event.error', (err) => opts.log.warn({ err }, 'kafka consumer error'));
    consumer.on('rebalance', () => {
      this.joined = true;
    });
    consumer.on('rebalance.error', (err) => opts.log.error({ err }, 'kafka consumer rebalance failed'));
    await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
    consumer.setDefaultConsumeTimeout(100);
    // Wait up to the timeout for the first record only, then take what is already there.
    (consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void }).setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.subscribe([...opts.topics]);
    this.consumer = consumer;
    this.running = true;
    this.loop = this.run(consumer);
  }

  private consume(consumer: RdKafka.KafkaConsumer): Promise<NativeMessage[]> {
    return new Promise((resolve, reject) => consumer.consume(this.opts.maxBatch, (err, messages) => (err ? reject(err) : resolve(messages))));
  }

  private async run(consumer: RdKafka.KafkaConsumer): Promise<void> {
    while (this.running) {
      let messages: NativeMessage[];
      try {
        messages = await this.consume(consumer);
      } catch (err) {
        // Transient (broker away, rebalance in progress): librdkafka retries; poll again shortly.
        this.opts.log.warn({ err }, 'consume failed; polling again');
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (messages.length === 0) continue;
      const byPartition = new Map<string, { topic: string; partition: number; messages: FlowMessage[] }>();
      for (const m of messages) {
        const k = `${m.topic}\u0000${m.partition}`;
        let g = byPartition.get(k);
        if (!g) byPartition.set(k, (g = { topic: m.topic, partition: m.partition, messages: [] }));
        g.messages.push({ offset: String(m.offset), key: toBuffer(m.key), value: m.value ?? null, timestamp: String(m.timestamp ?? Date.now()), headers: m.headers });
      }
      await Promise.all([...byPartition.values()].map((g) => this.handle(consumer, g.topic, g.partition, g.messages)));
    }
  }

  private async handle(consumer: RdKafka.KafkaConsumer, topic: string, partition: number, messages: FlowMessage[]): Promise<void> {
    const first = Number(messages[0]!.offset);
    const last = Number(messages[messages.length - 1]!.offset);
    let high = last + 1;
    try {
      high = consumer.getWatermarkOffsets(topic, partition).highOffset ?? high;
    } catch {
      // not known yet: the lag metric uses the batch's end
    }
    let handled: string | void;
    try {
      handled = await this.opts.handle(topic, partition, messages, String(high));
    } catch (err) {
      // The handler logged; read the batch again from its first record once its backoff has passed.
      const backoffMs = (err as { backoffMs?: unknown }).backoffMs;
      await this.retryLater(consumer, topic, partition, first, typeof backoffMs === 'number' ? backoffMs : 0);
      return;
    }
    const upTo = handled === undefined ? last : Number(handled);
    try {
      consumer.offsetsStore([{ topic, partition, offset: upTo + 1 }]);
    } catch (err) {
      // Revoked while its outputs were in flight: the new owner reads it again (at least once).
      this.opts.log.debug({ err, topic, partition }, 'offset not stored: partition no longer assigned');
    }
    if (upTo < last) await this.seek(consumer, topic, partition, upTo + 1);
  }

  private seek(consumer: RdKafka.KafkaConsumer, topic: string, partition: number, offset: number): Promise<void> {
    return new Promise<void>((resolve) => consumer.seek({ topic, partition, offset }, 1000, () => resolve()));
  }

  /**
   * Seeks the partition back to `offset` and, for a backoff, pauses it until then: the poll loop serves the
   * other partitions meanwhile (awaiting the backoff here would hold them all). A seek resets librdkafka's
   * resume position, so the resumed partition fetches from `offset`.
   */
  private async retryLater(consumer: RdKafka.KafkaConsumer, topic: string, partition: number, offset: number, backoffMs: number): Promise<void> {
    let paused = false;
    if (backoffMs > 0) {
      try {
        consumer.pause([{ topic, partition }]);
        paused = true;
      } catch (err) {
        this.opts.log.debug({ err, topic, partition }, 'could not pause the partition: sleeping instead');
        await new Promise((r) => setTimeout(r, backoffMs));
      }
    }
    await this.seek(consumer, topic, partition, offset);
    if (!paused) return;
    const t = setTimeout(() => {
      this.resumes.delete(t);
      if (!this.running || this.consumer !== consumer) return;
      try {
        consumer.resume([{ topic, partition }]);
      } catch (err) {
        // Revoked meanwhile: its next owner reads it.
        this.opts.log.debug({ err, topic, partition }, 'could not resume the partition');
      }
    }, backoffMs);
    this.resumes.add(t);
  }

  /** Stops polling, waits for the batch in hand, and closes (which commits the stored offsets). */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.resumes) clearTimeout(t);
    this.resumes.clear();
    await this.loop;
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

function toBuffer(key: NativeMessage['key']): Buffer | null {
  if (key === null || key === undefined) return null;
  return Buffer.isBuffer(key) ? key : Buffer.from(String(key));
}
