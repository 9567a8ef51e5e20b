/**
 * Pure helpers between WindowCount records and the SQL of the writer: the counter columns (named once
 * here, so the tables, the sums and the upsert cannot drift apart), validation of a decoded part, and
 * the column arrays a whole batch is sent as (one `unnest` per statement, however many rows).
 */
import type { WindowCount } from '../schemas/tracking-event.js';

/**
 * The additive counters: record field -> column. Order is the column order everywhere. Two record fields
 * predate exchange win notices and keep their meaning (window-count.avsc): `wins` is our auction's pick,
 * a bid submitted (column `submitted`), and `clearingPriceMicros` its internal clearing price (column
 * `submitted_price_micros`); the exchange's wins and reported prices go to `wins` and `clearing_price_micros`.
 */
export const COUNTERS = [
  ['requests', 'requests'],
  ['bids', 'bids'],
  ['wins', 'submitted'],
  ['winCostMicros', 'win_cost_micros'],
  ['spendMicros', 'spend_micros'],
  ['clearingPriceMicros', 'submitted_price_micros'],
  ['impressions', 'impressions'],
  ['clicks', 'clicks'],
  ['conversions', 'conversions'],
  ['exchangeWins', 'wins'],
  ['exchangePriceMicros', 'clearing_price_micros'],
  ['losses', 'losses'],
  ['reportedSpendMicros', 'reported_spend_micros'],
] as const satisfies ReadonlyArray<readonly [keyof WindowCount, string]>;

export const COUNTER_COLUMNS: readonly string[] = COUNTERS.map(([, column]) => column);

/**
 * The summary key of window_counts (its primary key, the ON CONFLICT target of the upsert, and part of
 * the ledger's unique part key): record field, column, Postgres type. Every dimension is in it, or rows
 * of different deals, bases, currencies or test flags would be merged.
 */
export const KEY = [
  ['campaignId', 'campaign_id', 'text'],
  ['creativeId', 'creative_id', 'text'],
  ['dealId', 'deal_id', 'text'],
  ['test', 'test', 'boolean'],
  ['privacyBasis', 'privacy_basis', 'text'],
  ['currency', 'currency', 'text'],
  ['windowStartMs', 'window_start_ms', 'bigint'],
  ['windowMs', 'window_ms', 'int'],
] as const satisfies ReadonlyArray<readonly [keyof WindowCount, string, string]>;

export const KEY_COLUMNS: readonly string[] = KEY.map(([, column]) => column);

/** The Avro defaults of the fields window-count v2 added (window-count.avsc): what a part without them means. */
const V2_DEFAULTS = { dealId: '', test: false, privacyBasis: '', currency: 'USD', exchangeWins: 0, exchangePriceMicros: 0, losses: 0, reportedSpendMicros: 0 } as const;

/** The part with every field present: the v2 fields it lacks take their Avro defaults. */
export function complete(p: WindowCount): Required<WindowCount> {
  return {
    ...p, dealId: p.dealId ?? V2_DEFAULTS.dealId, test: p.test ?? V2_DEFAULTS.test, privacyBasis: p.privacyBasis ?? V2_DEFAULTS.privacyBasis, currency: p.currency ?? V2_DEFAULTS.currency,
    exchangeWins: p.exchangeWins ?? V2_DEFAULTS.exchangeWins, exchangePriceMicros: p.exchangePriceMicros ?? V2_DEFAULTS.exchangePriceMicros, losses: p.losses ?? V2_DEFAULTS.losses,
    reportedSpendMicros: p.reportedSpendMicros ?? V2_DEFAULTS.reportedSpendMicros,
  };
}

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
export function invalidPart(part: WindowCount): string | null {
  const p = complete(part);
  if (typeof p.campaignId !== 'string' || p.campaignId.length === 0) return 'campaignId is empty';
  if (!isCount(p.windowStartMs)) return 'windowStartMs must be a non-negative integer';
  if (!Number.isSafeInteger(p.windowMs) || p.windowMs <= 0) return 'windowMs must be a positive integer';
  for (const f of ['dealId', 'privacyBasis', 'currency'] as const) if (typeof p[f] !== 'string') return `${f} must be a string`;
  if (typeof p.test !== 'boolean') return 'test must be a boolean';
  for (const [field] of COUNTERS) if (!isCount(p[field])) return `${field} must be a non-negative integer`;
  if (typeof p.sourceTopic !== 'string' || p.sourceTopic.length === 0) return 'sourceTopic is empty';
  if (!isCount(p.sourcePartition)) return 'sourcePartition must be a non-negative integer';
  if (!isCount(p.firstOffset) || !isCount(p.lastOffset)) return 'firstOffset and lastOffset must be non-negative integers';
  if (p.lastOffset < p.firstOffset) return `lastOffset ${p.lastOffset} is before firstOffset ${p.firstOffset}`;
  return null;
}

/**
 * The batch as column arrays: the key in `KEY` order, the counters in `COUNTERS` order. Longs go as
 * strings (Postgres casts them exactly), and so do booleans ('t'/'f': statements.ts casts them, see arrayParam).
 */
export interface PartColumns {
  readonly keys: Array<Array<string | number>>;
  readonly counters: string[][];
  readonly sourceTopic: string[];
  readonly sourcePartition: number[];
  readonly firstOffset: string[];
  readonly lastOffset: string[];
  readonly wcOffset: string[];
  readonly wcTimestampMs: string[];
}

const keyValue = (p: Required<WindowCount>, field: (typeof KEY)[number][0], type: string): string | number => {
  const v = p[field];
  return typeof v === 'boolean' ? (v ? 't' : 'f') : type === 'bigint' ? String(v) : v;
};

export function toColumns(parts: readonly PartAt[]): PartColumns {
  const cols: PartColumns = {
    keys: KEY.map(() => []), counters: COUNTERS.map(() => []),
    sourceTopic: [], sourcePartition: [], firstOffset: [], lastOffset: [], wcOffset: [], wcTimestampMs: [],
  };
  for (const { part, offset, timestampMs } of parts) {
    const p = complete(part);
    KEY.forEach(([field, , type], i) => cols.keys[i]!.push(keyValue(p, field, type)));
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

/** `campaign_id, creative_id, ...` (the key columns, optionally prefixed). */
export function keyList(prefix = ''): string {
  return KEY_COLUMNS.map((c) => `${prefix}${c}`).join(', ');
}

/** `(w.campaign_id, ...) = (s.campaign_id, ...)`: the rows of the same key. */
export function sameKey(left: string, right: string): string {
  return `(${keyList(`${left}.`)}) = (${keyList(`${right}.`)})`;
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
