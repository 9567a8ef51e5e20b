/** Prometheus metrics: one registry per process with the default Node metrics, labelled by service; the standard metrics of a batch-consuming stage. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Latency buckets in seconds, from 100 µs to 10 s. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Records-per-batch buckets (the runner's batches of up to PROCESSOR_MAX_BATCH, the sink's of up to SINK_MAX_BATCH). */
export const BATCH_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000];

/**
 * The standard metrics of a stage that consumes in batches: the runner's `processor_*` and the sink's
 * `sink_*` (records consumed, batch time and size, failed attempts and dead letters by error code, lag
 * per partition). `labels` are on every series: the runner's `processor`; none for the sink.
 */
export function createStageMetrics(registry: Registry, prefix: string, labels: Readonly<Record<string, string>> = {}) {
  const base = Object.keys(labels);
  const registers = [registry];
  const recordsIn = new Counter({ name: `${prefix}_records_in_total`, help: 'Records consumed (counted when their batch is written)', labelNames: base, registers });
  const batchSeconds = new Histogram({ name: `${prefix}_batch_duration_seconds`, help: 'Batch time: decode, process or apply, and the commit', labelNames: base, buckets: LATENCY_BUCKETS, registers });
  const batchRecords = new Histogram({ name: `${prefix}_batch_records`, help: 'Records per batch', labelNames: base, buckets: BATCH_BUCKETS, registers });
  const errors = new Counter({ name: `${prefix}_errors_total`, help: 'Failed batch attempts by error code', labelNames: [...base, 'code'], registers });
  const deadLetters = new Counter({ name: `${prefix}_dead_letters_total`, help: 'Records sent to the dead-letter topic', labelNames: [...base, 'code'], registers });
  const lag = new Gauge({ name: `${prefix}_consumer_lag_records`, help: 'High watermark minus the next offset to read, per partition', labelNames: [...base, 'partition'], registers });
  return {
    recordsIn: (n: number): void => recordsIn.inc(labels, n),
    /** Starts timing a batch; call the result when it is written. */
    batchTimer: (): (() => number) => batchSeconds.startTimer(labels),
    batchRecords: (n: number): void => batchRecords.observe(labels, n),
    error: (code: string): void => errors.inc({ ...labels, code }),
    deadLetter: (code: string): void => deadLetters.inc({ ...labels, code }),
    lag: (partition: number, records: number): void => lag.set({ ...labels, partition: String(partition) }, records),
    /** The partition is no longer this process's. */
    dropLag: (partition: number): void => lag.remove({ ...labels, partition: String(partition) }),
  };
}

export type StageMetrics = ReturnType<typeof createStageMetrics>;
