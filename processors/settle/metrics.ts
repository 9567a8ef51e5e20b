/** The settle service's domain metrics (the runner adds the standard processor set). */
import { Counter, type Registry } from 'prom-client';

export type ReservationOutcome = 'settled' | 'duplicate' | 'unknown' | 'released' | 'invalid';

export interface SettleMetrics {
  /**
   * settled: a WIN/BILLING notice ended a pending reservation; duplicate: it was already settled;
   * unknown: no pending reservation (never made, or released before the notice came);
   * released: never won, spend given back; invalid: an undecodable pending member removed.
   */
  reservations: Counter<'result'>;
  releaseRuns: Counter<'outcome'>;
}

export function createSettleMetrics(registry: Registry): SettleMetrics {
  return {
    reservations: new Counter({ name: 'settle_reservations_total', help: 'Pending reservations by result: settled, duplicate, unknown, released, invalid', labelNames: ['result'], registers: [registry] }),
    releaseRuns: new Counter({ name: 'settle_release_runs_total', help: 'Periodic release runs by outcome (ok, error)', labelNames: ['outcome'], registers: [registry] }),
  };
}
