/**
 * The SQL text of the writer's batch statements, built once from the counter list (pure, so its tests
 * need no database). Every statement takes whole columns as arrays and `unnest`s them: one round trip
 * and one statement per batch whatever its size, and one prepared plan for every batch.
 */
import { COUNTER_COLUMNS, KEY, allCountersZero, counterAssignments, counterList, counterSums, keyList, sameKey } from './part-rows.js';

const KEYS = keyList();
const k = KEY.length;
const n = COUNTER_COLUMNS.length;

/**
 * Parameter $i as an array of `type`. Booleans travel as text ('t'/'f') and are cast on the server: the
 * client would otherwise declare a JS boolean array as a scalar boolean, or, given the type, serialise
 * every element that is not `true` as false.
 */
const arrayParam = (i: number, type: string): string => (type === 'boolean' ? `$${i}::text[]::boolean[]` : `$${i}::${type}[]`);

/**
 * Applies a batch of parts: inserts them into the ledger, skipping any part already there (same
 * window-counts position, or the same live part re-emitted elsewhere), and adds ONLY the newly
 * inserted ones to window_counts, summed per key first (one upsert may not touch a row twice).
 * Rows are upserted in key order so concurrent batches of different partitions lock in one order.
 *
 * Parameters: $1 wc_topic, $2 wc_partition, then the arrays of `toColumns` in order: the key (`KEY`),
 * the counters, sourceTopic, sourcePartition, firstOffset, lastOffset, wcOffset, wcTimestampMs.
 * Returns one row: applied (parts inserted), written (rows upserted).
 */
export function applyPartsSql(): string {
  const keyParams = KEY.map(([, , type], i) => arrayParam(3 + i, type)).join(', ');
  const counterParams = COUNTER_COLUMNS.map((_, i) => `$${3 + k + i}::bigint[]`).join(', ');
  const p = 3 + k + n;
  return `with input as (
  select * from unnest(${keyParams}, ${counterParams},
    $${p}::text[], $${p + 1}::int[], $${p + 2}::bigint[], $${p + 3}::bigint[], $${p + 4}::bigint[], $${p + 5}::bigint[])
    as t(${KEYS}, ${counterList()}, source_topic, source_partition, first_offset, last_offset, wc_offset, wc_timestamp_ms)
), applied as (
  insert into window_count_parts (wc_topic, wc_partition, wc_offset, wc_timestamp_ms, source_topic, source_partition,
    first_offset, last_offset, ${KEYS}, ${counterList()})
  select $1::text, $2::int, wc_offset, wc_timestamp_ms, source_topic, source_partition, first_offset, last_offset, ${KEYS}, ${counterList()}
  from input order by wc_offset
  on conflict do nothing
  returning ${KEYS}, ${counterList()}
), sums as (
  select ${KEYS}, ${counterSums()} from applied group by ${KEYS}
), written as (
  insert into window_counts as w (${KEYS}, ${counterList()})
  select ${KEYS}, ${counterList()} from sums order by ${KEYS}
  on conflict (${KEYS}) do update set ${counterAssignments('w', 'excluded', '+')}
  returning 1
)
select (select count(*) from applied)::int as applied, (select count(*) from written)::int as written`;
}

/**
 * Takes parts back out of window_counts: `removal` is a DML statement on window_count_parts (a delete,
 * or an update marking parts superseded) that RETURNS the key and counters of the parts it took; they
 * are subtracted per key. Returns one row: parts, keys (distinct keys taken from), rows (rows updated:
 * equal to keys unless the ledger and the summary disagree), and the keys of rows left with
 * nothing in them as one array per key column (zero_0 .. zero_<k-1>, in `KEY` order), for `deleteEmptyRowsSql`.
 */
export function takeBackSql(removal: string): string {
  // As text: they go back as parameters of deleteEmptyRowsSql, which casts them (see arrayParam).
  const zeroKeys = KEY.map(([, column], i) => `coalesce(array_agg(u.${column}::text) filter (where ${allCountersZero('u')}), '{}') as zero_${i}`).join(',\n  ');
  return `with removed as (
  ${removal}
  returning ${KEYS}, ${counterList()}
), sums as (
  select ${KEYS}, ${counterSums()} from removed group by ${KEYS}
), updated as (
  update window_counts w set ${counterAssignments('w', 's', '-')}
  from sums s
  where ${sameKey('w', 's')}
  returning ${keyList('w.')}, ${counterList('w.')}
)
select (select count(*) from removed)::int as parts, (select count(*) from sums)::int as keys, count(*)::int as rows,
  ${zeroKeys}
from updated u`;
}

/**
 * Deletes rows a take-back emptied, so the table is exactly what a clean pass over the remaining parts
 * would have produced. $1..$k: the key arrays from `takeBackSql`, in `KEY` order.
 */
export function deleteEmptyRowsSql(): string {
  return `delete from window_counts w
using unnest(${KEY.map(([, , type], i) => arrayParam(i + 1, type)).join(', ')}) as z(${KEYS})
where ${sameKey('w', 'z')}
  and ${allCountersZero('w')}`;
}
