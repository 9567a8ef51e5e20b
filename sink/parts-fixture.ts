/**
 * Test support: a tiny model of the aggregate. `events` gives every input offset of a source partition
 * one event (a key and counters); `aggregateBatches` sums them per key over batch boundaries into
 * WindowCount parts, as the aggregate does, so tests can re-aggregate a range with other boundaries.
 * `totalsOf` is the clean-pass truth to compare Postgres against; `readTotals` reads Postgres, `appliedParts`
 * counts its ledger.
 */
import type { WindowCount } from '../schemas/tracking-event.js';
import type { Sql } from './migrate.js';
import { COUNTERS, COUNTER_COLUMNS } from './part-rows.js';

type CounterField = (typeof COUNTERS)[number][0];
export type Counters = Record<CounterField, number>;
export interface SourceEvent {
  offset: number;
  campaignId: string;
  creativeId: string;
  windowStartMs: number;
  counters: Counters;
}

export { mulberry32 as rng } from '../processors/runtime/seeded-random.js';

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
      windowStartMs: T0 + int(30) * WINDOW_MS, // spans midnight UTC: two days
      counters,
    };
  });
}

const keyOf = (p: { campaignId: string; creativeId: string; windowStartMs: number }, windowMs = WINDOW_MS): string =>
  `${p.campaignId}|${p.creativeId}|${p.windowStartMs}|${windowMs}`;

/** Sums `evs` (one source partition, ascending offsets) per key within each batch; `bounds` = first offsets of the batches. */
export function aggregateBatches(evs: readonly SourceEvent[], bounds: readonly number[], sourceTopic: string, sourcePartition: number): WindowCount[] {
  const out: WindowCount[] = [];
  const starts = [...bounds].sort((a, b) => a - b);
  starts.forEach((first, i) => {
    const end = starts[i + 1] ?? Number.MAX_SAFE_INTEGER;
    const batch = evs.filter((e) => e.offset >= first && e.offset < end);
    if (batch.length === 0) return;
    const lastOffset = batch[batch.length - 1]!.offset;
    const sums = new Map<string, WindowCount>();
    for (const e of batch) {
      let p = sums.get(keyOf(e));
      if (!p) {
        p = { campaignId: e.campaignId, creativeId: e.creativeId, windowStartMs: e.windowStartMs, windowMs: WINDOW_MS, requests: 0, bids: 0, wins: 0, winCostMicros: 0, spendMicros: 0, clearingPriceMicros: 0, impressions: 0, clicks: 0, conversions: 0, sourceTopic, sourcePartition, firstOffset: first, lastOffset };
        sums.set(keyOf(e), p);
      }
      for (const [f] of COUNTERS) p[f] += e.counters[f];
    }
    out.push(...sums.values());
  });
  return out;
}

/** Per key `campaign|creative|windowStart|windowMs`: the counters in column order, as strings. */
export type Totals = Map<string, string>;

export function totalsOf(parts: ReadonlyArray<Pick<WindowCount, 'campaignId' | 'creativeId' | 'windowStartMs' | 'windowMs' | CounterField>>): Totals {
  const acc = new Map<string, number[]>();
  for (const p of parts) {
    const k = keyOf(p, p.windowMs);
    const v = acc.get(k) ?? COUNTERS.map(() => 0);
    COUNTERS.forEach(([f], i) => (v[i]! += p[f]));
    acc.set(k, v);
  }
  return new Map([...acc].filter(([, v]) => v.some((x) => x !== 0)).map(([k, v]) => [k, v.join(',')]));
}

export async function readTotals(sql: Sql): Promise<Totals> {
  const rows = await sql.unsafe<Array<{ k: string; v: string }>>(
    `select campaign_id || '|' || creative_id || '|' || window_start_ms || '|' || window_ms as k, concat_ws(',', ${COUNTER_COLUMNS.join(', ')}) as v from window_counts`,
  );
  return new Map(rows.map((r) => [r.k, r.v]));
}

/** Ledger rows (applied or superseded parts). */
export async function appliedParts(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: string }[]>`select count(*) as n from window_count_parts`;
  return Number(row?.n ?? 0);
}
