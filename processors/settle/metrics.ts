/** The settle service's domain metrics (the runner adds the standard processor set). */
import { Counter, type Registry } from 'prom-client';

export type ReservationOutcome = 'settled' | 'duplicate' | 'charged' | 'adjusted' | 'released' | 'invalid' | 'test';

export interface SettleMetrics {
  /**
   * settled: a WIN/BILLING notice ended a pending reservation, adjusted to its cost; duplicate: it was
   * already settled (or billed); adjusted: a BILLING after the WIN set the spend to the billed cost;
   * charged: the notice came after its reservation was released or expired, and its cost was charged;
   * released: never won, spend given back; invalid: an undecodable pending member or state;
   * test: a notice of test traffic, left alone.
   */
  reservations: Counter<'result'>;
  releaseRuns: Counter<'outcome'>;
  /** Loss notices by result: released (its reservation freed at once), not_pending (won, released or expired already), test. */
  lossNotices: Counter<'result'>;
  /** Impressions and clicks fed to the performance counters: counted, duplicate (event id seen), test. */
  perfEvents: Counter<'type' | 'result'>;
}

export function createSettleMetrics(registry: Registry): SettleMetrics {
  return {
    reservations: new Counter({ name: 'settle_reservations_total', help: 'Reservations by result: settled, duplicate, adjusted, charged, released, invalid, test', labelNames: ['result'], registers: [registry] }),
    releaseRuns: new Counter({ name: 'settle_release_runs_total', help: 'Periodic release runs by outcome (ok, error)', labelNames: ['outcome'], registers: [registry] }),
    lossNotices: new Counter({ name: 'settle_loss_notices_total', help: 'Loss notices by result: released, not_pending, test', labelNames: ['result'], registers: [registry] }),
    perfEvents: new Counter({ name: 'settle_perf_events_total', help: 'Impression and click notices fed to the performance counters, by type and result: counted, duplicate, test', labelNames: ['type', 'result'], registers: [registry] }),
  };
}
