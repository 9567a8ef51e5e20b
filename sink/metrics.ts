/**
 * The sink's Prometheus metrics: the standard ones of a batch-consuming stage, as the runner has them
 * (processors/runtime/metrics.ts `createStageMetrics`: sink_records_in_total, sink_batch_duration_seconds,
 * sink_batch_records, sink_errors_total, sink_dead_letters_total, sink_consumer_lag_records), and its own.
 */
import { Counter, type Registry } from 'prom-client';
import { createStageMetrics } from '../processors/runtime/metrics.js';

export type SinkMetrics = ReturnType<typeof createSinkMetrics>;

export function createSinkMetrics(registry: Registry) {
  const registers = [registry];
  return {
    std: createStageMetrics(registry, 'sink'),
    recordsApplied: new Counter({ name: 'sink_records_applied_total', help: 'Parts newly added to window_counts (inserted into the ledger)', registers }),
    recordsSkipped: new Counter({ name: 'sink_records_skipped_total', help: 'Parts not added: already in the ledger (duplicate) or below the stored position (redelivered)', labelNames: ['reason'], registers }),
    rowsWritten: new Counter({ name: 'sink_rows_written_total', help: 'window_counts rows inserted or updated', registers }),
    zombieRejections: new Counter({ name: 'sink_zombie_rejections_total', help: 'Batches rejected by the sink_offsets compare-and-set (another owner or a replay moved the position): nothing written', registers }),
    assignments: new Counter({ name: 'sink_partition_assignments_total', help: 'Partitions assigned (each sought to its Postgres offset) or revoked', labelNames: ['event'], registers }),
  };
}
