/**
 * Pure helpers between WindowCount records and the SQL of the writer: the counter columns (named once
 * here, so the tables, the sums and the upsert cannot drift apart), validation of a decoded part, and
 * the column arrays a whole batch is sent as (one `unnest` per statement, however many rows).
 */
import type { WindowCount } from '../schemas/tracking-event.js';

/** The additive counters: record field -> column. Order is the column order everywhere. */
export const COUNTERS = [
  ['requests', 'requests'],
  ['bids', 'bids'],
  ['wins', 'wins'],
  ['winCostMicros', 'win_cost_micros'],
  ['spendMicros', 'spend_micros'],
  ['clearingPriceMicros', 'clearing_price_micros'],
  ['impressions', 'impressions'],
  ['clicks', 'clicks'],
  ['conversions', 'conversions'],
] as const satisfies ReadonlyArray<readonly [keyof WindowCount, string]>;

export const COUNTER_COLUMNS: readonly string[] = COUNTERS.map(([, column]) => column);

/** The summary key of window_counts (and the ON CONFLICT target of the upsert). */
export const KEY_COLUMNS = ['campaign_id', 'creative_id', 'window_start_ms', 'window_ms'] as const;

/** A part as read from window-counts: the record and where it sat. */
export interface PartAt {
  readonly part: WindowCount;
  /** Its window-counts offset. */
  readonly offset: bigint;
  /** Its Kafka timestamp, UTC ms. */
  readonly timestampMs: number;
}

const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Why a decoded part cannot be applied (bad data: dead-letter it), or null when it is fine. */
export function invalidPart(p: WindowCount): string | null {
  if (typeof p.campaignId !== 'string' || p.campaignId.length === 0) return 'campaignId is empty';
  if (!isCount(p.windowStartMs)) return 'windowStartMs must be a non-negative integer';
  if (!Number.isSafeInteger(p.windowMs) || p.windowMs <= 0) return 'windowMs must be a positive integer';
  for (const [field] of COUNTERS) if (!isCount(p[field])) return `${field} must be a non-negative integer`;
  if (typeof p.sourceTopic !== 'string' || p.sourceTopic.length === 0) return 'sourceTopic is empty';
  if (!isCount(p.sourcePartition)) return 'sourcePartition must be a non-negative integer';
  if (!isCount(p.firstOffset) || !isCount(p.lastOffset)) return 'firstOffset and lastOffset must be non-negative integers';
  if (p.lastOffset < p.firstOffset) return `lastOffset ${p.lastOffset} is before firstOffset ${p.firstOffset}`;
  return null;
}

/** The batch as column arrays, in the order of `PART_COLUMNS`. Longs go as strings: Postgres casts them exactly. */
export interface PartColumns {
  readonly campaignId: string[];
  readonly creativeId: string[];
  readonly windowStartMs: string[];
  readonly windowMs: number[];
  readonly counters: string[][];
  readonly sourceTopic: string[];
  readonly sourcePartition: number[];
  readonly firstOffset: string[];
  readonly lastOffset: string[];
  readonly wcOffset: string[];
  readonly wcTimestampMs: string[];
}

export function toColumns(parts: readonly PartAt[]): PartColumns {
  const cols: PartColumns = {
    campaignId: [], creativeId: [], windowStartMs: [], windowMs: [], counters: COUNTERS.map(() => []),
    sourceTopic: [], sourcePartition: [], firstOffset: [], lastOffset: [], wcOffset: [], wcTimestampMs: [],
  };
  for (const { part: p, offset, timestampMs } of parts) {
    cols.campaignId.push(p.campaignId);
    cols.creativeId.push(p.creativeId);
    cols.windowStartMs.push(String(p.windowStartMs));
    cols.windowMs.push(p.windowMs);
    COUNTERS.forEach(([field], i) => cols.counters[i]!.push(String(p[field])));
    cols.sourceTopic.push(p.sourceTopic);
    cols.sourcePartition.push(p.sourcePartition);
    cols.firstOffset.push(String(p.firstOffset));
    cols.lastOffset.push(String(p.lastOffset));
    cols.wcOffset.push(String(offset));
    cols.wcTimestampMs.push(String(Math.trunc(timestampMs)));
  }
  return cols;
}

/** `requests, bids, ...` */
export function counterList(prefix = ''): string {
  return COUNTER_COLUMNS.map((c) => `${prefix}${c}`).join(', ');
}

/** `sum(requests)::bigint as requests, ...` */
export function counterSums(): string {
  return COUNTER_COLUMNS.map((c) => `sum(${c})::bigint as ${c}`).join(', ');
}

/** `requests = w.requests + s.requests, ...` (op '+') or the subtraction (op '-'). */
export function counterAssignments(target: string, source: string, op: '+' | '-'): string {
  return COUNTER_COLUMNS.map((c) => `${c} = ${target}.${c} ${op} ${source}.${c}`).join(', ');
}

/** `requests = 0 and bids = 0 ...`: a row with nothing left in it. */
export function allCountersZero(alias: string): string {
  return COUNTER_COLUMNS.map((c) => `${alias}.${c} = 0`).join(' and ');
}
