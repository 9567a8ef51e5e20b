/**
 * Follows a compacted topic into an in-memory table (key -> latest value), the way a bidder holds the
 * campaign catalogue: read every partition from the beginning, then keep following.
 *
 * - A throw-away consumer group (unique id, nothing committed), so every follower reads the whole topic.
 * - isolation.level=read_committed: transactional writers' aborted records never reach the table.
 * - Values are Avro (AvroCodec, resolved to the reader schema of `subject` when it is registered);
 *   a null value (tombstone) deletes the key. A record that cannot be decoded is skipped and counted: the first
 *   on each partition is a warning naming topic, partition and offset, the rest are debug lines, and the catch-up
 *   line says how many; a registry outage is retried (the partition waits, nothing is lost).
 * - `ready` resolves once every partition has been read up to the end offsets it had at start (read with
 *   the committed isolation level), so a bidder can refuse to bid before its catalogue is loaded.
 *   Transaction markers occupy offsets that are never delivered, so a partition also counts as caught up
 *   when nothing has arrived for `idleMs` after assignment (logged).
 *
 * `start` waits while the topic does not exist yet (its owner creates it, e.g. ensureCampaignsTopic), so
 * services can start in any order. Without committed offsets a re-assignment replays the topic from the
 * beginning: harmless for a table, since upserts are idempotent and `accept` can drop stale values.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from './kafka.js';
import type { Logger } from './logger.js';
import { isPipelineError } from '../../schemas/errors.js';
import { backoffMs } from './retry.js';
import { committedEndOffsets } from './end-offsets.js';
import type { AvroCodec } from '../../schemas/codec.js';
import { subjectFor } from '../../schemas/topics.js';

export interface TableFollowerOptions<V> {
  kafka: Kafka;
  codec: AvroCodec;
  topic: string;
  log: Logger;
  /** Reader subject (default `<topic>-value`). */
  subject?: string;
  /** Turns a decoded Avro value into the table's value type (default: as decoded). */
  map?: (decoded: unknown, key: string) => V;
  /** False keeps the current value (e.g. an older `updatedAtMs` arriving late). Default: always replace. */
  accept?: (incoming: V, current: V | undefined) => boolean;
  onUpsert?: (key: string, value: V) => void;
  /** Called when a tombstone removes a key the table held. */
  onDelete?: (key: string) => void;
  /** Quiet time after which a partition stuck short of its start end offset counts as caught up (default 2000). */
  idleMs?: number;
}

export class TableFollower<V> {
  /** Resolves when caught up with the end offsets seen at start; rejects if start fails or stop comes first. */
  readonly ready: Promise<void>;
  private readonly table = new Map<string, V>();
  private targets = new Map<number, bigint>();
  private readonly next = new Map<number, bigint>();
  private consumer: Consumer | null = null;
  private caughtUp = false;
  private stopped = false;
  private lastProgress = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  private skippedCount = 0;
  private readonly skippedOn = new Map<number, number>();

  constructor(private readonly opts: TableFollowerOptions<V>) {
    this.ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // A caller that never awaits `ready` must not see an unhandled rejection on stop.
    this.ready.catch(() => undefined);
  }

  get isReady(): boolean {
    return this.caughtUp;
  }

  get size(): number {
    return this.table.size;
  }

  /** Records skipped because they could not be decoded or had no key. */
  get skipped(): number {
    return this.skippedCount;
  }

  get(key: string): V | undefined {
    return this.table.get(key);
  }

  entries(): IterableIterator<[string, V]> {
    return this.table.entries();
  }

  /** Connects and starts following; resolves once consuming has started (await `ready` for the catch-up). */
  async start(): Promise<void> {
    const { kafka, topic, log } = this.opts;
    try {
      const ends = await committedEndOffsets(kafka, topic, log, () => this.stopped);
      if (ends === null) return;
      this.targets = ends;
      this.consumer = kafka.consumer({
        kafkaJS: { groupId: `table-${topic}-${randomUUID()}`, fromBeginning: true, autoCommit: false },
        'isolation.level': 'read_committed',
        'js.consumer.max.batch.size': 1000,
      });
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [topic] });
      void this.consumer.run({ eachBatch: async ({ batch }) => this.apply(batch.partition, batch.messages) });
    } catch (err) {
      this.settle.reject(err as Error);
      throw err;
    }
    log.info({ topic, partitionsToLoad: this.targets.size }, 'table follower started');
    this.checkCaughtUp();
    if (!this.caughtUp) this.watchIdle();
  }

  private async apply(partition: number, messages: ReadonlyArray<{ key: Buffer | null; value: Buffer | null; offset: string }>): Promise<void> {
    const { topic, accept, onUpsert, onDelete } = this.opts;
    const subject = this.opts.subject ?? subjectFor(topic);
    for (const msg of messages) {
      if (this.stopped) return;
      const key = msg.key?.toString();
      if (key === undefined) {
        this.skip(partition, { offset: msg.offset }, 'record without a key skipped');
      } else if (msg.value === null) {
        if (this.table.delete(key)) this.notify(() => onDelete?.(key), key);
      } else {
        const v = await this.decode(msg.value, key, subject, partition, msg.offset);
        if (v !== undefined) {
          if (!accept || accept(v, this.table.get(key))) {
            this.table.set(key, v);
            this.notify(() => onUpsert?.(key, v), key);
          }
        }
      }
      this.next.set(partition, BigInt(msg.offset) + 1n);
    }
    this.lastProgress = Date.now();
    if (!this.caughtUp) this.checkCaughtUp();
  }

  /** A throwing callback is a bug in the caller; it must not stall the partition for every other key. */
  private notify(fn: () => void, key: string): void {
    try {
      fn();
    } catch (err) {
      this.opts.log.error({ err, topic: this.opts.topic, key }, 'table follower callback failed');
    }
  }

  /** The decoded, mapped value, or undefined when the record is bad data; retries while the registry is unavailable. */
  private async decode(buf: Buffer, key: string, subject: string, partition: number, offset: string): Promise<V | undefined> {
    const { codec, topic, log, map } = this.opts;
    for (let attempt = 1; ; attempt++) {
      try {
        const decoded = await codec.decode(buf, subject);
        return map ? map(decoded, key) : (decoded as V);
      } catch (err) {
        if (isPipelineError(err) && err.retryable && !this.stopped) {
          log.error({ err, topic, partition, offset, attempt }, 'decoding failed, retrying');
          await new Promise((r) => setTimeout(r, backoffMs(attempt + 1)));
          continue;
        }
        this.skip(partition, { err, offset, code: isPipelineError(err) ? err.code : 'DECODE_FAILED' }, 'undecodable record skipped');
        return undefined;
      }
    }
  }

  /**
   * Counts a skipped record. The first on each partition is logged as a warning, the rest at debug and in the count at catch-up:
   * a topic holding thousands of bad records must not flood the log (and bury the start-up lines) on every start.
   */
  private skip(partition: number, fields: Record<string, unknown>, msg: string): void {
    this.skippedCount++;
    const n = (this.skippedOn.get(partition) ?? 0) + 1;
    this.skippedOn.set(partition, n);
    const line = { topic: this.opts.topic, partition, ...fields };
    if (n === 1) this.opts.log.warn(line, `${msg} (more on this partition: counted, logged at debug)`);
    else this.opts.log.debug(line, msg);
  }

  private checkCaughtUp(): void {
    for (const [p, target] of this.targets) if ((this.next.get(p) ?? 0n) < target) return;
    this.markReady();
  }

  private watchIdle(): void {
    const idleMs = this.opts.idleMs ?? 2000;
    this.idleTimer = setInterval(() => {
      if (this.caughtUp || this.stopped) return clearInterval(this.idleTimer);
      // Only count quiet time once partitions are assigned: joining the group is not idleness.
      if ((this.consumer?.assignment().length ?? 0) === 0) return;
      if (this.lastProgress === 0) this.lastProgress = Date.now();
      if (Date.now() - this.lastProgress < idleMs) return;
      const behind = [...this.targets].filter(([p, t]) => (this.next.get(p) ?? 0n) < t).map(([p, t]) => ({ partition: p, next: String(this.next.get(p) ?? 0n), end: String(t) }));
      this.opts.log.warn({ topic: this.opts.topic, behind }, 'no records for a while: treating the remaining offsets as transaction markers or compacted gaps');
      this.markReady();
    }, Math.max(50, Math.floor(idleMs / 4)));
    this.idleTimer.unref();
  }

  private markReady(): void {
    if (this.caughtUp) return;
    this.caughtUp = true;
    clearInterval(this.idleTimer);
    const caught = { topic: this.opts.topic, keys: this.table.size, skipped: this.skippedCount };
    if (this.skippedCount > 0) this.opts.log.warn({ ...caught, skippedByPartition: Object.fromEntries(this.skippedOn) }, 'table follower caught up, bad records skipped');
    else this.opts.log.info(caught, 'table follower caught up');
    this.settle.resolve();
  }

  /** Stops following and disconnects; the table keeps its contents. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.idleTimer);
    if (!this.caughtUp) this.settle.reject(new Error(`table follower for ${this.opts.topic} stopped before it caught up`));
    await this.consumer?.disconnect().catch((err: unknown) => this.opts.log.error({ err }, 'table follower disconnect failed'));
  }
}
