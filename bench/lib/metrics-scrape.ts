/**
 * Reads series from a service's Prometheus /metrics text: the edge's sync counters, and the runner's
 * batch histograms (processor_batch_duration_seconds, processor_batch_records), whose deltas over a run
 * say how many partition batches a stage handled, how big they were and how much of the run it spent in them.
 * The scrape and the parsing are processors/runtime/metrics-scrape.ts's, shared with the tests.
 */
import { scrapeSamples, sumSamples } from '../../processors/runtime/metrics-scrape.js';

/**
 * Values by metric name; labelled series of one name are summed; null when the scrape failed or the series
 * is absent. A name may select by one label, `name{label="value"}` (e.g. `ingest_requests_total{status="202"}`).
 */
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

/** The batch histogram series of the runner (`processor`, as processors/runtime/runner.ts names them) or of the sink. */
export const batchSeries = (kind: 'processor' | 'sink' = 'processor'): string[] =>
  [`${kind}_batch_duration_seconds_sum`, `${kind}_batch_duration_seconds_count`, `${kind}_batch_records_sum`];
export const BATCH_SERIES = [...batchSeries(), 'processor_records_in_total'];

export interface BatchStats {
  stage: string;
  /** Partition batches completed during the run (one transaction each with one batch at a time; shared under group commit). */
  batches: number;
  records: number;
  recordsPerBatch: number | null;
  meanBatchMs: number | null;
  /** Time inside batches / wall time of the run: near 1 with one batch at a time means saturated; above 1, batches overlap. */
  busyShare: number | null;
}

type Scrape = Record<string, number | null>;

/** Per series, after - before; null without both readings (or, with `zero`, without the one after: absent before counts as 0). */
export const metricDeltas = (names: readonly string[], before: Scrape = {}, after: Scrape = {}, zero = false): Scrape =>
  Object.fromEntries(names.map((k) => [k, after[k] != null && (zero || before[k] != null) ? after[k]! - (before[k] ?? 0) : null]));

/** The batch statistics between two scrapes `wallSec` apart (a series absent before, from a service that has run no batch yet, counts as 0). */
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
