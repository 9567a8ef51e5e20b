/**
 * Applies pending Postgres migrations (schemas/postgres/migrate.ts) to the database of POSTGRES_URL.
 *
 * CLI: `node --import tsx deploy/migrate.ts` (`npm run migrate`) prints each file it applies and exits
 * non-zero with one line naming the failing file and the database's message.
 */
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { loadConfig, postgresSpecs } from '../schemas/config.js';
import { migrate, type Sql } from '../schemas/postgres/migrate.js';
import { postgresTls } from '../processors/runtime/postgres.js';

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
