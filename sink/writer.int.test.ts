/** The writer and the replay primitives against the real Postgres, each test in a throw-away schema. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WindowCount } from '../schemas/tracking-event.js';
import { isPipelineError } from '../schemas/errors.js';
import type { Sql } from '../schemas/postgres/migrate.js';
import { freshSchema } from '../processors/runtime/fresh-schema.js';
import { claimOffsets, storedOffset } from './offsets.js';
import { aggregateBatches, events, readTotals, rng, totalsOf } from '../processors/testing/sink-parts.fixture.js';
import { applyBatch, removeFromSource, removeFromWindowCountsOffset, type PartAt } from './writer.js';

const G = 'g1';
const WC = 'wc';

/** Appends `parts` to window-counts partition `partition` from `atOffset`, applying them in batches of `size`. */
async function applyAll(sql: Sql, partition: number, parts: readonly WindowCount[], atOffset: number, size: number): Promise<number> {
  await claimOffsets(sql, G, WC, new Map([[partition, 0n]]));
  let offset = atOffset;
  for (let i = 0; i < parts.length; i += size) {
    const chunk: PartAt[] = parts.slice(i, i + size).map((part) => ({ part, offset: BigInt(offset++), timestampMs: 1000 + offset }));
    const expected = (await storedOffset(sql, G, WC, partition))!;
    const r = await applyBatch(sql, { group: G, topic: WC, partition, expectedOffset: expected, nextOffset: BigInt(offset), parts: chunk });
    assert.equal(r.status, 'applied');
  }
  return offset;
}

const count = async (sql: Sql, table: string): Promise<number> => Number((await sql.unsafe<{ n: string }[]>(`select count(*) as n from ${table}`))[0]!.n);

test('writer applies a batch once even when it is delivered again or re-emitted', async (t) => {
  const { sql } = await freshSchema(t);
  const parts = aggregateBatches(events(rng(1), 'a', 200), [0, 50, 120], 'src', 0);
  const end = await applyAll(sql, 0, parts, 0, 1000);
  const once = await readTotals(sql);
  assert.deepEqual(once, totalsOf(parts));
  // The same records at the same window-counts offsets (a redelivery the position did not stop).
  const again = parts.map((part, i) => ({ part, offset: BigInt(i), timestampMs: 1 }));
  const r1 = await applyBatch(sql, { group: G, topic: WC, partition: 0, expectedOffset: BigInt(end), nextOffset: BigInt(end + 1), parts: again });
  assert.deepEqual(r1, { status: 'applied', applied: 0, skipped: parts.length, rowsWritten: 0 });
  // The same parts re-emitted at new offsets, and a part twice within one batch.
  const reEmitted = [...parts, parts[0]!].map((part, i) => ({ part, offset: BigInt(end + 1 + i), timestampMs: 1 }));
  const r2 = await applyBatch(sql, { group: G, topic: WC, partition: 0, expectedOffset: BigInt(end + 1), nextOffset: BigInt(end + 2 + parts.length), parts: reEmitted });
  assert.equal(r2.status === 'applied' && r2.applied, 0);
  assert.deepEqual(await readTotals(sql), once);
  assert.equal(await count(sql, 'window_count_parts'), parts.length);
  // A new part twice in one batch counts once.
  const [fresh] = aggregateBatches(events(rng(7), 'a', 1), [0], 'src-b', 0);
  const at = end + 2 + parts.length;
  const twice = [0, 1].map((i) => ({ part: fresh!, offset: BigInt(at + i), timestampMs: 1 }));
  const r3 = await applyBatch(sql, { group: G, topic: WC, partition: 0, expectedOffset: BigInt(at), nextOffset: BigInt(at + 2), parts: twice });
  assert.deepEqual(r3, { status: 'applied', applied: 1, skipped: 1, rowsWritten: 1 });
  assert.deepEqual(await readTotals(sql), totalsOf([...parts, fresh!]));
});

test('writer compare-and-set rejects a stale expected offset and writes nothing', async (t) => {
  const { sql } = await freshSchema(t);
  await claimOffsets(sql, G, WC, new Map([[3, 40n]]));
  const [part] = aggregateBatches(events(rng(2), 'z', 5), [0], 'src', 0);
  const parts = [{ part: part!, offset: 40n, timestampMs: 1 }];
  assert.deepEqual(await applyBatch(sql, { group: G, topic: WC, partition: 3, expectedOffset: 39n, nextOffset: 41n, parts }), { status: 'zombie', storedOffset: 40n });
  assert.deepEqual(await applyBatch(sql, { group: G, topic: WC, partition: 4, expectedOffset: 0n, nextOffset: 1n, parts }), { status: 'zombie', storedOffset: null });
  assert.equal(await count(sql, 'window_count_parts'), 0);
  assert.equal(await count(sql, 'window_counts'), 0);
  assert.equal(await storedOffset(sql, G, WC, 3), 40n);
  const ok = await applyBatch(sql, { group: G, topic: WC, partition: 3, expectedOffset: 40n, nextOffset: 41n, parts });
  assert.equal(ok.status, 'applied');
  // A zombie that lost the partition after this commit is rejected the same way.
  assert.equal((await applyBatch(sql, { group: G, topic: WC, partition: 3, expectedOffset: 40n, nextOffset: 41n, parts })).status, 'zombie');
  assert.equal(await count(sql, 'window_count_parts'), 1);
  // Two owners racing from the same position: the row lock lets exactly one through.
  const [a, b] = aggregateBatches(events(rng(8), 'r', 40), [0, 20], 'src', 0);
  const race = await Promise.all([a!, b!].map((part) =>
    applyBatch(sql, { group: G, topic: WC, partition: 3, expectedOffset: 41n, nextOffset: 42n, parts: [{ part, offset: 41n, timestampMs: 1 }] })));
  assert.deepEqual(race.map((r) => r.status).sort(), ['applied', 'zombie']);
  assert.equal(await count(sql, 'window_count_parts'), 2);
});

test('removeFromWindowCountsOffset then re-applying gives exactly the totals of one clean pass', async (t) => {
  const { sql } = await freshSchema(t);
  const random = rng(3);
  const byPartition = [0, 1].map((p) => aggregateBatches(events(random, 'w', 300), [0, 40, 90, 160, 230], `src${p}`, p));
  for (const [p, parts] of byPartition.entries()) await applyAll(sql, p, parts, 0, 7);
  const clean = totalsOf(byPartition.flat());
  assert.deepEqual(await readTotals(sql), clean);
  await claimOffsets(sql, 'other-group', WC, new Map([[1, 5n]]));
  const from = 11;
  const r = await removeFromWindowCountsOffset(sql, WC, 1, from);
  const p1 = byPartition[1]!;
  assert.equal(r.partsRemoved, p1.length - from);
  assert.deepEqual(r.groupsRewound, [G], 'a group already below the cut is left where it is');
  assert.equal(await storedOffset(sql, G, WC, 1), BigInt(from));
  assert.equal(await storedOffset(sql, 'other-group', WC, 1), 5n);
  assert.deepEqual(await readTotals(sql), totalsOf([...byPartition[0]!, ...p1.slice(0, from)]), 'exactly the parts below the cut remain');
  await applyAll(sql, 1, p1.slice(from), from, 13); // re-read in other batch sizes
  assert.deepEqual(await readTotals(sql), clean);
});

test('removeFromSource cuts at a batch boundary; re-aggregating with other boundaries gives clean totals', async (t) => {
  const { sql } = await freshSchema(t);
  const evs = events(rng(4), 's', 120);
  const other = aggregateBatches(events(rng(5), 's', 60), [0, 30], 'src', 1);
  const first = aggregateBatches(evs, [0, 25, 50, 80, 100], 'src', 0);
  let end = await applyAll(sql, 0, [...first, ...other], 0, 9);
  const clean = totalsOf([...first, ...other]);
  assert.deepEqual(await readTotals(sql), clean);

  const r = await removeFromSource(sql, 'src', 0, 60);
  assert.equal(r.rewindTo, 50n, 'the batch [50, 79] contains 60: rewind to its start');
  assert.equal(r.partsRemoved, first.filter((p) => p.firstOffset >= 50).length);
  assert.deepEqual(await readTotals(sql), totalsOf([...first.filter((p) => p.firstOffset < 50), ...other]));
  // The aggregate resumes at 50 and batches differently this time.
  const again = aggregateBatches(evs.filter((e) => e.offset >= 50), [50, 57, 93], 'src', 0);
  end = await applyAll(sql, 0, again, end, 11);
  assert.deepEqual(await readTotals(sql), clean);

  // A later window-counts replay over both emissions: the superseded records stay skipped.
  await removeFromWindowCountsOffset(sql, WC, 0, 0);
  assert.deepEqual(await readTotals(sql), new Map());
  await applyAll(sql, 0, [...first, ...other, ...again], 0, 17);
  assert.deepEqual(await readTotals(sql), clean);

  const none = await removeFromSource(sql, 'src', 0, 57);
  assert.equal(none.rewindTo, 57n, 'already a boundary');
  assert.deepEqual((await removeFromSource(sql, 'src', 0, 1000)).partsRemoved, 0);
});

test('replays are refused below the horizon that pruning leaves', async (t) => {
  const { sql } = await freshSchema(t);
  const parts = aggregateBatches(events(rng(6), 'p', 100), [0, 30, 60], 'src', 0);
  await applyAll(sql, 0, parts, 0, 5); // record timestamps 1001, 1002, ...
  const before = await readTotals(sql);
  const [row] = await sql<{ n: string }[]>`select prune_window_count_parts(1011) as n`;
  assert.equal(Number(row!.n), 10);
  assert.deepEqual(await readTotals(sql), before, 'pruning never touches the totals');
  const refused = (err: unknown): boolean => isPipelineError(err, 'BAD_REQUEST') && /replay horizon/.test(err.message);
  await assert.rejects(removeFromWindowCountsOffset(sql, WC, 0, 9), refused);
  await assert.rejects(removeFromSource(sql, 'src', 0, 0), refused);
  const ok = await removeFromWindowCountsOffset(sql, WC, 0, 10);
  assert.equal(ok.partsRemoved, parts.length - 10);
});
