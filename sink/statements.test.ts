import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTER_COLUMNS } from './part-rows.js';
import { applyPartsSql, deleteEmptyRowsSql, takeBackSql } from './statements.js';

const placeholders = (text: string): number[] => [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);

test('statements: the apply statement takes every column once, in order, as arrays', () => {
  const text = applyPartsSql();
  const expected = 2 + 4 + COUNTER_COLUMNS.length + 6; // wc topic/partition, key, counters, source range + wc offset/time
  assert.deepEqual(placeholders(text), Array.from({ length: expected }, (_, i) => i + 1));
  assert.equal((text.match(/::\w+\[\]/g) ?? []).length, expected - 2, 'every batch column is an array');
  assert.match(text, /insert into window_count_parts[\s\S]*on conflict do nothing[\s\S]*returning/);
  assert.match(text, /from applied group by campaign_id, creative_id, window_start_ms, window_ms/, 'only inserted parts are added, summed per key');
  assert.match(text, /order by campaign_id, creative_id, window_start_ms, window_ms\s+on conflict \(campaign_id, creative_id, window_start_ms, window_ms\) do update set requests = w\.requests \+ excluded\.requests/);
});

test('statements: the take-back subtracts what the removal returns and reports emptied rows', () => {
  const text = takeBackSql('delete from window_count_parts where wc_offset >= $3');
  assert.match(text, /with removed as \(\s+delete from window_count_parts where wc_offset >= \$3\s+returning campaign_id/);
  assert.match(text, /update window_counts w set requests = w\.requests - s\.requests/);
  assert.match(text, /count\(\*\)::int as rows/);
  assert.deepEqual(placeholders(deleteEmptyRowsSql()), [1, 2, 3, 4]);
});
