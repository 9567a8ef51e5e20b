/** Series from a service's /metrics (via processors/runtime/metrics-scrape.ts): the edge's counters and the batch histograms. */
import { scrapeSamples, sumSamples } from '../../processors/runtime/metrics-scrape.js';

/** Values by name (labelled series summed; `name{label="value"}` selects one label); null when failed or absent. */
export async function scrapeMetrics(baseUrl: string, names: readonly string[]): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = Object.fromEntries(names.map((n) => [n, null]));
  try {
    const samples = await scrapeSamples(baseUrl, 5000);
    for (const n of names) {
      const [, name, label, value] = /^([^{]+)(?:\{(\w+)="([^"]*)"\})?$/.exec(n) ?? [];
      out[n] = sumSamples(samples, name ?? n, label === undefined ? {} : { [label]: value! }) ?? null;
    }
  } catch {
    // the service is gone or slow: every value stays null
  }
  return out;
}

export const batchSeries = (kind: 'processor' | 'sink' = 'processor'): string[] =>
  [`${kind}_batch_duration_seconds_sum`, `${kind}_batch_duration_seconds_count`, `${kind}_batch_records_sum`];
export const BATCH_SERIES = [...batchSeries(), 'processor_records_in_total'];

export interface BatchStats {
  stage: string;
  batches: number;
  records: number;
  recordsPerBatch: number | null;
  meanBatchMs: number | null;
  busyShare: number | null;
}

type Scrape = Record<string, number | null>;

/** Per series, after - before; null without both (with `zero`, absent before counts as 0). */
export const metricDeltas = (names: readonly string[], before: Scrape = {}, after: Scrape = {}, zero = false): Scrape =>
  Object.fromEntries(names.map((k) => [k, after[k] != null && (zero || before[k] != null) ? after[k]! - (before[k] ?? 0) : null]));

/** Batch statistics between two scrapes `wallSec` apart (absent before counts as 0). */
export function batchDelta(stage: string, before: Scrape, after: Scrape, wallSec: number, kind: 'processor' | 'sink' = 'processor'): BatchStats {
  const [seconds, batches, records] = batchSeries(kind).map((k) => (after[k] ?? 0) - (before[k] ?? 0)) as [number, number, number];
  const r = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
  return {
    stage, batches, records,
    recordsPerBatch: batches ? r(records / batches, 2) : null,
    meanBatchMs: batches ? r((seconds / batches) * 1000, 2) : null,
    busyShare: wallSec > 0 ? r(seconds / wallSec, 3) : null,
  };
}
