/**
 * Migration 004 on a database that already has counts (issue 10): applies 001-003, writes rows as the
 * sink of before wrote them, applies the rest, and checks what became of them, and that the summary
 * and the ledger still agree (a replay subtracts ledger rows from the summary).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { loadConfig, postgresSpecs } from '../schemas/config.js';
import { postgresTls } from '../processors/runtime/postgres.js';
import { migrate } from '../schemas/postgres/migrate.js';
import { removeFromWindowCountsOffset } from './writer.js';

const MIGRATIONS = fileURLToPath(new URL('../schemas/postgres/migrations/', import.meta.url));
const cfg = loadConfig(postgresSpecs);

test('migration 004 moves the old wins (our picks) to submitted, keys old rows as live open-auction USD traffic, and keeps the ledger equal to the summary', async (t) => {
  const schema = `mig4_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(cfg.postgresUrl, { max: 1, onnotice: () => undefined, ...postgresTls(cfg) });
  await admin`create schema ${admin(schema)}`;
  const sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined, connection: { search_path: schema }, ...postgresTls(cfg) });
  const before = await mkdtemp(join(tmpdir(), 'migrations-'));
  t.after(async () => {
    await sql.end();
    await admin`drop schema ${admin(schema)} cascade`;
    await admin.end();
    await rm(before, { recursive: true, force: true });
  });
  for (const f of (await readdir(MIGRATIONS)).filter((f) => f < '004')) await copyFile(join(MIGRATIONS, f), join(before, f));
  assert.deepEqual(await migrate(sql, { dir: before }), ['001_campaigns.sql', '002_analytics.sql', '003_api_tokens.sql']);

  // As the sink of issue 5 wrote them: one part on window-counts offset 0, added into its row.
  const W = Date.UTC(2026, 10, 20, 12, 0);
  await sql`insert into window_counts (campaign_id, creative_id, window_start_ms, window_ms, requests, bids, wins, win_cost_micros, spend_micros, clearing_price_micros, impressions)
    values ('c1', 'k1', ${W}, 60000, 0, 9, 4, 8000, 7000, 8000000, 3), ('*', '', ${W}, 60000, 20, 12, 5, 0, 0, 0, 0)`;
  await sql`insert into window_count_parts (wc_topic, wc_partition, wc_offset, wc_timestamp_ms, source_topic, source_partition, first_offset, last_offset,
      campaign_id, creative_id, window_start_ms, window_ms, requests, bids, wins, win_cost_micros, spend_micros, clearing_price_micros, impressions)
    values ('wc', 0, 0, ${W}, 'auction-outcomes', 0, 0, 9, 'c1', 'k1', ${W}, 60000, 0, 9, 4, 8000, 7000, 8000000, 3),
           ('wc', 0, 1, ${W}, 'auction-outcomes', 0, 0, 9, '*', '', ${W}, 60000, 20, 12, 5, 0, 0, 0, 0)`;
  await sql`insert into sink_offsets (group_id, topic, partition, next_offset) values ('g', 'wc', 0, 2)`;

  assert.equal((await migrate(sql))[0], '004_exchange_wins_and_dimensions.sql', 'the next migration applied is 004 (later ones follow it)');
  for (const table of ['window_counts', 'window_count_parts']) {
    const rows = await sql.unsafe<Array<Record<string, unknown>>>(`select campaign_id, deal_id, test, privacy_basis, currency, bids::int, submitted::int, wins::int,
      submitted_price_micros::int, clearing_price_micros::int, win_cost_micros::int, spend_micros::int, reported_spend_micros::int, losses::int from ${table} order by campaign_id`);
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      { campaign_id: '*', deal_id: '', test: false, privacy_basis: '', currency: 'USD', bids: 12, submitted: 5, wins: 0, submitted_price_micros: 0, clearing_price_micros: 0, win_cost_micros: 0, spend_micros: 0, reported_spend_micros: 0, losses: 0 },
      { campaign_id: 'c1', deal_id: '', test: false, privacy_basis: '', currency: 'USD', bids: 9, submitted: 4, wins: 0, submitted_price_micros: 8_000_000, clearing_price_micros: 0, win_cost_micros: 8000, spend_micros: 7000, reported_spend_micros: 7000, losses: 0 },
    ], `${table}: old wins are bids submitted; no exchange win was recorded before; USD spend is the reported spend`);
  }
  const [daily] = await sql`select submitted::int, wins::int, win_rate, spend_micros::int from campaign_daily_metrics where campaign_id = 'c1'`;
  assert.deepEqual({ ...daily, win_rate: Number(daily!.win_rate) }, { submitted: 4, wins: 0, win_rate: 0, spend_micros: 7000 });

  // A row of another deal in the same window is a row of its own (the key has the dimensions) ...
  await sql`insert into window_counts (campaign_id, creative_id, deal_id, window_start_ms, window_ms, bids) values ('c1', 'k1', 'deal-1', ${W}, 60000, 1)`;
  // ... and taking the migrated parts back (a replay) empties exactly the migrated rows.
  const r = await removeFromWindowCountsOffset(sql, 'wc', 0, 0);
  assert.equal(r.partsRemoved, 2);
  const left = await sql`select campaign_id, deal_id, bids::int from window_counts`;
  assert.deepEqual(left.map((x) => ({ ...x })), [{ campaign_id: 'c1', deal_id: 'deal-1', bids: 1 }]);
});
