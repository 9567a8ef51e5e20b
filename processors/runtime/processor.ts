/**
 * The contract between a processor and the runner. A processor never touches Kafka: it receives
 * decoded records and returns records to write. The runner decodes, encodes, batches, writes the
 * outputs and commits the input offsets (see Delivery), dead-letters bad records and measures.
 */
export interface InRecord<T> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  /** Kafka record timestamp, UTC ms. */
  readonly timestampMs: number;
}

export interface OutRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: unknown;
}

/** Which input records a batch covered: one partition, first to last offset inclusive. */
export interface BatchInfo {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
}

/**
 * How the runner writes a processor's outputs and commits its input offsets.
 *  - `exactly-once`: outputs and input offsets in one Kafka transaction; consumers read_committed.
 *    For processors whose outputs are summed (aggregate) or whose effects are not idempotent.
 *  - `at-least-once`: outputs produced by an idempotent producer without a transaction, input offsets
 *    stored after every output of the batch was acknowledged and committed every few ms; consumers read
 *    uncommitted. A crash re-processes (and re-emits) at most the records since the last commit, so
 *    only for processors whose effects are idempotent and whose duplicates are removed downstream
 *    (the decision hops: README "Topics and their guarantees"). A hop costs a produce acknowledgement
 *    instead of a transaction commit plus read_committed visibility.
 */
export type Delivery = 'exactly-once' | 'at-least-once';

export interface Processor<T, Ctx = void> {
  /** Also the consumer group (`rtb-<name>`) and the metrics label. */
  readonly name: string;
  /** The guarantee this processor is written for (default exactly-once). At-least-once may be strengthened by configuration, never the reverse. */
  readonly delivery?: Delivery;
  /**
   * The records of one batch may be processed concurrently (their `process` calls overlap; outputs keep
   * the input order). For processors that wait on I/O per record whose correctness does not depend on
   * the order of those waits (the auction's reservations are atomic each). Default: one after another.
   */
  readonly concurrentRecords?: boolean;
  /** The topic(s) consumed; records of every input arrive through `process` with their topic. */
  readonly input: string | readonly string[];
  /** Topics this processor writes (created and their schemas registered at start). */
  readonly outputs: readonly string[];
  /** Called once before consuming starts (e.g. load a catalogue); consuming waits for it. */
  init?(): Promise<void>;
  /** Optional batch-level I/O (e.g. one pipelined Redis round trip for the whole batch). A throw fails the batch. */
  prepare?(records: readonly InRecord<T>[]): Promise<Ctx>;
  /**
   * One record in, zero or more records out. Throwing a non-retryable PipelineError dead-letters this
   * record; a retryable one (or any other error) fails the batch, which is retried with backoff while the
   * other partitions go on (the process exits when one partition's retries run out). A record that keeps
   * failing on its own (PROCESSOR_POISON_RETRIES times, with an error that does not look like the
   * infrastructure being down, while other records go through) is dead-lettered with its attempts
   * instead (runtime/partition-failures.ts).
   */
  process(record: InRecord<T>, ctx: Ctx): OutRecord[] | Promise<OutRecord[]>;
  /**
   * Optional: records to write once per batch, after every record was processed (e.g. partial sums
   * over the batch). They commit in the same transaction as the batch's offsets.
   */
  flush?(ctx: Ctx, batch: BatchInfo): OutRecord[] | Promise<OutRecord[]>;
  close?(): Promise<void>;
}
