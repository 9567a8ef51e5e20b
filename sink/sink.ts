/**
 * The sink: consumes window-counts (read_committed, no auto-commit) and applies each batch of one
 * partition to Postgres with writer.ts, in one transaction with the partition's position.
 *
 * Positions live in Postgres (sink_offsets). On every assignment the rebalance callback claims the
 * partitions and assigns them AT their stored offsets (assignment.ts); Kafka's committed offsets are
 * written after each Postgres commit only so lag tools see progress, and are never read.
 *
 * What it shares with the runner comes from processors/runtime: the exactly-once consumer settings
 * (kafka.ts), the dead letters (dead-letter.ts), the per-partition failure count and its backoff
 * (partition-failures.ts, retry.ts), the fatal exit (retry.ts) and the standard metrics (metrics.ts).
 * Claiming, resyncing and applying to Postgres are its own.
 *
 * Undecodable or invalid records go to the dead-letter topic before the batch's transaction commits, so a
 * dead letter is never lost but may be sent twice if the process dies between the two; the batch's
 * position still moves past them, so bad data never stops a partition.
 *
 * A failed step (decoding, the Postgres transaction) is retried in place after the runner's backoff while
 * the partition's failures in a row stay within `maxRetries`; only retryable PipelineErrors are retried
 * (a Postgres error not worth retrying stays a plain error, pg-errors.ts); otherwise the process exits 1
 * without writing the batch.
 */
import type { Registry } from 'prom-client';
import { exactlyOnceConsumerConfig, type Admin, type Consumer, type Kafka, type Producer } from '../processors/runtime/kafka.js';
import type { Logger } from '../processors/runtime/logger.js';
import { isPipelineError } from '../schemas/errors.js';
import type { FlowMessage } from '../processors/runtime/flow-consumer.js';
import { PartitionFailures, errorCodeOf } from '../processors/runtime/partition-failures.js';
import { fatal, type OnFatal } from '../processors/runtime/retry.js';
import { topicEnds } from '../processors/runtime/end-offsets.js';
import type { AvroCodec } from '../schemas/codec.js';
import type { Sql } from '../schemas/postgres/migrate.js';
import { applyBatch, type ApplyResult } from './writer.js';
import { decodeBatch } from './decode-batch.js';
import { claimOffsets } from './offsets.js';
import { guardedRebalanceCallback, type TopicPartition, type TopicPartitionOffset } from './assignment.js';
import { createSinkMetrics, type SinkMetrics } from './metrics.js';

export interface SinkOptions {
  kafka: Kafka;
  sql: Sql;
  codec: AvroCodec;
  log: Logger;
  registry: Registry;
  input: string;
  group: string;
  maxBatch: number;
  maxRetries: number;
  /** Called on a fatal error (default: exit 1; Postgres holds only committed batches). */
  onFatal?: OnFatal;
}

export class Sink {
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private admin: Admin | null = null;
  /** Next offset to apply per owned partition: what Postgres held when we last read or wrote it. */
  private readonly positions = new Map<number, bigint>();
  /** Failed attempts in a row per partition, and the backoff before the next (the runner's). */
  private readonly failures = new PartitionFailures();
  private running = false;
  private stopping = false;
  private readonly m: SinkMetrics;

  constructor(private readonly opts: SinkOptions) {
    this.m = createSinkMetrics(opts.registry);
  }

  get ready(): boolean {
    return this.running && !this.stopping;
  }

  async start(): Promise<void> {
    const { kafka, log, group, input, maxBatch } = this.opts;
    this.admin = kafka.admin();
    await this.admin.connect();
    this.producer = kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 5 });
    await this.producer.connect();
    this.consumer = kafka.consumer({
      ...exactlyOnceConsumerConfig(group, maxBatch),
      rebalance_cb: guardedRebalanceCallback({
        onAssign: (tps) => this.claim(tps), onRevoke: (tps) => this.release(tps), log,
        exit: () => void this.fatal(new Error('partition assignment failed')),
      }),
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [input] });
    this.running = true;
    void this.consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => this.handleBatch(batch.topic, batch.partition, batch.messages as FlowMessage[], batch.highWatermark, resolveOffset),
    });
  }

  /** Reads (or creates at the partition's first offset) each partition's Postgres position. */
  private async claim(tps: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const { sql, group, log } = this.opts;
    const byTopic = new Map<string, number[]>();
    for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
    const out: TopicPartitionOffset[] = [];
    for (const [topic, partitions] of byTopic) {
      const marks = new Map((await topicEnds(this.admin!, topic)).map((p) => [p.partition, p]));
      const beginnings = new Map(partitions.map((p) => [p, marks.get(p)?.low ?? 0n]));
      const stored = await claimOffsets(sql, group, topic, beginnings);
      for (const partition of partitions) {
        const next = stored.get(partition);
        if (next === undefined) throw new Error(`no sink_offsets row for ${topic}/${partition} after claiming it`);
        const mark = marks.get(partition);
        // Out of range: the client will restart at the earliest offset. Say so loudly; the data is gone or the topic is not the one we applied.
        if (mark && next < mark.low) log.error({ topic, partition, next: String(next), low: String(mark.low) }, 'records below the log start were deleted before the sink applied them');
        if (mark && next > mark.high) log.error({ topic, partition, next: String(next), high: String(mark.high) }, 'stored position is beyond the end of the partition: was the topic recreated?');
        this.positions.set(partition, next);
        out.push({ topic, partition, offset: Number(next) });
      }
    }
    this.m.assignments.inc({ event: 'assigned' }, out.length);
    log.info({ partitions: out.map((tp) => `${tp.topic}/${tp.partition}@${tp.offset}`) }, 'partitions assigned at their Postgres offsets');
    return out;
  }

  private release(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      this.positions.delete(tp.partition);
      this.failures.forget(tp.topic, tp.partition);
      this.m.std.dropLag(tp.partition);
    }
    this.m.assignments.inc({ event: 'revoked' }, tps.length);
  }

  private async handleBatch(topic: string, partition: number, messages: FlowMessage[], highWatermark: string, resolveOffset: (offset: string) => void): Promise<void> {
    const last = messages[messages.length - 1];
    const expected = this.positions.get(partition);
    if (!last) return;
    if (expected === undefined) return this.resync(topic, partition, null); // never guess a position
    const end = this.m.std.batchTimer();
    const next = BigInt(last.offset) + 1n;
    // Records below the stored position were applied already (e.g. redelivered after a client seek-back).
    const fresh = messages.filter((msg) => BigInt(msg.offset) >= expected);
    this.m.recordsSkipped.inc({ reason: 'redelivered' }, messages.length - fresh.length);
    if (fresh.length === 0) return resolveOffset(last.offset);
    const { codec, log } = this.opts;
    const { parts, dead } = await this.retrying(topic, partition, last.offset, () => decodeBatch({ codec, producer: this.producer!, log }, topic, partition, fresh));
    const result: ApplyResult = await this.retrying(topic, partition, last.offset, () =>
      applyBatch(this.opts.sql, { group: this.opts.group, topic, partition, expectedOffset: expected, nextOffset: next, parts }));
    if (result.status === 'zombie') {
      this.m.zombieRejections.inc();
      this.opts.log.warn({ topic, partition, expected: String(expected), stored: String(result.storedOffset) }, 'Postgres position moved under this consumer (another owner or a replay): nothing written, resuming from the stored offset');
      return this.resync(topic, partition, result.storedOffset);
    }
    this.failures.batchSucceeded(topic, partition, last.offset);
    if (this.positions.has(partition)) this.positions.set(partition, next);
    resolveOffset(last.offset);
    this.m.std.recordsIn(fresh.length);
    this.m.recordsApplied.inc(result.applied);
    this.m.recordsSkipped.inc({ reason: 'duplicate' }, result.skipped);
    this.m.rowsWritten.inc(result.rowsWritten);
    this.m.std.batchRecords(fresh.length);
    for (const code of dead) this.m.std.deadLetter(code);
    this.m.std.lag(partition, Math.max(0, Number(BigInt(highWatermark) - next)));
    end();
    // Only for lag tooling: never read back, so a failure here is harmless.
    this.consumer?.commitOffsets([{ topic, partition, offset: String(next) }]).catch((err: unknown) => this.opts.log.debug({ err }, 'Kafka offset commit (informational) failed'));
  }

  /** Moves the partition to the stored position (or claims it again when its row is gone). */
  private async resync(topic: string, partition: number, stored: bigint | null): Promise<void> {
    // Revoked meanwhile: the next owner (or our next assignment) reads the position from Postgres anyway.
    if (!this.consumer?.assignment().some((tp) => tp.topic === topic && tp.partition === partition)) return;
    const offset = stored ?? BigInt((await this.claim([{ topic, partition }]))[0]!.offset);
    this.positions.set(partition, offset);
    this.consumer.seek({ topic, partition, offset: String(offset) });
  }

  /**
   * Runs `fn` (a step of the partition's batch ending at `lastOffset`) until it succeeds: a retryable error
   * counts against the partition and backs off; anything else, or more than `maxRetries` in a row, is fatal.
   */
  private async retrying<R>(topic: string, partition: number, lastOffset: string, fn: () => Promise<R>): Promise<R> {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const retryable = isPipelineError(err) && err.retryable;
        this.m.std.error(errorCodeOf(err));
        // Shutting down: leave the batch unapplied (Postgres is unchanged); the next owner re-reads it.
        if (retryable && this.stopping) throw err;
        const { failures, backoffMs } = this.failures.batchFailed(topic, partition, err, undefined, lastOffset);
        if (!retryable || failures > this.opts.maxRetries) return this.fatal(err, { topic, partition, failures });
        this.opts.log.error({ err, topic, partition, failures, backoffMs }, 'batch failed: retrying it');
        await new Promise((r) => setTimeout(r, backoffMs));
      }
    }
  }

  private fatal(err: unknown, ctx: Record<string, unknown> = {}): Promise<never> {
    return fatal(this.opts.log, err, ctx, 'sink cannot continue: exiting without writing the batch', this.opts.onFatal);
  }

  /** Lets the in-flight batch finish (the client waits for it), then disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    const log = this.opts.log;
    await this.consumer?.disconnect().catch((err: unknown) => log.error({ err }, 'consumer disconnect failed'));
    await this.producer?.disconnect().catch((err: unknown) => log.error({ err }, 'producer disconnect failed'));
    await this.admin?.disconnect().catch((err: unknown) => log.error({ err }, 'admin disconnect failed'));
    this.running = false;
  }
}
