/**
 * The Postgres writer: applies one batch of window-counts records in ONE transaction.
 *
 * 1. Compare-and-set of the partition's position: `next_offset = $next WHERE ... AND next_offset =
 *    $expected`. It runs first so it also takes the row lock: two consumers holding the same partition
 *    (a zombie and the new owner) serialise on it, and the loser's WHERE no longer matches after the
 *    winner commits. 0 rows = this consumer's view of the partition is stale: roll back, write nothing.
 * 2. One statement for the data (statements.ts): ledger insert ON CONFLICT DO NOTHING, then the
 *    multi-row upsert `count = count + excluded.count` of only the newly inserted parts.
 *
 * Both commit or neither does, so Postgres holds exactly the parts below `next_offset`, each once.
 * The replay primitives live in take-back.ts and are re-exported here.
 */
import type { Sql } from '../schemas/postgres/migrate.js';
import { PipelineError } from '../schemas/errors.js';
import { toColumns, type PartAt } from './part-rows.js';
import { applyPartsSql } from './statements.js';
import { asPipelineError } from './pg-errors.js';

export { removeFromSource, removeFromWindowCountsOffset, type SourceRemoval, type WindowCountsRemoval } from './take-back.js';
export type { PartAt } from './part-rows.js';

export interface ApplyRequest {
  /** Sink consumer group (SINK_GROUP). */
  readonly group: string;
  /** The window-counts topic and partition the records came from. */
  readonly topic: string;
  readonly partition: number;
  /** The position this consumer believes is stored (what it sought to, or its last commit). */
  readonly expectedOffset: bigint;
  /** Last offset of the batch + 1. */
  readonly nextOffset: bigint;
  /** The decodable, valid records of the batch (may be empty when every record was dead-lettered). */
  readonly parts: readonly PartAt[];
}

export type ApplyResult =
  | { readonly status: 'applied'; readonly applied: number; readonly skipped: number; readonly rowsWritten: number }
  /** The stored position was not `expectedOffset`: nothing was written. `storedOffset` null = no row. */
  | { readonly status: 'zombie'; readonly storedOffset: bigint | null };

/** Thrown inside the transaction to roll it back; never escapes this module. */
class StalePosition {
  constructor(readonly stored: bigint | null) {}
}

const APPLY_SQL = applyPartsSql();

export async function applyBatch(sql: Sql, req: ApplyRequest): Promise<ApplyResult> {
  const { group, topic, partition, expectedOffset, nextOffset, parts } = req;
  if (nextOffset <= expectedOffset) throw new PipelineError('BAD_REQUEST', `applyBatch: nextOffset ${nextOffset} must be after expectedOffset ${expectedOffset}`);
  try {
    return await sql.begin(async (tx) => {
      const cas = await tx`update sink_offsets set next_offset = ${String(nextOffset)}, updated_at = now()
        where group_id = ${group} and topic = ${topic} and partition = ${partition} and next_offset = ${String(expectedOffset)}`;
      if (cas.count === 0) {
        const [row] = await tx<{ next_offset: string }[]>`select next_offset from sink_offsets
          where group_id = ${group} and topic = ${topic} and partition = ${partition}`;
        throw new StalePosition(row ? BigInt(row.next_offset) : null);
      }
      if (parts.length === 0) return { status: 'applied', applied: 0, skipped: 0, rowsWritten: 0 } as const;
      const c = toColumns(parts);
      const params = [
        topic, partition, ...c.keys, ...c.counters,
        c.sourceTopic, c.sourcePartition, c.firstOffset, c.lastOffset, c.wcOffset, c.wcTimestampMs,
      ];
      const [r] = await tx.unsafe<{ applied: number; written: number }[]>(APPLY_SQL, params as never[], { prepare: true });
      const applied = r?.applied ?? 0;
      return { status: 'applied', applied, skipped: parts.length - applied, rowsWritten: r?.written ?? 0 } as const;
    });
  } catch (err) {
    if (err instanceof StalePosition) return { status: 'zombie', storedOffset: err.stored };
    throw asPipelineError(err);
  }
}
