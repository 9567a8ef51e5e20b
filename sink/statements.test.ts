import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTER_COLUMNS, KEY_COLUMNS } from './part-rows.js';
import { applyPartsSql, deleteEmptyRowsSql, takeBackSql } from './statements.js';

const placeholders = (text: string): number[] => [...new Set([...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);

test('statements: the apply statement takes every column once, in order, as arrays', () => {
  const text = applyPartsSql();
  const expected = 2 + KEY_COLUMNS.length + COUNTER_COLUMNS.length + 6; // wc topic/partition, key, counters, source range + wc offset/time
  assert.deepEqual(placeholders(text), Array.from({ length: expected }, (_, i) => i + 1));
  assert.equal((text.match(/\$\d+::\w+\[\]/g) ?? []).length, expected - 2, 'every batch column is an array');
  assert.match(text, /insert into window_count_parts[\s\S]*on conflict do nothing[\s\S]*returning/);
  const key = 'campaign_id, creative_id, deal_id, test, privacy_basis, currency, window_start_ms, window_ms';
  assert.ok(text.includes(`from applied group by ${key}`), 'only inserted parts are added, summed per key (every dimension in it)');
  assert.ok(text.includes(`order by ${key}\n  on conflict (${key}) do update set requests = w.requests + excluded.requests`));
  assert.match(text, /unnest\(\$3::text\[\], \$4::text\[\], \$5::text\[\], \$6::text\[\]::boolean\[\], \$7::text\[\], \$8::text\[\], \$9::bigint\[\], \$10::int\[\], \$11::bigint\[\]/, 'the key arrays with their types, then the counters');
});

test('statements: the take-back subtracts what the removal returns and reports emptied rows', () => {
  const text = takeBackSql('delete from window_count_parts where wc_offset >= $3');
  assert.match(text, /with removed as \(\s+delete from window_count_parts where wc_offset >= \$3\s+returning campaign_id/);
  assert.match(text, /update window_counts w set requests = w\.requests - s\.requests/);
  assert.match(text, /count\(\*\)::int as rows/);
  assert.match(text, /where \(w\.campaign_id, w\.creative_id, w\.deal_id, w\.test, w\.privacy_basis, w\.currency, w\.window_start_ms, w\.window_ms\) = \(s\.campaign_id/);
  assert.match(text, /as zero_7\s+from updated u/, 'one array of emptied keys per key column');
  assert.deepEqual(placeholders(deleteEmptyRowsSql()), [1, 2, 3, 4, 5, 6, 7, 8]);
});
