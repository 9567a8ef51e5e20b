/**
 * Test support: a tiny model of the aggregate. `events` gives every input offset of a source partition
 * one event (a key with its dimensions: deal, test flag, privacy basis, currency; and counters); `aggregateBatches` sums them per key over batch boundaries into
 * WindowCount parts, as the aggregate does, so tests can re-aggregate a range with other boundaries.
 * `totalsOf` is the clean-pass truth to compare Postgres against; `readTotals` reads Postgres, `appliedParts` its ledger.
 */
import type { WindowCount } from '../../schemas/tracking-event.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import { COUNTERS, COUNTER_COLUMNS, KEY_COLUMNS, complete } from '../../sink/part-rows.js';

type CounterField = (typeof COUNTERS)[number][0];
export type Counters = Record<CounterField, number>;
type Dimensions = Required<Pick<WindowCount, 'dealId' | 'test' | 'privacyBasis' | 'currency'>>;
export interface SourceEvent extends Dimensions {
  offset: number;
  campaignId: string;
  creativeId: string;
  windowStartMs: number;
  counters: Counters;
}

/** A few values per dimension: enough for rows that differ only in one of them to exist side by side. */
export function dimensions(random: () => number, all = false): Dimensions {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  return { dealId: all ? '' : pick(['', 'deal-1', 'deal-2']), test: random() < 0.2, privacyBasis: pick(['', 'consent', 'coppa']), currency: pick(['USD', 'EUR']) };
}

export { mulberry32 as rng } from '../runtime/seeded-random.js';

export const WINDOW_MS = 60_000;
const T0 = Date.UTC(2026, 10, 22, 23, 50);

export function events(random: () => number, prefix: string, count: number, fromOffset = 0): SourceEvent[] {
  const int = (n: number): number => Math.floor(random() * n);
  return Array.from({ length: count }, (_, i) => {
    const all = random() < 0.2;
    const counters = Object.fromEntries(COUNTERS.map(([f]) => [f, int(4)])) as Counters;
    if (all) counters.requests = 1 + int(3);
    else counters.requests = 0;
    counters.winCostMicros = int(5_000_000);
    return {
      offset: fromOffset + i,
      campaignId: all ? '*' : `${prefix}-c${int(6)}`,
      creativeId: all ? '' : `k${int(3)}`,
      ...dimensions(random, all),
      windowStartMs: T0 + int(30) * WINDOW_MS, // spans midnight UTC: two days
      counters,
    };
  });
}

type Keyed = Pick<WindowCount, 'campaignId' | 'creativeId' | 'dealId' | 'test' | 'privacyBasis' | 'currency' | 'windowStartMs'>;
/** The summary key as readTotals spells it: every key column, the dimensions with their Avro defaults when absent. */
const keyOf = (p: Keyed, windowMs = WINDOW_MS): string =>
  [p.campaignId, p.creativeId, p.dealId ?? '', p.test ? 't' : 'f', p.privacyBasis ?? '', p.currency ?? 'USD', p.windowStartMs, windowMs].join('|');

/** Sums `evs` (one source partition, ascending offsets) per key within each batch; `bounds` = first offsets of the batches. */
export function aggregateBatches(evs: readonly SourceEvent[], bounds: readonly number[], sourceTopic: string, sourcePartition: number): WindowCount[] {
  const out: WindowCount[] = [];
  const starts = [...bounds].sort((a, b) => a - b);
  starts.forEach((first, i) => {
    const end = starts[i + 1] ?? Number.MAX_SAFE_INTEGER;
    const batch = evs.filter((e) => e.offset >= first && e.offset < end);
    if (batch.length === 0) return;
    const lastOffset = batch[batch.length - 1]!.offset;
    const sums = new Map<string, Required<WindowCount>>();
    for (const e of batch) {
      let p = sums.get(keyOf(e));
      if (!p) {
        p = complete({
          campaignId: e.campaignId, creativeId: e.creativeId, dealId: e.dealId, test: e.test, privacyBasis: e.privacyBasis, currency: e.currency, windowStartMs: e.windowStartMs, windowMs: WINDOW_MS,
          requests: 0, bids: 0, wins: 0, winCostMicros: 0, spendMicros: 0, clearingPriceMicros: 0, impressions: 0, clicks: 0, conversions: 0, sourceTopic, sourcePartition, firstOffset: first, lastOffset,
        });
        sums.set(keyOf(e), p);
      }
      for (const [f] of COUNTERS) p[f] += e.counters[f];
    }
    out.push(...sums.values());
  });
  return out;
}

/** Per key `campaign|creative|deal|test|basis|currency|windowStart|windowMs`: the counters in column order, as strings. */
export type Totals = Map<string, string>;

export function totalsOf(parts: ReadonlyArray<Keyed & Pick<WindowCount, 'windowMs' | CounterField>>): Totals {
  const acc = new Map<string, number[]>();
  for (const p of parts) {
    const k = keyOf(p, p.windowMs);
    const v = acc.get(k) ?? COUNTERS.map(() => 0);
    COUNTERS.forEach(([f], i) => (v[i]! += p[f] ?? 0));
    acc.set(k, v);
  }
  return new Map([...acc].filter(([, v]) => v.some((x) => x !== 0)).map(([k, v]) => [k, v.join(',')]));
}

export async function readTotals(sql: Sql): Promise<Totals> {
  const rows = await sql.unsafe<Array<{ k: string; v: string }>>(
    `select concat_ws('|', ${KEY_COLUMNS.join(', ')}) as k, concat_ws(',', ${COUNTER_COLUMNS.join(', ')}) as v from window_counts`,
  );
  return new Map(rows.map((r) => [r.k, r.v]));
}

/** Ledger rows (applied or superseded parts). */
export async function appliedParts(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*) as n from window_count_parts`;
  return Number(row?.n ?? 0);
}
