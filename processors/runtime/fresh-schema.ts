/**
 * Test support: a throw-away Postgres schema with every migration applied, dropped after the test, so
 * integration tests use the real server without touching (or being touched by) anyone else's rows.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { loadConfig, postgresSpecs } from '../../schemas/config.js';
import { postgresTls } from './postgres.js';
import { migrate, type Sql } from '../../schemas/postgres/migrate.js';

export interface FreshSchema {
  sql: Sql;
  schema: string;
  /** POSTGRES_URL pointing at the schema (search_path as a connection parameter), for child processes. */
  url: string;
}

export async function freshSchema(t: { after: (fn: () => Promise<void>) => void }, prefix = 'sink'): Promise<FreshSchema> {
  const cfg = loadConfig(postgresSpecs);
  const base = cfg.postgresUrl;
  const tls = postgresTls(cfg);
  const schema = `${prefix}_${randomUUID().replaceAll('-', '')}`;
  const admin = postgres(base, { max: 1, onnotice: () => undefined, ...tls });
  await admin`create schema ${admin(schema)}`;
  const sql = postgres(base, { max: 4, onnotice: () => undefined, connection: { search_path: schema }, ...tls });
  t.after(async () => {
    await sql.end({ timeout: 5 });
    await admin`drop schema ${admin(schema)} cascade`;
    await admin.end();
  });
  await migrate(sql);
  const url = new URL(base);
  url.searchParams.set('search_path', schema);
  return { sql, schema, url: url.toString() };
}
