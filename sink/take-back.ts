/**
 * Replay primitives: take applied parts back out of window_counts, exactly, so that re-applying them
 * (or their re-aggregation) ends in the totals of a single clean pass. Each runs in one transaction
 * and relies on the ledger (window_count_parts), which knows every applied part's counters.
 *
 * Both refuse (BAD_REQUEST) to start below the replay horizon: ledger rows pruned by
 * prune_window_count_parts can no longer be subtracted, so such a replay would count twice.
 */
import type postgres from 'postgres';
import type { Sql } from '../schemas/postgres/migrate.js';
import { PipelineError } from '../schemas/errors.js';
import { asPipelineError } from './pg-errors.js';
import { deleteEmptyRowsSql, takeBackSql } from './statements.js';
import { KEY } from './part-rows.js';

type Tx = postgres.TransactionSql;

export interface WindowCountsRemoval {
  /** Ledger rows deleted (parts taken back). */
  readonly partsRemoved: number;
  /** window_counts rows the subtraction touched (emptied rows are then deleted). */
  readonly rowsUpdated: number;
  /** Sink groups whose next_offset moved back to fromOffset. */
  readonly groupsRewound: readonly string[];
}

export interface SourceRemoval {
  /** Where the aggregate must resume for this source partition: a batch boundary <= fromSourceOffset. */
  readonly rewindTo: bigint;
  /** Ledger rows marked superseded (parts taken back). */
  readonly partsRemoved: number;
  readonly rowsUpdated: number;
}

const TAKE_BACK_WC = takeBackSql(`delete from window_count_parts
  where wc_topic = $1 and wc_partition = $2 and wc_offset >= $3 and superseded_at is null`);
const TAKE_BACK_SOURCE = takeBackSql(`update window_count_parts set superseded_at = now()
  where source_topic = $1 and source_partition = $2 and first_offset >= $3 and superseded_at is null`);

/** The take-back's answer; `zero_<i>` (one per key column) are the keys of the rows it emptied. */
interface TakeBackRow {
  parts: number;
  keys: number;
  rows: number;
  [zeroKey: `zero_${number}`]: string[];
}

async function takeBack(tx: Tx, statement: string, params: Array<string | number>): Promise<{ parts: number; rows: number }> {
  const [r] = await tx.unsafe<TakeBackRow[]>(statement, params, { prepare: true });
  if (!r) return { parts: 0, rows: 0 };
  // The ledger's live rows are by construction inside window_counts; if not, subtracting would be a guess.
  if (r.rows !== r.keys) throw new Error(`ledger and window_counts disagree: ${r.keys} keys taken back, ${r.rows} rows found; nothing changed`);
  const emptied = KEY.map((_, i) => r[`zero_${i}`] ?? []);
  if (emptied[0]!.length > 0) await tx.unsafe(deleteEmptyRowsSql(), emptied as never[]);
  return { parts: r.parts, rows: r.rows };
}

/** One transaction; database trouble surfaces as a PipelineError with its retryable flag (a deadlock with the sink can simply be retried). */
async function inTransaction<R>(sql: Sql, fn: (tx: Tx) => Promise<R>): Promise<R> {
  try {
    return (await sql.begin(fn)) as R;
  } catch (err) {
    throw asPipelineError(err);
  }
}

async function assertAboveHorizon(tx: Tx, kind: 'window-counts' | 'source', topic: string, partition: number, from: bigint): Promise<void> {
  const [h] = await tx<{ min_offset: string }[]>`select min_offset from window_count_replay_horizons
    where kind = ${kind} and topic = ${topic} and partition = ${partition}`;
  if (h && from < BigInt(h.min_offset)) {
    throw new PipelineError('BAD_REQUEST', `cannot replay ${kind} ${topic}/${partition} from ${from}: the ledger was pruned below ${h.min_offset} (the replay horizon)`);
  }
}

/**
 * Takes back every live part consumed from window-counts `topic`/`partition` at offsets >= fromOffset
 * (subtracts its counters, deletes its ledger row) and moves every sink group's next_offset for that
 * partition back to fromOffset (groups already below it stay). A running sink notices on its next
 * compare-and-set (its expected offset no longer matches) and seeks back by itself; a stopped one
 * seeks there on assignment. Superseded rows (see removeFromSource) stay, so re-reading them is skipped.
 *
 * The sink_offsets rows are locked first, in the same order as the sink's own transactions take them,
 * so a concurrent sink batch either commits before (and is taken back too) or after (and is rejected).
 */
export async function removeFromWindowCountsOffset(sql: Sql, topic: string, partition: number, fromOffset: bigint | number): Promise<WindowCountsRemoval> {
  const from = BigInt(fromOffset);
  return inTransaction(sql, async (tx) => {
    await tx`select 1 from sink_offsets where topic = ${topic} and partition = ${partition} for update`;
    await assertAboveHorizon(tx, 'window-counts', topic, partition, from);
    const rewound = await tx<{ group_id: string }[]>`update sink_offsets set next_offset = ${String(from)}, updated_at = now()
      where topic = ${topic} and partition = ${partition} and next_offset > ${String(from)} returning group_id`;
    const { parts, rows } = await takeBack(tx, TAKE_BACK_WC, [topic, partition, String(from)]);
    return { partsRemoved: parts, rowsUpdated: rows, groupsRewound: rewound.map((r) => r.group_id).sort() };
  });
}

/**
 * Takes back the parts of aggregate input `sourceTopic`/`sourcePartition` from `fromSourceOffset` on,
 * so that the aggregate can re-process that range. Parts are whole batches, so the cut must be a batch
 * boundary: when an applied part's range CONTAINS fromSourceOffset (it starts before it), that part is
 * taken back too and `rewindTo` is its firstOffset (repeated until no live part straddles the cut);
 * otherwise `rewindTo` = fromSourceOffset. Every live part with firstOffset >= rewindTo is taken back.
 * The caller then resets the aggregate's committed offset for that partition to exactly `rewindTo`:
 * resuming later would lose [rewindTo, resume), resuming earlier would count records twice.
 *
 * Taken-back parts are marked superseded rather than deleted, so if their old window-counts records are
 * ever read again (a later removeFromWindowCountsOffset) they are skipped: only the re-aggregation counts.
 *
 * Preconditions (the ledger only knows what the sink has applied): stop the aggregate first, and wait
 * until the sink has applied every window-counts record the aggregate wrote (sink lag 0 on every
 * window-counts partition: one batch's parts are spread over partitions by campaign). A part still
 * unread would be applied later on top of its re-aggregation. Batches of one source partition never
 * overlap (each is committed with the aggregate's offsets), which is what makes walking back from
 * the nearest preceding part enough.
 */
export async function removeFromSource(sql: Sql, sourceTopic: string, sourcePartition: number, fromSourceOffset: bigint | number): Promise<SourceRemoval> {
  let rewindTo = BigInt(fromSourceOffset);
  return inTransaction(sql, async (tx) => {
    for (;;) {
      const [prev] = await tx<{ first_offset: string; last_offset: string }[]>`select first_offset, last_offset from window_count_parts
        where source_topic = ${sourceTopic} and source_partition = ${sourcePartition} and superseded_at is null and first_offset < ${String(rewindTo)}
        order by first_offset desc limit 1`;
      if (!prev || BigInt(prev.last_offset) < rewindTo) break;
      rewindTo = BigInt(prev.first_offset);
    }
    await assertAboveHorizon(tx, 'source', sourceTopic, sourcePartition, rewindTo);
    const { parts, rows } = await takeBack(tx, TAKE_BACK_SOURCE, [sourceTopic, sourcePartition, String(rewindTo)]);
    return { rewindTo, partsRemoved: parts, rowsUpdated: rows };
  });
}
