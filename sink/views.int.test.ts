/** The analyst views on known numbers, against the real Postgres in a throw-away schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshSchema } from '../processors/runtime/fresh-schema.js';

const W1 = Date.UTC(2026, 10, 22, 10, 0);
const W2 = W1 + 60_000;
const W3 = Date.UTC(2026, 10, 23, 0, 0);
const M = 60_000;

interface Row {
  c: string; k: string; w: number; bids?: number; submitted?: number; wins?: number; cost?: number; spend?: number; clearing?: number; submittedPrice?: number;
  imps?: number; clicks?: number; conv?: number; requests?: number; losses?: number; deal?: string; test?: boolean; basis?: string; cur?: string; reported?: number;
}
const ROWS: Row[] = [
  // wins = exchange wins (clearing = the sum of their reported CPMs); submitted = our auction's picks (submittedPrice = their internal CPMs)
  { c: 'c1', k: 'k1', w: W1, bids: 200, submitted: 100, wins: 50, cost: 1_250_000, spend: 1_000_000, clearing: 125_000_000, submittedPrice: 300_000_000, imps: 40, clicks: 2, conv: 1, losses: 30, basis: 'consent' },
  // the same campaign, creative and window under another basis and currency: one row in the campaign views
  { c: 'c1', k: 'k1', w: W1, bids: 20, submitted: 10, wins: 5, spend: 100_000, reported: 92_000, clearing: 10_000_000, imps: 4, basis: 'unrestricted', cur: 'EUR' },
  { c: 'c1', k: 'k2', w: W1, conv: 3 },
  { c: 'c1', k: 'k1', w: W2, bids: 100, submitted: 50, wins: 25, cost: 600_000, spend: 500_000, clearing: 50_000_000, imps: 60, clicks: 3 },
  { c: 'c1', k: 'k1', w: W3, bids: 10, submitted: 2, wins: 1, cost: 20_000, spend: 30_000, clearing: 1_500_000, imps: 10 },
  // a deal of c1: its own row in the window view, in the campaign's day, apart in the deal view
  { c: 'c1', k: 'k1', w: W1, bids: 10, submitted: 10, wins: 10, spend: 400_000, clearing: 40_000_000, imps: 10, clicks: 1, deal: 'deal-7' },
  { c: 'c2', k: 'k9', w: W1, bids: 100 },
  // test traffic: never in the live views' numbers
  { c: 'c1', k: 'k1', w: W1, bids: 999, submitted: 999, wins: 999, spend: 9_999_000, imps: 999, clicks: 99, test: true },
  { c: '*', k: '', w: W1, bids: 5, submitted: 5, requests: 7, test: true },
  { c: '*', k: '', w: W1, bids: 300, submitted: 110, requests: 1000, basis: 'consent' },
  { c: '*', k: '', w: W1, bids: 30, submitted: 10, requests: 100, basis: 'unrestricted', cur: 'EUR' },
  { c: '*', k: '', w: W2, bids: 100, submitted: 50, requests: 500 },
  // loss notices do not say their currency
  { c: 'c1', k: 'k1', w: W2, losses: 4, cur: '' },
];

async function seeded(t: Parameters<typeof freshSchema>[0]) {
  const { sql } = await freshSchema(t);
  for (const r of ROWS) {
    await sql`insert into window_counts (campaign_id, creative_id, deal_id, test, privacy_basis, currency, window_start_ms, window_ms, bids, submitted, wins,
      win_cost_micros, spend_micros, clearing_price_micros, submitted_price_micros, impressions, clicks, conversions, requests, losses, reported_spend_micros)
      values (${r.c}, ${r.k}, ${r.deal ?? ''}, ${r.test ?? false}, ${r.basis ?? ''}, ${r.cur ?? 'USD'}, ${r.w}, ${M}, ${r.bids ?? 0}, ${r.submitted ?? 0}, ${r.wins ?? 0},
      ${r.cost ?? 0}, ${r.spend ?? 0}, ${r.clearing ?? 0}, ${r.submittedPrice ?? 0}, ${r.imps ?? 0}, ${r.clicks ?? 0}, ${r.conv ?? 0}, ${r.requests ?? 0}, ${r.losses ?? 0}, ${r.reported ?? r.spend ?? 0})`;
  }
  return sql;
}

const num = (v: unknown): number | null => (v === null ? null : Number(v));
/** Exact numerics to 6 decimals: enough to tell every ratio here from a wrong one. */
const r6 = (v: number | null): number | null => (v === null ? null : Math.round(v * 1e6) / 1e6);
const pick = (r: Record<string, unknown> | undefined, cols: string[]) => cols.map((c) => r6(num(r![c])));
const exact = (xs: Array<number | null>) => xs.map(r6);

test('campaign_window_metrics: live traffic per creative and deal, summed over bases and currencies; win rate = exchange wins / submitted', async (t) => {
  const sql = await seeded(t);
  const rows = await sql<Record<string, unknown>[]>`select * from campaign_window_metrics where campaign_id = 'c1' and window_start < ${new Date(W3)} order by window_start, creative_id, deal_id`;
  assert.deepEqual(rows.map((r) => [r.creative_id, r.deal_id]), [['k1', ''], ['k1', 'deal-7'], ['k2', ''], ['k1', '']]);
  const [a, deal, b] = rows;
  assert.deepEqual(
    pick(a, ['bids', 'submitted', 'wins', 'win_rate', 'losses', 'ctr', 'cpm_micros', 'cpm', 'cpc_micros', 'cpc', 'avg_clearing_cpm_micros', 'avg_clearing_cpm', 'avg_submitted_cpm_micros', 'win_cost', 'spend']),
    exact([220, 110, 55, 0.5, 30, 2 / 44, 1_100_000 * 1000 / 44, 1_100_000 / 44 / 1000, 550_000, 0.55, 135_000_000 / 55, 135 / 55, 300_000_000 / 110, 1.25, 1.1]),
  );
  assert.deepEqual(pick(deal, ['bids', 'submitted', 'wins', 'win_rate', 'spend_micros', 'avg_clearing_cpm']), [10, 10, 10, 1, 400_000, 4], 'the deal is its own row');
  assert.equal((a!.window_start as Date).toISOString(), '2026-11-22T10:00:00.000Z');
  assert.equal((a!.window_end as Date).toISOString(), '2026-11-22T10:01:00.000Z');
  assert.deepEqual(['win_rate', 'ctr', 'cpm', 'cpc', 'avg_clearing_cpm'].map((c) => b![c]), [null, null, null, null, null], 'no submitted bids, impressions, clicks or wins: NULL, not 0');
  assert.equal(num(b!.conversions), 3);
  assert.equal(num(rows[3]!.losses), 4, 'losses (currency "") land in the campaign window');
  const [star] = await sql`select count(*)::int as n from campaign_window_metrics where campaign_id = '*'`;
  assert.equal(star!.n, 0, 'the all-request rows are not a campaign');
});

test('campaign_daily_metrics and deal_daily_metrics: live traffic per UTC day, per campaign and per deal, ratios from the sums', async (t) => {
  const sql = await seeded(t);
  const days = await sql<Record<string, unknown>[]>`select * from campaign_daily_metrics where campaign_id = 'c1' order by day`;
  assert.equal(days.length, 2);
  const [d1, d2] = days;
  assert.deepEqual(
    pick(d1, ['creatives', 'deals', 'bids', 'submitted', 'wins', 'win_rate', 'losses', 'spend_micros', 'spend', 'impressions', 'clicks', 'ctr', 'cpm', 'cpc', 'conversions']),
    exact([2, 1, 330, 170, 90, 90 / 170, 34, 2_000_000, 2, 114, 6, 6 / 114, 2_000_000 / 114 / 1000, 2_000_000 / 6 / 1e6, 4]),
  );
  assert.match(String(d1!.avg_clearing_cpm_micros), /^2500000\.0000/, '(125 + 10 + 50 + 40) M / 90 wins');
  assert.equal(num(d1!.window_ms), M);
  assert.deepEqual([num(d2!.ctr), d2!.cpc, num(d2!.cpm)], [0, null, 3], 'impressions but no clicks: CTR 0, CPC NULL');

  const deals = await sql<Record<string, unknown>[]>`select * from deal_daily_metrics where campaign_id = 'c1' and day = '2026-11-22' order by deal_id`;
  assert.deepEqual(deals.map((r) => [r.deal_id, ...pick(r, ['creatives', 'submitted', 'wins', 'win_rate', 'spend_micros', 'losses'])]), [
    ['', 2, 160, 80, 0.5, 1_600_000, 34],
    ['deal-7', 1, 10, 10, 1, 400_000, 0],
  ]);
});

test('window_totals: live requests, bids and submitted from the all-request rows; exchange wins and money from the campaigns', async (t) => {
  const sql = await seeded(t);
  const rows = await sql<Record<string, unknown>[]>`select * from window_totals order by window_start_ms`;
  assert.deepEqual(rows.map((r) => pick(r, ['requests', 'bids', 'submitted', 'wins', 'bids_per_request', 'wins_per_request', 'win_rate', 'losses', 'campaigns', 'campaign_bids', 'spend_micros', 'impressions', 'clicks', 'conversions'])), [
    exact([1100, 330, 120, 65, 0.3, 65 / 1100, 65 / 120, 30, 2, 330, 1_500_000, 54, 3, 4]),
    [500, 100, 50, 25, 0.2, 0.05, 0.5, 4, 1, 100, 500_000, 60, 3, 0],
    [0, 0, 0, 1, null, null, null, 0, 1, 10, 30_000, 10, 0, 0],
  ]);
});

test('traffic_daily_metrics: requests by the basis and currency of the request, test traffic its own rows', async (t) => {
  const sql = await seeded(t);
  const rows = await sql<Record<string, unknown>[]>`select * from traffic_daily_metrics where day = '2026-11-22' order by test, privacy_basis, currency`;
  assert.deepEqual(rows.map((r) => [r.test, r.privacy_basis, r.currency, ...pick(r, ['requests', 'bids', 'submitted', 'wins', 'losses', 'spend_micros', 'reported_spend_micros', 'impressions'])]), [
    [false, '', '', 0, 0, 0, 0, 4, 0, 0, 0],
    [false, '', 'USD', 500, 100, 50, 35, 0, 900_000, 900_000, 70],
    [false, 'consent', 'USD', 1000, 300, 110, 50, 30, 1_000_000, 1_000_000, 40],
    [false, 'unrestricted', 'EUR', 100, 30, 10, 5, 0, 100_000, 92_000, 4],
    [true, '', 'USD', 7, 5, 5, 999, 0, 9_999_000, 9_999_000, 999],
  ]);
  assert.equal(num(rows[3]!.reported_spend), 0.092, 'the EUR row says what the EUR invoice says');
  assert.deepEqual(pick(rows[2], ['bids_per_request', 'win_rate', 'avg_clearing_cpm', 'cpm']), exact([0.3, 50 / 110, 2.5, 25]));
});

test('test_campaign_daily_metrics holds only test traffic', async (t) => {
  const sql = await seeded(t);
  const rows = await sql<Record<string, unknown>[]>`select * from test_campaign_daily_metrics order by campaign_id, day`;
  assert.deepEqual(rows.map((r) => [r.campaign_id, r.deal_id, ...pick(r, ['bids', 'submitted', 'wins', 'win_rate', 'spend_micros', 'spend', 'impressions', 'clicks'])]), [
    ['c1', '', 999, 999, 999, 1, 9_999_000, 9.999, 999, 99],
  ]);
});

test('every table, view and function of the analytics migrations is documented', async (t) => {
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
