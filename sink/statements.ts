/**
 * The SQL text of the writer's batch statements, built once from the counter list (pure, so its tests
 * need no database). Every statement takes whole columns as arrays and `unnest`s them: one round trip
 * and one statement per batch whatever its size, and one prepared plan for every batch.
 */
import { COUNTER_COLUMNS, KEY_COLUMNS, allCountersZero, counterAssignments, counterList, counterSums } from './part-rows.js';

const KEY = KEY_COLUMNS.join(', ');
const n = COUNTER_COLUMNS.length;

/**
 * Applies a batch of parts: inserts them into the ledger, skipping any part already there (same
 * window-counts position, or the same live part re-emitted elsewhere), and adds ONLY the newly
 * inserted ones to window_counts, summed per key first (one upsert may not touch a row twice).
 * Rows are upserted in key order so concurrent batches of different partitions lock in one order.
 *
 * Parameters: $1 wc_topic, $2 wc_partition, then the arrays of `toColumns` in order: campaignId,
 * creativeId, windowStartMs, windowMs, the counters, sourceTopic, sourcePartition, firstOffset,
 * lastOffset, wcOffset, wcTimestampMs. Returns one row: applied (parts inserted), written (rows upserted).
 */
export function applyPartsSql(): string {
  const counterParams = COUNTER_COLUMNS.map((_, i) => `$${7 + i}::bigint[]`).join(', ');
  const p = 7 + n;
  return `with input as (
  select * from unnest($3::text[], $4::text[], $5::bigint[], $6::int[], ${counterParams},
    $${p}::text[], $${p + 1}::int[], $${p + 2}::bigint[], $${p + 3}::bigint[], $${p + 4}::bigint[], $${p + 5}::bigint[])
    as t(${KEY}, ${counterList()}, source_topic, source_partition, first_offset, last_offset, wc_offset, wc_timestamp_ms)
), applied as (
  insert into window_count_parts (wc_topic, wc_partition, wc_offset, wc_timestamp_ms, source_topic, source_partition,
    first_offset, last_offset, ${KEY}, ${counterList()})
  select $1::text, $2::int, wc_offset, wc_timestamp_ms, source_topic, source_partition, first_offset, last_offset, ${KEY}, ${counterList()}
  from input order by wc_offset
  on conflict do nothing
  returning ${KEY}, ${counterList()}
), sums as (
  select ${KEY}, ${counterSums()} from applied group by ${KEY}
), written as (
  insert into window_counts as w (${KEY}, ${counterList()})
  select ${KEY}, ${counterList()} from sums order by ${KEY}
  on conflict (${KEY}) do update set ${counterAssignments('w', 'excluded', '+')}
  returning 1
)
select (select count(*) from applied)::int as applied, (select count(*) from written)::int as written`;
}

/**
 * Takes parts back out of window_counts: `removal` is a DML statement on window_count_parts (a delete,
 * or an update marking parts superseded) that RETURNS the key and counters of the parts it took; they
 * are subtracted per key. Returns one row: parts, keys (distinct keys taken from), rows (rows updated:
 * equal to keys unless the ledger and the summary disagree), and the keys of rows left with
 * nothing in them as four arrays (zero_campaign, zero_creative, zero_start, zero_width), for `deleteEmptyRowsSql`.
 */
export function takeBackSql(removal: string): string {
  return `with removed as (
  ${removal}
  returning ${KEY}, ${counterList()}
), sums as (
  select ${KEY}, ${counterSums()} from removed group by ${KEY}
), updated as (
  update window_counts w set ${counterAssignments('w', 's', '-')}
  from sums s
  where (w.campaign_id, w.creative_id, w.window_start_ms, w.window_ms) = (s.campaign_id, s.creative_id, s.window_start_ms, s.window_ms)
  returning w.campaign_id, w.creative_id, w.window_start_ms, w.window_ms, ${counterList('w.')}
)
select (select count(*) from removed)::int as parts, (select count(*) from sums)::int as keys, count(*)::int as rows,
  coalesce(array_agg(u.campaign_id) filter (where ${allCountersZero('u')}), '{}') as zero_campaign,
  coalesce(array_agg(u.creative_id) filter (where ${allCountersZero('u')}), '{}') as zero_creative,
  coalesce(array_agg(u.window_start_ms) filter (where ${allCountersZero('u')}), '{}') as zero_start,
  coalesce(array_agg(u.window_ms) filter (where ${allCountersZero('u')}), '{}') as zero_width
from updated u`;
}

/**
 * Deletes rows a take-back emptied, so the table is exactly what a clean pass over the remaining parts
 * would have produced. $1..$4: the key arrays from `takeBackSql`.
 */
export function deleteEmptyRowsSql(): string {
  return `delete from window_counts w
using unnest($1::text[], $2::text[], $3::bigint[], $4::int[]) as z(${KEY})
where (w.campaign_id, w.creative_id, w.window_start_ms, w.window_ms) = (z.campaign_id, z.creative_id, z.window_start_ms, z.window_ms)
  and ${allCountersZero('w')}`;
}
