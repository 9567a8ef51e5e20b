/**
 * Removes what a run put into Postgres and Redis through the aggregate and the sink, and only that. Its parts are also in the
 * shared '*' rows, which a delete by prefix cannot reach: the sink's replay primitive (sink/take-back.ts) subtracts them from
 * offset 0 on each partition. Then leftover rows, ledger, sink_offsets and de-duplication keys. Only after both have stopped.
 */
import { unlinkMatching } from './catalogue.js';
import { removeFromWindowCountsOffset } from '../../sink/take-back.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import { seenKey } from '../../processors/aggregate/dedup.js';

export interface CleanupResult {
  partsTakenBack: number;
  rowsUpdatedByTakeBack: number;
  leftoverRowsDeleted: number;
  ledgerRowsDeleted: number;
  offsetRowsDeleted: number;
  dedupKeysDeleted: number;
  errors: string[];
}

const SAFE = /^[A-Za-z0-9._-]+$/;

/** Sum of `requests` over the shared all-request rows (campaign '*'); null when unreadable. */
export async function allRequests(sql: Sql): Promise<number | null> {
  const rows = await sql<Array<{ n: string }>>`select coalesce(sum(requests), 0)::text as n from window_counts where campaign_id = '*'`.catch(() => null);
  return rows?.[0] ? Number(rows[0].n) : null;
}

export async function cleanupRun(
  sql: Sql, redisUrl: string, o: { topic: string; group: string; partitions: number; campaignPrefix: string; eventIdPrefix: string },
): Promise<CleanupResult> {
  const r: CleanupResult = {
    partsTakenBack: 0, rowsUpdatedByTakeBack: 0, leftoverRowsDeleted: 0, ledgerRowsDeleted: 0, offsetRowsDeleted: 0, dedupKeysDeleted: 0, errors: [],
  };
  if (!SAFE.test(o.campaignPrefix) || !SAFE.test(o.eventIdPrefix) || o.campaignPrefix.length < 8) {
    r.errors.push(`refusing to clean up with prefixes ${JSON.stringify([o.campaignPrefix, o.eventIdPrefix])}`);
    return r;
  }
  for (let p = 0; p < o.partitions; p++) {
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const t = await removeFromWindowCountsOffset(sql, o.topic, p, 0);
        r.partsTakenBack += t.partsRemoved;
        r.rowsUpdatedByTakeBack += t.rowsUpdated;
        break;
      } catch (err) {
        // A deadlock with another sink updating the same '*' row is retryable; anything else is reported.
        if (attempt === 3) r.errors.push(`take-back of ${o.topic}/${p}: ${(err as Error).message}`);
        else await new Promise((res) => setTimeout(res, 200 * attempt));
      }
    }
  }
  const run = async (what: string, f: () => Promise<number>): Promise<number> => {
    try {
      return await f();
    } catch (err) {
      r.errors.push(`${what}: ${(err as Error).message}`);
      return 0;
    }
  };
  const prefix = `${o.campaignPrefix}-%`;
  r.leftoverRowsDeleted = await run('delete window_counts', async () => (await sql`delete from window_counts where campaign_id like ${prefix}`).count);
  r.ledgerRowsDeleted = await run('delete window_count_parts', async () => (await sql`delete from window_count_parts where wc_topic = ${o.topic}`).count);
  r.offsetRowsDeleted = await run('delete sink_offsets', async () => (await sql`delete from sink_offsets where group_id = ${o.group}`).count);
  r.dedupKeysDeleted = await run('redis dedup keys', () => unlinkMatching(redisUrl, [`${seenKey(o.eventIdPrefix)}*`]));
  return r;
}
