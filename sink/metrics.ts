/** The sink's Prometheus metrics (snake_case, unit suffixes), registered on the service's registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '../processors/runtime/metrics.js';

export type SinkMetrics = ReturnType<typeof createSinkMetrics>;

export function createSinkMetrics(registry: Registry) {
  const registers = [registry];
  return {
    recordsIn: new Counter({ name: 'sink_records_in_total', help: 'window-counts records consumed (each batch counted once, when it commits)', registers }),
    recordsApplied: new Counter({ name: 'sink_records_applied_total', help: 'Parts newly added to window_counts (inserted into the ledger)', registers }),
    recordsSkipped: new Counter({ name: 'sink_records_skipped_total', help: 'Parts not added: already in the ledger (duplicate) or below the stored position (redelivered)', labelNames: ['reason'], registers }),
    rowsWritten: new Counter({ name: 'sink_rows_written_total', help: 'window_counts rows inserted or updated', registers }),
    batchSeconds: new Histogram({ name: 'sink_batch_duration_seconds', help: 'Batch time: decode, dead letters and the Postgres transaction', buckets: LATENCY_BUCKETS, registers }),
    batchSize: new Histogram({ name: 'sink_batch_records', help: 'Records per applied batch', buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 5000], registers }),
    zombieRejections: new Counter({ name: 'sink_zombie_rejections_total', help: 'Batches rejected by the sink_offsets compare-and-set (another owner or a replay moved the position): nothing written', registers }),
    deadLetters: new Counter({ name: 'sink_dead_letters_total', help: 'Records sent to the dead-letter topic', labelNames: ['code'], registers }),
    errors: new Counter({ name: 'sink_errors_total', help: 'Failed batch attempts by error code', labelNames: ['code'], registers }),
    assignments: new Counter({ name: 'sink_partition_assignments_total', help: 'Partitions assigned (each sought to its Postgres offset) or revoked', labelNames: ['event'], registers }),
    lag: new Gauge({ name: 'sink_consumer_lag_records', help: 'High watermark minus the next offset to apply, per partition', labelNames: ['partition'], registers }),
  };
}
