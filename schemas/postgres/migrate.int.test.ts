/** The migration runner against the real Postgres, each test in a throw-away schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig, postgresSpecs } from '../config.js';
import { migrate, type Sql } from './migrate.js';

const cfg = loadConfig(postgresSpecs);

/** A connection whose search_path is a fresh schema, dropped after the test. */
async function freshSchema(t: { after: (fn: () => Promise<void>) => void }): Promise<{ sql: Sql; schema: string }> {
  const schema = `mig_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(cfg.postgresUrl, { max: 1, onnotice: () => undefined });
  await admin`create schema ${admin(schema)}`;
  const sql = postgres(cfg.postgresUrl, { max: 4, onnotice: () => undefined, connection: { search_path: schema } });
  t.after(async () => {
    await sql.end();
    await admin`drop schema ${admin(schema)} cascade`;
    await admin.end();
  });
  return { sql, schema };
}

test('migrate applies every migration once and records it', async (t) => {
  const { sql, schema } = await freshSchema(t);
  const seen: string[] = [];
  const applied = await migrate(sql, { onApplied: (name) => seen.push(name) });
  assert.ok(applied.includes('001_campaigns.sql'), `applied ${applied.join(', ')}`);
  assert.deepEqual(seen, applied, 'onApplied reports each applied file');
  const tables = await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = ${schema} order by 1`;
  const expected = ['advertisers', 'api_tokens', 'campaigns', 'creatives', 'schema_migrations'];
  assert.deepEqual(tables.map((r) => r.table_name).filter((n) => expected.includes(n)), expected);
  const rows = await sql<{ name: string }[]>`select name from schema_migrations order by name`;
  assert.deepEqual(rows.map((r) => r.name), applied);
  assert.deepEqual(await migrate(sql), [], 'a second run applies nothing');
});

test('migrate lets only one of two concurrent runners apply each migration', async (t) => {
  const { sql } = await freshSchema(t);
  const [a, b] = await Promise.all([migrate(sql), migrate(sql)]);
  assert.ok(a.length > 0 || b.length > 0, 'someone applied the migrations');
  assert.deepEqual([...a, ...b].sort(), [...new Set([...a, ...b])].sort(), 'no migration applied twice');
  const [row] = await sql<{ n: string }[]>`select count(*)::text as n from schema_migrations`;
  assert.equal(Number(row?.n), a.length + b.length);
});

test('migrate rolls back a failing migration and names it', async (t) => {
  const { sql } = await freshSchema(t);
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '001_ok.sql'), 'create table ok_table (id int primary key);');
  await writeFile(join(dir, '002_bad.sql'), 'create table half_done (id int); select * from no_such_table;');
  await assert.rejects(migrate(sql, { dir }), /migration 002_bad\.sql failed: .*no_such_table/);
  const names = (await sql<{ name: string }[]>`select name from schema_migrations`).map((r) => r.name);
  assert.deepEqual(names, ['001_ok.sql'], 'the good migration stays applied');
  const [half] = await sql<{ t: string | null }[]>`select to_regclass('half_done')::text as t`;
  assert.equal(half?.t, null, 'the failing migration left nothing behind');
});

test('migrate refuses to continue when an applied migration was edited', async (t) => {
  const { sql } = await freshSchema(t);
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, '001_ok.sql'), 'create table ok_table (id int primary key);');
  assert.deepEqual(await migrate(sql, { dir }), ['001_ok.sql']);
  await writeFile(join(dir, '001_ok.sql'), 'create table ok_table (id bigint primary key);');
  await assert.rejects(migrate(sql, { dir }), /001_ok\.sql was modified after it was applied/);
});
