/**
 * The bidder's currency rate table (domain/currency.ts), loaded from a file (BID_FX_RATES_FILE) or a URL
 * (BID_FX_RATES_URL; the URL wins when both are set) and re-read every BID_FX_REFRESH_MS.
 *
 * - At start the table must load: a bad file or URL stops the service with one line saying what is wrong
 *   (a bidder silently answering USD-only would lose every non-USD floor without anyone noticing).
 * - A failed refresh keeps the last good table; it is logged and counted (bid_fx_refresh_failures_total).
 * - The table in use is older than BID_FX_MAX_AGE_MS (by its asOfMs): `usable` withholds it, so only USD
 *   is bid (floors in other currencies: currency_unsupported) until a fresh one arrives. Its age is the
 *   gauge bid_fx_rates_age_seconds.
 * - Nothing configured: no table, only USD works.
 */
import { readFile } from 'node:fs/promises';
import { parseRateTable, type RateTable } from '../domain/currency.js';

export interface FxSource {
  readonly file: string;
  readonly url: string;
}

/** Reads and parses the configured source; throws an Error whose message says which source and what is wrong. */
export async function fetchRateTable(source: FxSource, timeoutMs = 5_000): Promise<RateTable> {
  const where = source.url !== '' ? source.url : source.file;
  let text: string;
  try {
    if (source.url !== '') {
      const res = await fetch(source.url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } else {
      text = await readFile(source.file, 'utf8');
    }
  } catch (err) {
    throw new Error(`currency rates ${where}: cannot read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`currency rates ${where}: not JSON`);
  }
  const parsed = parseRateTable(doc);
  if (!parsed.ok) throw new Error(`currency rates ${where}: ${parsed.error}`);
  return parsed.table;
}

export interface FxRatesOptions {
  readonly source: FxSource;
  readonly refreshMs: number;
  readonly maxAgeMs: number;
  readonly onRefreshError?: (err: Error) => void;
}

export class FxRates {
  #table: RateTable | null = null;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FxRatesOptions) {}

  get configured(): boolean {
    return this.options.source.file !== '' || this.options.source.url !== '';
  }

  /** Loads the first table (throws when it cannot) and starts refreshing; nothing to do when unconfigured. */
  async start(): Promise<void> {
    if (!this.configured) return;
    this.#table = await fetchRateTable(this.options.source);
    this.#timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.#timer.unref();
  }

  /** One refresh; a failure keeps the last good table. */
  async refresh(): Promise<void> {
    try {
      this.#table = await fetchRateTable(this.options.source);
    } catch (err) {
      this.options.onRefreshError?.(err as Error);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The table to decide with at `nowMs`: null when there is none or it is older than the maximum age. */
  usable(nowMs: number): RateTable | null {
    const t = this.#table;
    return t !== null && nowMs - t.asOfMs <= this.options.maxAgeMs ? t : null;
  }

  /** Age of the table in ms by its asOfMs; +Infinity without one. */
  ageMs(nowMs: number): number {
    return this.#table === null ? Infinity : Math.max(0, nowMs - this.#table.asOfMs);
  }
}
