/**
 * The schema migration runner. Applies `schemas/postgres/migrations/*.sql` not yet recorded in `schema_migrations`,
 * in name order, each in its own transaction together with its bookkeeping row, so a migration is
 * either fully applied and recorded or not at all.
 *
 * Concurrency: every transaction first takes one transaction-scoped advisory lock and re-reads
 * `schema_migrations` under it, so two runners (two replicas starting at once) serialise and the second
 * finds the work done. Tables are unqualified: they go to the connection's search_path (tests use a
 * throw-away schema).
 *
 * Migrations are recorded by file name, so a file keeps its name wherever the folder lives. Used by the
 * campaigns service and the sink at start and by the CLI (`npm run migrate`, deploy/migrate.ts).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type postgres from 'postgres';

export type Sql = postgres.Sql;

/** Any 64-bit constant works as long as every runner uses the same one. */
const LOCK_KEY = 7_252_133_001;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface MigrateOptions {
  /** Directory of `NNN_name.sql` files (default schemas/postgres/migrations). */
  dir?: string;
  /** Called after each applied migration. */
  onApplied?: (name: string, ms: number) => void;
}

interface Migration {
  name: string;
  text: string;
  checksum: string;
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(`${dir.replace(/\/?$/, '/')}${name}`, 'utf8');
      return { name, text, checksum: createHash('sha256').update(text).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations and returns the names applied (empty when the schema is current).
 * Fails when an applied migration's file has changed since: editing history would make environments diverge.
 */
export async function migrate(sql: Sql, opts: MigrateOptions = {}): Promise<string[]> {
  const migrations = await readMigrations(opts.dir ?? MIGRATIONS_DIR);
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (
      name text primary key,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`;
  });
  const applied: string[] = [];
  for (const m of migrations) {
    const started = performance.now();
    const didApply = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      const [row] = await tx<{ checksum: string }[]>`select checksum from schema_migrations where name = ${m.name}`;
      if (row) {
        if (row.checksum !== m.checksum) throw new Error(`migration ${m.name} was modified after it was applied: add a new migration instead`);
        return false;
      }
      try {
        await tx.unsafe(m.text).simple();
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      await tx`insert into schema_migrations (name, checksum) values (${m.name}, ${m.checksum})`;
      return true;
    });
    if (didApply) {
      applied.push(m.name);
      opts.onApplied?.(m.name, Math.round(performance.now() - started));
    }
  }
  return applied;
}
