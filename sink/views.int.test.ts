/** The analyst views on known numbers, against the real Postgres in a throw-away schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSchema } from '../processors/runtime/fresh-schema.js';

const W1 = Date.UTC(2026, 10, 22, 10, 0);
const W2 = W1 + 60_000;
const W3 = Date.UTC(2026, 10, 23, 0, 0);
const M = 60_000;

const ROWS = [
  // campaign, creative, window, bids, wins, win_cost, spend, clearing (sum of CPMs), impressions, clicks, conversions, requests
  ['c1', 'k1', W1, 200, 50, 1_250_000, 1_000_000, 125_000_000, 40, 2, 1, 0],
  ['c1', 'k2', W1, 0, 0, 0, 0, 0, 0, 0, 3, 0],
  ['c1', 'k1', W2, 100, 25, 600_000, 500_000, 50_000_000, 60, 3, 0, 0],
  ['c1', 'k1', W3, 10, 1, 20_000, 30_000, 1_500_000, 10, 0, 0, 0],
  ['c2', 'k9', W1, 100, 0, 0, 0, 0, 0, 0, 0, 0],
  ['*', '', W1, 300, 50, 0, 0, 0, 0, 0, 0, 1000],
  ['*', '', W2, 100, 25, 0, 0, 0, 0, 0, 0, 500],
] as const;

async function seeded(t: Parameters<typeof freshSchema>[0]) {
  const { sql } = await freshSchema(t);
  for (const [c, k, w, bids, wins, cost, spend, clearing, imps, clicks, conv, requests] of ROWS) {
    await sql`insert into window_counts (campaign_id, creative_id, window_start_ms, window_ms, bids, wins, win_cost_micros, spend_micros,
      clearing_price_micros, impressions, clicks, conversions, requests)
      values (${c}, ${k}, ${w}, ${M}, ${bids}, ${wins}, ${cost}, ${spend}, ${clearing}, ${imps}, ${clicks}, ${conv}, ${requests})`;
  }
  return sql;
}

const num = (v: unknown): number | null => (v === null ? null : Number(v));

test('campaign_window_metrics computes win rate, CTR, CPM, CPC and average clearing price; NULL on zero denominators', async (t) => {
  const sql = await seeded(t);
  const rows = await sql<Record<string, unknown>[]>`select * from campaign_window_metrics where campaign_id = 'c1' and window_start < ${new Date(W3)} order by window_start, creative_id`;
  assert.equal(rows.length, 3);
  const [a, b] = rows;
  assert.deepEqual(
    ['win_rate', 'ctr', 'cpm_micros', 'cpm', 'cpc_micros', 'cpc', 'avg_clearing_cpm_micros', 'avg_clearing_cpm', 'win_cost', 'spend'].map((c) => num(a![c])),
    [0.25, 0.05, 25_000_000, 25, 500_000, 0.5, 2_500_000, 2.5, 1.25, 1],
  );
  assert.equal((a!.window_start as Date).toISOString(), '2026-11-22T10:00:00.000Z');
  assert.equal((a!.window_end as Date).toISOString(), '2026-11-22T10:01:00.000Z');
  assert.deepEqual(['win_rate', 'ctr', 'cpm', 'cpc', 'avg_clearing_cpm'].map((c) => b![c]), [null, null, null, null, null], 'no bids, impressions, clicks or wins: NULL, not 0');
  assert.equal(num(b!.conversions), 3);
  const [star] = await sql`select count(*)::int as n from campaign_window_metrics where campaign_id = '*'`;
  assert.equal(star!.n, 0, 'the all-request rows are not a campaign');
});

test('campaign_daily_metrics sums creatives and windows per UTC day and recomputes the ratios from the sums', async (t) => {
  const sql = await seeded(t);
  const days = await sql<Record<string, unknown>[]>`select * from campaign_daily_metrics where campaign_id = 'c1' order by day`;
  assert.equal(days.length, 2);
  const [d1, d2] = days;
  assert.deepEqual(
    ['creatives', 'bids', 'wins', 'win_rate', 'spend_micros', 'spend', 'impressions', 'clicks', 'ctr', 'cpm', 'cpc', 'conversions'].map((c) => num(d1![c])),
    [2, 300, 75, 0.25, 1_500_000, 1.5, 100, 5, 0.05, 15, 0.3, 4],
  );
  assert.match(String(d1!.avg_clearing_cpm_micros), /^2333333\.3333/);
  assert.equal(num(d1!.window_ms), M);
  assert.deepEqual([num(d2!.ctr), d2!.cpc, num(d2!.cpm)], [0, null, 3], 'impressions but no clicks: CTR 0, CPC NULL');
});

test('window_totals takes requests, bids and wins from the all-request rows and sums the campaigns', async (t) => {
  const sql = await seeded(t);
  const rows = await sql<Record<string, unknown>[]>`select * from window_totals order by window_start_ms`;
  const pick = (r: Record<string, unknown>) => ['requests', 'bids', 'wins', 'bids_per_request', 'wins_per_request', 'campaigns', 'campaign_bids', 'spend_micros', 'impressions', 'clicks', 'conversions'].map((c) => num(r[c]));
  assert.deepEqual(rows.map(pick), [
    [1000, 300, 50, 0.3, 0.05, 2, 300, 1_000_000, 40, 2, 4],
    [500, 100, 25, 0.2, 0.05, 1, 100, 500_000, 60, 3, 0],
    [0, 0, 0, null, null, 1, 10, 30_000, 10, 0, 0],
  ]);
});

test('every table, view and function of the analytics migration is documented', async (t) => {
  const sql = await seeded(t);
  const undocumented = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'v') and c.relname not in ('schema_migrations', 'advertisers', 'campaigns', 'creatives')
      and obj_description(c.oid, 'pg_class') is null
    union all
    select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = current_schema() and obj_description(p.oid, 'pg_proc') is null
    union all
    select 'window_counts.' || a.attname from pg_attribute a
    where a.attrelid = 'window_counts'::regclass and a.attnum > 0 and not a.attisdropped and col_description(a.attrelid, a.attnum) is null`;
  assert.deepEqual([...undocumented], []);
});
