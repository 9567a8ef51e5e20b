/**
 * Failure bookkeeping of the runner, per partition (topic + partition) and per record offset: what tells a
 * poison record (one record that fails the same way every time) from the infrastructure being down.
 *
 *  - Every failed attempt of a partition's batch counts against that partition only (`failures`, reset when
 *    a batch of it commits); the backoff and the `maxRetries` exit use that count, so a failing partition
 *    neither slows nor condemns the others.
 *  - A failure the runner can pin on one record (its decode or its `process` threw, or its single-record
 *    batch's `prepare`/`flush` did) also counts against that record's offset. When a record has failed
 *    `poisonRetries` times it is dead-lettered instead of retried, provided that
 *      1. the error does not look like the infrastructure being down (Kafka, the schema registry, a refused
 *         or dropped connection, a timeout, a Redis that is loading/read-only/out of memory: see
 *         `looksLikeInfrastructure`): those are retried, and exit the process after maxRetries, as before;
 *      2. and the environment demonstrably works: another record was processed successfully since this
 *         one first failed (on any partition, or later in the same batch). When every record fails, the
 *         cause is more likely shared than the record's own: nothing is dead-lettered.
 *  - A failure that cannot be pinned on a record (`prepare` or `flush` of a whole batch) and does not look
 *    like infrastructure puts the partition, after it repeated, in record-by-record mode up to the end of
 *    the failed batch: each record is then a batch of its own, so a record that breaks `prepare` is found
 *    (and counted, and dead-lettered) like one that breaks `process`.
 *  - A partition is *stuck* from its first failed attempt until a batch of it commits; `stuck()` lists those
 *    stuck longer than `stuckReadyMs` (for /ready). A partition not attempted for `staleMs` (revoked while
 *    backing off) is forgotten.
 */
import { isPipelineError } from '../../schemas/errors.js';
import { backoffMs } from './retry.js';

export interface PartitionFailureOptions {
  /** Failed attempts of one record before it is dead-lettered (when rules 1 and 2 above allow). Default 5. */
  poisonRetries?: number;
  /** A partition failing for longer than this makes the process not ready. Default 30 s. */
  stuckReadyMs?: number;
  /** A partition with no attempt for this long is forgotten (it was revoked). Default 60 s. */
  staleMs?: number;
  now?: () => number;
}

export interface StuckPartition {
  topic: string;
  partition: number;
  /** Since when its batches fail (epoch ms), and for how long. */
  sinceMs: number;
  stuckMs: number;
  /** Failed attempts in a row. */
  failures: number;
  /** The record its last failure was pinned on, if any. */
  offset?: string;
  code: string;
  message: string;
}

interface RecordState {
  attempts: number;
  /** `okSeq` when the record first failed: a larger one later proves another record went through since. */
  okSeqAtFirst: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  failures: number;
  since: number;
  lastAt: number;
  code: string;
  message: string;
  offset?: string;
  records: Map<string, RecordState>;
  /** Consecutive failures of whole batches (not pinned on a record) that did not look like infrastructure. */
  batchLevel: number;
  /** Record-by-record mode up to and including this offset. */
  isolateUntil?: bigint;
}

export interface RecordVerdict {
  /** This record's failed attempts so far, this one included. */
  attempts: number;
  /** Dead-letter it now instead of retrying. */
  deadLetter: boolean;
  infrastructure: boolean;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class PartitionFailures {
  private readonly parts = new Map<string, PartitionState>();
  /** Bumped whenever some record was processed successfully (any partition). */
  private okSeq = 0;
  private readonly now: () => number;

  constructor(private readonly opts: PartitionFailureOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** Some record was processed successfully: evidence that the processor's dependencies work. */
  noteOk(): void {
    this.okSeq++;
  }

  /** The partition's state (created on its first failure). */
  private state(topic: string, partition: number): PartitionState {
    const k = key(topic, partition);
    let s = this.parts.get(k);
    if (!s) {
      const now = this.now();
      this.parts.set(k, (s = { topic, partition, failures: 0, since: now, lastAt: now, code: '', message: '', records: new Map(), batchLevel: 0 }));
    }
    return s;
  }

  /**
   * A record's processing failed with a retryable error. `okInBatch`: another record of the same attempt
   * was processed successfully. Says whether to dead-letter it now.
   */
  recordFailed(topic: string, partition: number, offset: string, err: unknown, okInBatch: boolean): RecordVerdict {
    const s = this.state(topic, partition);
    let r = s.records.get(offset);
    if (!r) s.records.set(offset, (r = { attempts: 0, okSeqAtFirst: this.okSeq }));
    r.attempts++;
    const infrastructure = looksLikeInfrastructure(err);
    const environmentWorks = okInBatch || this.okSeq > r.okSeqAtFirst;
    return { attempts: r.attempts, infrastructure, deadLetter: !infrastructure && r.attempts >= (this.opts.poisonRetries ?? 5) && environmentWorks };
  }

  /** Failed attempts of a record so far (0 when none). */
  attemptsOf(topic: string, partition: number, offset: string): number {
    return this.parts.get(key(topic, partition))?.records.get(offset)?.attempts ?? 0;
  }

  /**
   * A batch attempt of the partition failed. `offset`: the record it was pinned on, if any; `lastOffset`: the
   * batch's last record. Returns the partition's failures in a row and the backoff before the next attempt.
   */
  batchFailed(topic: string, partition: number, err: unknown, offset: string | undefined, lastOffset: string): { failures: number; backoffMs: number } {
    const s = this.state(topic, partition);
    const now = this.now();
    if (s.failures === 0) s.since = now;
    s.failures++;
    s.lastAt = now;
    s.code = errorCodeOf(err);
    s.message = err instanceof Error ? err.message : String(err);
    s.offset = offset;
    if (offset === undefined && !looksLikeInfrastructure(err)) {
      // Retried once as a whole first (it may have been a hiccup); on a repeat, one record at a time.
      if (++s.batchLevel >= 2) {
        const last = BigInt(lastOffset);
        if (s.isolateUntil === undefined || s.isolateUntil < last) s.isolateUntil = last;
      }
    } else {
      s.batchLevel = 0;
    }
    return { failures: s.failures, backoffMs: backoffMs(s.failures) };
  }

  /** A batch of the partition up to `lastOffset` committed: it flows again. */
  batchSucceeded(topic: string, partition: number, lastOffset: string): void {
    const k = key(topic, partition);
    const s = this.parts.get(k);
    if (!s) return;
    if (s.isolateUntil !== undefined && BigInt(lastOffset) < s.isolateUntil) {
      // Still inside the range handled record by record: keep that mode, forget the failures.
      s.failures = 0;
      s.batchLevel = 0;
      s.records.clear();
      s.offset = undefined;
      return;
    }
    this.parts.delete(k);
  }

  /** Whether the partition's batch starting at `firstOffset` is to be handled one record at a time. */
  isolating(topic: string, partition: number, firstOffset: string): boolean {
    const until = this.parts.get(key(topic, partition))?.isolateUntil;
    return until !== undefined && BigInt(firstOffset) <= until;
  }

  /** Forgets a partition (revoked, or its batch is being written by someone else now). */
  forget(topic: string, partition: number): void {
    this.parts.delete(key(topic, partition));
  }

  /** Partitions failing right now (any duration), oldest first. */
  failing(): StuckPartition[] {
    const now = this.now();
    const staleMs = this.opts.staleMs ?? 60_000;
    const out: StuckPartition[] = [];
    for (const [k, s] of this.parts) {
      if (now - s.lastAt > staleMs) {
        this.parts.delete(k);
        continue;
      }
      if (s.failures === 0) continue;
      out.push({
        topic: s.topic, partition: s.partition, sinceMs: s.since, stuckMs: now - s.since, failures: s.failures,
        ...(s.offset === undefined ? {} : { offset: s.offset }), code: s.code, message: s.message,
      });
    }
    return out.sort((a, b) => a.sinceMs - b.sinceMs);
  }

  /** Partitions stuck for longer than `stuckReadyMs`. */
  stuck(): StuckPartition[] {
    return this.failing().filter((p) => p.stuckMs > (this.opts.stuckReadyMs ?? 30_000));
  }
}

export function errorCodeOf(err: unknown): string {
  return isPipelineError(err) ? err.code : 'UNKNOWN';
}

/** Pipeline error codes that name infrastructure (Kafka, the schema registry), never one record. */
const INFRA_CODES: ReadonlySet<string> = new Set(['KAFKA_UNAVAILABLE', 'KAFKA_QUEUE_FULL', 'KAFKA_PRODUCE_FAILED', 'SCHEMA_REGISTRY']);

/** Node system, undici and postgres connection error codes. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTCONN',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
]);

/**
 * Messages of a dependency that is away or refusing everyone: ioredis when disconnected (no offline
 * queue) or timed out, and Redis replies that concern the server, not the command (loading, read-only
 * replica, out of memory, busy script, cluster/sentinel down, authentication).
 */
const INFRA_MESSAGE = /Connection is closed|Stream isn't writeable|max retries per request|Command timed out|Connection timeout|socket hang up|^(ERR )?(OOM|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|NOAUTH|WRONGPASS|NOPERM)\b/i;

/**
 * Whether `err` (or anything in its `cause` chain) looks like the infrastructure being down rather than
 * one record failing: such errors are retried, and stop the process after maxRetries, but never
 * dead-letter a record.
 */
export function looksLikeInfrastructure(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e !== null && e !== undefined; depth++) {
    if (isPipelineError(e) && INFRA_CODES.has(e.code)) return true;
    if (typeof e === 'object') {
      const o = e as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
      if (typeof o.code === 'string' && CONNECTION_CODES.has(o.code)) return true;
      if (o.name === 'MaxRetriesPerRequestError') return true;
      if (typeof o.message === 'string' && INFRA_MESSAGE.test(o.message)) return true;
      // AggregateError (e.g. every address of a host refused the connection).
      if (Array.isArray(o.errors) && o.errors.some((x) => looksLikeInfrastructure(x))) return true;
      e = o.cause;
    } else {
      return false;
    }
  }
  return false;
}
