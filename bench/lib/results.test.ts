import { test } from 'node:test';
import assert from 'node:assert/strict';
import { document, median, percentiles } from './results.js';

test('percentiles are nearest-rank and null for no values', () => {
  assert.equal(percentiles([]), null);
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(percentiles(values), { count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
});

test('median ignores nulls, takes the middle of an odd count and averages an even one (rounded unless asked not to)', () => {
  assert.equal(median([]), null);
  assert.equal(median([null, null]), null);
  assert.equal(median([3, null, 1, 2]), 2);
  assert.equal(median([1.5, 2.5, 9]), 2.5);
  assert.equal(median([1, 2]), 2);
  assert.equal(median([1, 2], false), 1.5);
  assert.equal(median([20.4, 19.1, 27.3, 26.9], false), (20.4 + 26.9) / 2);
});

test('document renders the summary, targets, notes and details from the data: a column per record, a row per (dotted) field', () => {
  const head = { date: '2026-12-01T00:00:00.000Z', command: 'node x', settings: { rate: 5 }, machine: { nproc: 2, totalMemoryGiB: 24, cpuModel: 'cpu', node: 'v20', pinned: true, loadAvg: [1, 1, 1] } };
  const runs = [
    { rate: 100, latencyMs: { p50: 1, p99: 9.87654 }, result: { accepted: 99, statusCounts: { 200: 99 }, error: 'bad | worse\nsecond line' }, hops: [{ a: 1 }] },
    { rate: 200, latencyMs: null, extra: true },
  ];
  const md = document({
    title: 'T', head, method: 'How.', summary: { ratio: 0.5 }, targets: ['ratio: 0.5 (target >= 0.4): met'], notes: ['one note'],
    details: [{ title: 'Runs', data: runs, label: (r: { rate: number }) => `${r.rate} rps` }, { title: 'Totals', data: { exact: false, names: ['a', 'b'], none: [] } }],
  });
  assert.match(md, /^# T, 2026-12-01\n/);
  assert.match(md, /## Summary\n\n```json\n\{\n {2}"ratio": 0\.5\n\}\n```\n\n- ratio: 0\.5 \(target >= 0\.4\): met/);
  assert.match(md, /## Notes\n\n- one note/);
  const table = md.slice(md.indexOf('## Runs')).split('\n');
  assert.equal(table[2], '| field | 100 rps | 200 rps |');
  assert.ok(table.includes('| latencyMs | p50 1, p99 9.877 | n/a |'));
  assert.ok(table.includes('| result.statusCounts | 200 99 | n/a |'));
  assert.ok(table.includes('| result.error | bad \\| worse | n/a |'));
  assert.ok(table.includes('| hops | 1 entries (.json) | n/a |'));
  assert.ok(table.includes('| extra | n/a | true |'));
  assert.match(md, /## Totals\n\n\| field \| value \|\n\| --- \| --- \|\n\| exact \| false \|\n\| names \| a, b \|\n\| none \| none \|\n$/);
});
