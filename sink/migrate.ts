/**
 * The schema migration runner. Applies `sink/migrations/*.sql` not yet recorded in `schema_migrations`,
 * in name order, each in its own transaction together with its bookkeeping row, so a migration is
 * either fully applied and recorded or not at all.
 *
 * Concurrency: every transaction first takes one transaction-scoped advisory lock and re-reads
 * `schema_migrations` under it, so two runners (two replicas starting at once) serialise and the second
 * finds the work done. Tables are unqualified: they go to the connection's search_path (tests use a
 * throw-away schema).
 *
 * CLI: `node --import tsx sink/migrate.ts` prints each file it applies and exits non-zero with one line
 * naming the failing file and the database's message.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { loadConfig, postgresSpecs } from '../schemas/config.js';
import { postgresTls } from '../processors/runtime/postgres.js';

export type Sql = postgres.Sql;

/** Any 64-bit constant works as long as every runner uses the same one. */
const LOCK_KEY = 7_252_133_001;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface MigrateOptions {
  /** Directory of `NNN_name.sql` files (default sink/migrations). */
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

async function main(): Promise<void> {
  let sql: Sql | undefined;
  try {
    const cfg = loadConfig(postgresSpecs);
    sql = postgres(cfg.postgresUrl, { max: 1, onnotice: () => undefined, ...postgresTls(cfg) });
    const applied = await migrate(sql, { onApplied: (name, ms) => process.stdout.write(`migrate: applied ${name} (${ms} ms)\n`) });
    process.stdout.write(applied.length === 0 ? 'migrate: schema is up to date\n' : `migrate: ${applied.length} migration(s) applied\n`);
    await sql.end();
  } catch (err) {
    // Errors without a SQLSTATE are connection failures: say which variable points at the server.
    const e = err as { code?: unknown; name?: string; message: string };
    const unreachable = typeof e.code === 'string' && e.name !== 'PostgresError' && e.code !== 'CONFIG_INVALID';
    process.stderr.write(`migrate: FAILED: ${unreachable ? `cannot reach Postgres (${e.message}): check POSTGRES_URL` : e.message}\n`);
    await sql?.end({ timeout: 1 }).catch(() => undefined);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
