/**
 * The consume-transform-produce runner: the only code that drives a processor against Kafka.
 *
 * For each batch of one partition: decode (undecodable -> dead letter), `prepare` (batch I/O), `process`
 * each record (non-retryable error -> dead letter), encode, then write, by the processor's Delivery:
 *  - exactly-once: in ONE Kafka transaction send the outputs and the dead letters and commit the input
 *    offsets (last processed + 1) through the producer (sendOffsets with the consumer, so a zombie whose
 *    group generation is stale is fenced). Downstream consumers read with isolation.level=read_committed,
 *    so a batch's effects appear once or not at all. Concurrent partition batches share a transaction.
 *  - at-least-once: produce the outputs and dead letters with an idempotent producer, and only once
 *    every one is acknowledged store the input offset; librdkafka commits stored offsets every
 *    `commitIntervalMs` and when partitions are revoked or the consumer closes. A kill re-processes
 *    what was stored but not yet committed: duplicates, never losses.
 *
 * A failed batch is aborted and re-read from its first offset (the client seeks back). Retryable errors
 * are retried with backoff, counted per partition (partition-failures.ts): the failing partition is paused
 * for its backoff while the others keep flowing, and after `maxRetries` failures in a row of one partition
 * the process exits without committing. A record whose own processing fails `poisonRetries` times (an error
 * that does not look like the infrastructure being down, while other records go through) is dead-lettered
 * with its attempts instead of retried; a partition failing longer than `stuckReadyMs` makes /ready 503.
 *
 * Following one request (trace-context.ts): every record produced for an input record (its outputs and
 * its dead letter) carries that input's `x-request-id` / `traceparent` / `tracestate` headers, in both
 * modes, so processors never handle them; outputs of `flush` (per batch, e.g. the aggregate's window
 * counts, which sum many requests) carry none. Log lines about one record name its requestId and traceId.
 */
import { hostname } from 'node:os';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { exactlyOnceConsumerConfig, type Consumer, type Kafka } from './kafka.js';
import { PipelineError, isPipelineError } from '../../schemas/errors.js';
import { createStageMetrics, type StageMetrics } from './metrics.js';
import { deadLetter as deadLetterOf } from './dead-letter.js';
import { fatal, isRetryable, type OnFatal } from './retry.js';
import { RewindGuard } from './rewind-guard.js';
import type { Delivery, InRecord, OutRecord, Processor } from './processor.js';
import { DeliveryProducer } from './delivery-producer.js';
import { TransactionalWriter, type TopicMessages } from './transactional-writer.js';
import { FlowConsumer, type FlowMessage } from './flow-consumer.js';
import type { AvroCodec } from '../../schemas/codec.js';
import { subjectFor } from '../../schemas/topics.js';
import { GroupCommit } from './group-commit.js';
import { toKafkaJsHeaders, traceHeaders, traceLogFields, type RecordHeaders } from './trace-context.js';
import { PartitionFailures, errorCodeOf, looksLikeInfrastructure, type StuckPartition } from './partition-failures.js';

export interface RunnerOptions {
  kafka: Kafka;
  codec: AvroCodec;
  log: Logger;
  registry: Registry;
  /** Stable per instance: a restarted instance with the same id fences its predecessor's open transaction. */
  instanceId?: string;
  maxBatch?: number;
  maxRetries?: number;
  transactionTimeoutMs?: number;
  /** Partition batches processed at once; their outputs and offsets share one transaction (group commit). */
  concurrency?: number;
  /** Called on a fatal error (default: exit 1 without committing). */
  onFatal?: OnFatal;
  /** Bootstrap servers, for the at-least-once mode's producer (librdkafka's own API). */
  brokers?: string;
  /** Override of the processor's delivery: only to exactly-once (start() refuses the reverse). */
  delivery?: Delivery;
  /** At-least-once: how often stored input offsets are committed (auto.commit.interval.ms). */
  commitIntervalMs?: number;
  /** At-least-once: producer linger.ms (0 = send at once; a busy producer batches anyway). */
  lingerMs?: number;
  /** Failed attempts of one record before it is dead-lettered instead of retried (partition-failures.ts). */
  poisonRetries?: number;
  /** /ready answers 503 while a partition has been failing for longer than this. */
  stuckReadyMs?: number;
  /** librdkafka security properties (kafka.ts `kafkaSecurityProperties`) of the at-least-once mode's own clients. */
  security?: Record<string, string>;
}

/** /ready's answer: ready or not, and why not. */
export type Readiness = {
  ready: boolean;
  reason?: string;
  stuck?: StuckPartition[];
};

/** What handleBatch throws after a failed attempt: read the batch again after `backoffMs` (the partition is paused meanwhile). */
class RetryLater extends Error {
  constructor(readonly backoffMs: number, cause: unknown) {
    super('batch failed: retry later', { cause });
  }
}

/** One partition batch's share of a group transaction: its encoded outputs and its next offset. */
interface Contribution {
  topic: string;
  partition: number;
  next: string;
  messages: OutMessage[];
}

/** An encoded output; `headers` (librdkafka's form) are the input record's trace headers, undefined when none. */
interface OutMessage {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: RecordHeaders | undefined;
}

/** A consumed record as both consumers hand it over (the KafkaJS-compatible one and flow-consumer.ts). */
type KafkaMessage = FlowMessage;

export function inputsOf(p: { input: string | readonly string[] }): string[] {
  return typeof p.input === 'string' ? [p.input] : [...p.input];
}

export class Runner<T, Ctx> {
  private consumer: Consumer | null = null;
  private txWriter: TransactionalWriter | null = null;
  private plainProducer: DeliveryProducer | null = null;
  private flow: FlowConsumer | null = null;
  private running = false;
  private readonly failures: PartitionFailures;
  /** Resumes of partitions paused for their backoff (cleared on stop). */
  private readonly resumes = new Set<NodeJS.Timeout>();
  private readonly groupCommit = new GroupCommit<Contribution>((cs) => this.commit(cs));
  /** Exactly-once: what this process committed per partition; records below it are not processed again (rewind-guard.ts). */
  private readonly rewind = new RewindGuard();
  /** The standard metrics (metrics.ts), labelled with the processor's name. */
  private readonly std: StageMetrics;
  private readonly m;

  constructor(
    private readonly processor: Processor<T, Ctx>,
    private readonly opts: RunnerOptions,
  ) {
    const r = [opts.registry];
    this.std = createStageMetrics(opts.registry, 'processor', { processor: processor.name });
    this.m = {
      recordsOut: new Counter({ name: 'processor_records_out_total', help: 'Records produced', labelNames: ['processor', 'topic'], registers: r }),
      partitionFailures: new Counter({ name: 'processor_partition_failures_total', help: 'Failed batch attempts per partition', labelNames: ['processor', 'topic', 'partition'], registers: r }),
      rewound: new Counter({
        name: 'processor_rewound_records_skipped_total', help: 'Records handed over again below an offset this process had committed (a consumer offset reset), skipped instead of counted twice',
        labelNames: ['processor', 'topic'], registers: r,
      }),
    };
    this.failures = new PartitionFailures({ poisonRetries: opts.poisonRetries ?? 5, stuckReadyMs: opts.stuckReadyMs ?? 30_000 });
    const failures = this.failures;
    const name = processor.name;
    new Gauge({
      name: 'processor_partition_stuck_seconds', help: 'Per partition whose batches are failing: seconds since its first failed attempt (absent when it flows)',
      labelNames: ['processor', 'topic', 'partition'], registers: r,
      collect() {
        this.reset();
        for (const p of failures.failing()) this.set({ processor: name, topic: p.topic, partition: String(p.partition) }, p.stuckMs / 1000);
      },
    });
    new Gauge({
      name: 'processor_partitions_stuck', help: 'Partitions failing for longer than PROCESSOR_STUCK_READY_MS (the process is not ready meanwhile)',
      labelNames: ['processor'], registers: r,
      collect() {
        this.set({ processor: name }, failures.stuck().length);
      },
    });
    if ((opts.poisonRetries ?? 5) > (opts.maxRetries ?? 10) + 1) {
      opts.log.warn({ poisonRetries: opts.poisonRetries, maxRetries: opts.maxRetries }, 'PROCESSOR_POISON_RETRIES exceeds PROCESSOR_MAX_RETRIES + 1: a poison record stops the process before it can be dead-lettered');
    }
  }

  private readonly subjects = new Map<string, string>();
  private subjectOf(topic: string): string {
    let s = this.subjects.get(topic);
    if (s === undefined) this.subjects.set(topic, (s = subjectFor(topic)));
    return s;
  }

  /** Consuming: subscribed and, for the at-least-once consumer, holding its group assignment (a request sent to a hop that is ready is read at once, not after the group join). */
  get ready(): boolean {
    return this.running && (this.flow === null || this.flow.joined);
  }

  /** /ready: consuming, and no partition failing for longer than `stuckReadyMs` (the reason names it). */
  readiness(): Readiness {
    if (!this.ready) return { ready: false, reason: this.running ? 'waiting for the group assignment' : 'not consuming' };
    const stuck = this.failures.stuck();
    if (stuck.length === 0) return { ready: true };
    const s = stuck[0]!;
    const at = s.offset === undefined ? '' : ` at offset ${s.offset}`;
    return {
      ready: false,
      reason: `partition ${s.topic}/${s.partition} stuck for ${(s.stuckMs / 1000).toFixed(1)} s: ${s.failures} failed attempts${at}, last ${s.code}: ${s.message}`,
      stuck,
    };
  }

  get group(): string {
    return `rtb-${this.processor.name}`;
  }

  /** The guarantee this runner gives: the processor's, or exactly-once when configuration strengthens it. */
  get delivery(): Delivery {
    const declared = this.processor.delivery ?? 'exactly-once';
    const wanted = this.opts.delivery ?? declared;
    if (wanted === 'at-least-once' && declared === 'exactly-once') {
      throw new PipelineError('CONFIG_INVALID', `${this.processor.name} needs exactly-once delivery (its outputs are not idempotent); unset PROCESSOR_DELIVERY`);
    }
    return wanted;
  }

  async start(): Promise<void> {
    if (this.delivery === 'at-least-once') return this.startAtLeastOnce();
    const { kafka, instanceId = hostname(), maxBatch = 500, transactionTimeoutMs = 10_000 } = this.opts;
    this.txWriter = new TransactionalWriter(kafka, {
      'transactional.id': `${this.group}-${instanceId}`,
      'transaction.timeout.ms': transactionTimeoutMs,
      'socket.timeout.ms': transactionTimeoutMs,
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': 1,
      'compression.codec': 'lz4',
    }, this.opts.log);
    await this.txWriter.connect();
    this.consumer = kafka.consumer(exactlyOnceConsumerConfig(this.group, maxBatch));
    await this.consume((c) => this.groupCommit.join(c));
  }

  /** Idempotent producer without transactions; offsets stored after delivery, committed by librdkafka. */
  private async startAtLeastOnce(): Promise<void> {
    const { instanceId = hostname(), maxBatch = 500, transactionTimeoutMs = 10_000, log, brokers = '127.0.0.1:9092' } = this.opts;
    this.plainProducer = await DeliveryProducer.connect({
      brokers,
      clientId: `${this.group}-${instanceId}`,
      log,
      // Polled every ms while reports are due (none when idle). librdkafka's background thread waking
      // the loop instead, with linger 0, answered slower under load: sync bench A/B at 500 req/s, p99
      // 195 ms and 39% in time vs 104 ms and 98.5% with this and linger 1.
      pollIntervalMs: 1,
      config: {
        'enable.idempotence': true,
        acks: -1,
        'linger.ms': this.opts.lingerMs ?? 1,
        'compression.codec': 'lz4',
        'message.timeout.ms': transactionTimeoutMs,
        'socket.nagle.disable': true,
        ...this.opts.security,
      },
    });
    const producer = this.plainProducer;
    const write = (c: Contribution): Promise<void> => producer.produceAll(c.messages).catch((err: unknown) => {
      throw new PipelineError('KAFKA_PRODUCE_FAILED', `delivery failed: ${(err as Error).message}`, { cause: err });
    });
    this.flow = new FlowConsumer({
      brokers, group: this.group, clientId: `${this.group}-${instanceId}`, topics: inputsOf(this.processor),
      maxBatch, commitIntervalMs: this.opts.commitIntervalMs ?? 100, log, security: this.opts.security,
      handle: (topic, partition, messages, high) => this.handleBatch(topic, partition, messages, high, write),
    });
    await this.flow.start();
    this.running = true;
  }

  /** Subscribes and runs: each partition batch is handled, written by `write`, then its offset resolved. */
  private async consume(write: (c: Contribution) => Promise<void>): Promise<void> {
    const consumer = this.consumer!;
    await consumer.connect();
    await consumer.subscribe({ topics: inputsOf(this.processor) });
    this.running = true;
    void consumer.run({
      partitionsConsumedConcurrently: this.opts.concurrency ?? 8,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, pause }) => {
        const { topic, partition } = batch;
        const { kept, skipped, committedNext } = this.rewind.filter(topic, partition, batch.messages as KafkaMessage[]);
        if (skipped > 0) {
          this.m.rewound.inc({ processor: this.processor.name, topic }, skipped);
          this.opts.log.warn(
            { topic, partition, firstOffset: batch.messages[0]!.offset, committedNext: String(committedNext), skipped },
            'consumer handed over records below the offset this process committed (an offset reset, e.g. after a broker restart): skipped, not processed twice',
          );
          if (kept.length === 0) {
            resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
            return;
          }
        }
        let last: string;
        try {
          last = await this.handleBatch(topic, partition, kept, batch.highWatermark, write);
        } catch (err) {
          if (!(err instanceof RetryLater)) throw err;
          // Nothing resolved: the client seeks back to the batch's first record. The partition is paused for its
          // backoff, so this worker takes other partitions' batches meanwhile.
          await this.backOff(err.backoffMs, () => void pause(), () => consumer.resume([{ topic, partitions: [partition] }]));
          return;
        }
        // A batch handled only in part (record-by-record mode) is read again from the next record.
        resolveOffset(last);
      },
    });
  }

  /** Pauses a failed partition for `ms` and resumes it (a sleep instead when it cannot be paused). */
  private async backOff(ms: number, pause: () => void, resume: () => void): Promise<void> {
    try {
      pause();
    } catch (err) {
      this.opts.log.debug({ err }, 'could not pause the partition: sleeping instead');
      await new Promise((r) => setTimeout(r, ms));
      return;
    }
    const t = setTimeout(() => {
      this.resumes.delete(t);
      if (!this.running) return;
      try {
        resume();
      } catch (err) {
        // Revoked meanwhile: its next owner reads it.
        this.opts.log.debug({ err }, 'could not resume the partition');
      }
    }, ms);
    this.resumes.add(t);
  }

  /**
   * Handles one partition's records in order and writes the result; returns the offset of the last record
   * handled (the batch's last, or its first in record-by-record mode). Throws RetryLater after a failed attempt.
   */
  private async handleBatch(topic: string, partition: number, batch: KafkaMessage[], highWatermark: string, write: (c: Contribution) => Promise<void>): Promise<string> {
    const { codec, log } = this.opts;
    const name = this.processor.name;
    const failures = this.failures;
    // Record-by-record mode (a whole batch kept failing in prepare or flush): one record per batch.
    const messages = batch.length > 1 && failures.isolating(topic, partition, batch[0]!.offset) ? batch.slice(0, 1) : batch;
    const end = this.std.batchTimer();
    const inputSubject = this.subjectOf(topic);
    const dead: OutRecord[] = [];
    const deadHeaders: Array<RecordHeaders | undefined> = [];
    const deadCodes: string[] = [];
    // The record whose retryable error fails the batch, named in the log line about the failure.
    let failing: KafkaMessage | undefined;
    const deadLetter = (msg: KafkaMessage, err: unknown, attempts = 1): void => {
      const d = deadLetterOf(log, name, topic, partition, msg, err, attempts);
      deadCodes.push(d.code);
      deadHeaders.push(d.headers);
      dead.push(d.record);
    };
    /** A retryable failure pinned on one record: counted against it; true when it is dead-lettered now (poison). */
    const isolated = (msg: KafkaMessage, err: unknown, okInBatch: boolean): boolean => {
      const verdict = failures.recordFailed(topic, partition, msg.offset, err, okInBatch);
      if (!verdict.deadLetter) return false;
      deadLetter(msg, err, verdict.attempts);
      return true;
    };
    try {
      const records: Array<InRecord<T> & { msg: KafkaMessage }> = [];
      for (const msg of messages) {
        try {
          if (!msg.value) throw new PipelineError('DECODE_FAILED', 'record has no value');
          const value = codec.decodeKnown<T>(msg.value, inputSubject) ?? (await codec.decode<T>(msg.value, inputSubject));
          records.push({ topic, partition, offset: msg.offset, key: msg.key?.toString() ?? null, value, timestampMs: Number(msg.timestamp), msg });
        } catch (err) {
          if (isPipelineError(err) && err.retryable) {
            // The registry (infrastructure) or a record of its own: counted like a failure of `process`.
            if (isolated(msg, err, false)) continue;
            failing = msg;
            throw err;
          }
          deadLetter(msg, err);
        }
      }
      let ctx: Ctx;
      try {
        ctx = (this.processor.prepare ? await this.processor.prepare(records) : undefined) as Ctx;
      } catch (err) {
        // A batch of one record (record-by-record mode) pins the failure on it; a whole batch's is retried.
        if (messages.length !== 1 || records.length !== 1 || !(!isPipelineError(err) || err.retryable)) throw err;
        if (!isolated(records[0]!.msg, err, false)) {
          failing = records[0]!.msg;
          throw err;
        }
        records.length = 0;
        ctx = undefined as Ctx;
      }
      const out: OutRecord[] = [];
      // outHeaders[i]: the trace headers of the input out[i] was produced for (flush outputs: none).
      const outHeaders: Array<RecordHeaders | undefined> = [];
      // Started together when the processor allows it, otherwise one after another; either way the
      // outputs are taken in input order.
      const started = this.processor.concurrentRecords ? records.map((rec) => this.tryProcess(rec, ctx)) : null;
      let ok = 0;
      // Records whose retryable error does not look like infrastructure: the rest of the batch is still
      // processed, to tell one bad record (the others go through) from a shared cause (all fail).
      let retry: Array<{ i: number; err: unknown }> | null = null;
      for (let i = 0; i < records.length; i++) {
        let result = started ? started[i] : this.tryProcess(records[i]!, ctx);
        if (result instanceof Promise) result = await result;
        if (result instanceof Error || !Array.isArray(result)) {
          const err: unknown = result;
          if (isPipelineError(err) && !err.retryable) {
            deadLetter(records[i]!.msg, err);
          } else if (looksLikeInfrastructure(err)) {
            failures.recordFailed(topic, partition, records[i]!.offset, err, false);
            failing = records[i]!.msg;
            throw err;
          } else {
            (retry ??= []).push({ i, err });
          }
        } else {
          ok++;
          if (result.length > 0) {
            const headers = traceHeaders(records[i]!.msg.headers);
            for (const o of result) {
              out.push(o);
              outHeaders.push(headers);
            }
          }
        }
      }
      if (retry !== null) {
        let first: { i: number; err: unknown } | undefined;
        for (const f of retry) if (!isolated(records[f.i]!.msg, f.err, ok > 0) && first === undefined) first = f;
        if (ok > 0) failures.noteOk();
        if (first !== undefined) {
          failing = records[first.i]!.msg;
          throw first.err;
        }
      } else if (ok > 0) {
        failures.noteOk();
      }
      if (this.processor.flush && records.length > 0) {
        try {
          out.push(...(await this.processor.flush(ctx, { topic, partition, firstOffset: messages[0]!.offset, lastOffset: messages[messages.length - 1]!.offset })));
        } catch (err) {
          if (messages.length !== 1 || records.length !== 1 || !(!isPipelineError(err) || err.retryable)) throw err;
          if (!isolated(records[0]!.msg, err, false)) {
            failing = records[0]!.msg;
            throw err;
          }
          out.length = 0;
          outHeaders.length = 0;
        }
      }
      const encoded: OutMessage[] = [];
      for (let i = 0; i < out.length; i++) encoded.push(this.encode(out[i]!, outHeaders[i]));
      for (let i = 0; i < dead.length; i++) encoded.push(this.encode(dead[i]!, deadHeaders[i]));
      const lastOffset = messages[messages.length - 1]!.offset;
      await write({ topic, partition, next: (BigInt(lastOffset) + 1n).toString(), messages: encoded });
      failures.batchSucceeded(topic, partition, lastOffset);
      this.std.recordsIn(messages.length);
      for (const code of deadCodes) this.std.deadLetter(code);
      this.std.batchRecords(messages.length);
      // Counted per topic, then one labelled increment each: a label lookup per record costs more than the record.
      const perTopic = new Map<string, number>();
      for (const o of out) perTopic.set(o.topic, (perTopic.get(o.topic) ?? 0) + 1);
      for (const [t, n] of perTopic) this.m.recordsOut.inc({ processor: name, topic: t }, n);
      const last = BigInt(lastOffset);
      this.std.lag(partition, Math.max(0, Number(BigInt(highWatermark) - last - 1n)));
      end();
      return lastOffset;
    } catch (err) {
      const code = errorCodeOf(err);
      this.std.error(code);
      this.m.partitionFailures.inc({ processor: name, topic, partition: String(partition) });
      const { failures: inARow, backoffMs } = failures.batchFailed(topic, partition, err, failing?.offset, messages[messages.length - 1]!.offset);
      const attempts = failing ? failures.attemptsOf(topic, partition, failing.offset) : undefined;
      if (!isRetryable(err) || inARow > (this.opts.maxRetries ?? 10)) {
        return fatal(log, err, { topic, partition, ...this.failingRecord(failing), attempts, failures: inARow }, 'batch failed and cannot be retried: exiting without committing', this.opts.onFatal);
      }
      log.error({ err, topic, partition, ...this.failingRecord(failing), attempts, failures: inARow, backoffMs }, 'batch failed: aborted, will re-read it');
      throw new RetryLater(backoffMs, err);
    }
  }

  private encode(o: OutRecord, headers: RecordHeaders | undefined): OutMessage {
    return { topic: o.topic, key: o.key, value: this.opts.codec.encode(this.subjectOf(o.topic), o.value), headers };
  }

  /** Log fields naming the record whose error failed the batch (none when the batch failed as a whole). */
  private failingRecord(msg: KafkaMessage | undefined): { offset?: string; requestId?: string; traceId?: string } {
    return msg ? { offset: msg.offset, ...traceLogFields(msg.headers) } : {};
  }

  /** A record's outputs, or what it threw (returned, so concurrently started records never reject unobserved). */
  private tryProcess(rec: InRecord<T>, ctx: Ctx): OutRecord[] | Promise<OutRecord[] | unknown> | unknown {
    try {
      const produced = this.processor.process(rec, ctx);
      // Most processors answer synchronously: awaiting only a promise saves a microtask per record.
      return produced instanceof Promise ? produced.catch((err: unknown) => (err === undefined ? new Error('undefined thrown') : err)) : produced;
    } catch (err) {
      return err;
    }
  }

  /** One transaction for every contribution: all outputs, then all input offsets, then commit. */
  private async commit(contributions: Contribution[]): Promise<void> {
    const byTopic = new Map<string, TopicMessages['messages']>();
    const offsets = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const c of contributions) {
      for (const m of c.messages) {
        let list = byTopic.get(m.topic);
        if (!list) byTopic.set(m.topic, (list = []));
        list.push(m.headers ? { key: m.key, value: m.value, headers: toKafkaJsHeaders(m.headers) } : { key: m.key, value: m.value });
      }
      let parts = offsets.get(c.topic);
      if (!parts) offsets.set(c.topic, (parts = []));
      parts.push({ partition: c.partition, offset: c.next });
    }
    await this.txWriter!.write(
      [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      [...offsets].map(([topic, partitions]) => ({ topic, partitions })),
      this.consumer!,
    );
    for (const c of contributions) this.rewind.committedNext(c.topic, c.partition, c.next);
  }

  /** Stops consuming (an in-flight batch finishes or aborts) and disconnects. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.resumes) clearTimeout(t);
    this.resumes.clear();
    await this.consumer?.disconnect().catch((err: unknown) => this.opts.log.error({ err }, 'consumer disconnect failed'));
    await this.flow?.stop().catch((err: unknown) => this.opts.log.error({ err }, 'consumer disconnect failed'));
    await this.txWriter?.disconnect().catch((err: unknown) => this.opts.log.error({ err }, 'producer disconnect failed'));
    await this.plainProducer?.flush(5000).catch((err: unknown) => this.opts.log.error({ err }, 'producer flush failed'));
    await this.plainProducer?.disconnect();
    await this.processor.close?.();
  }
}
