/**
 * The contract between a processor and the runner. A processor never touches Kafka: it receives
 * decoded records and returns records to write. The runner decodes, encodes, batches, commits
 * output and input offsets in one Kafka transaction, dead-letters bad records and measures.
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

export interface Processor<T, Ctx = void> {
  /** Also the consumer group (`rtb-<name>`) and the metrics label. */
  readonly name: string;
  readonly input: string;
  /** Topics this processor writes (created and their schemas registered at start). */
  readonly outputs: readonly string[];
  /** Called once before consuming starts (e.g. load a catalogue); consuming waits for it. */
  init?(): Promise<void>;
  /** Optional batch-level I/O (e.g. one pipelined Redis round trip for the whole batch). A throw fails the batch. */
  prepare?(records: readonly InRecord<T>[]): Promise<Ctx>;
  /**
   * One record in, zero or more records out. Throwing a non-retryable PipelineError dead-letters this
   * record; a retryable one fails the batch, which is retried (and the process exits when retries run out).
   */
  process(record: InRecord<T>, ctx: Ctx): OutRecord[] | Promise<OutRecord[]>;
  close?(): Promise<void>;
}
