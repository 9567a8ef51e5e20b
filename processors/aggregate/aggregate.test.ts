import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { aggregateProcessor } from './aggregate.js';
import type { FirstSeen } from './dedup.js';
import type { InRecord } from '../runtime/processor.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { LossNotice, TrackingEvent, WindowCount } from '../../schemas/tracking-event.js';

const MIN = 60_000;
const notice = (eventId: string, type: TrackingEvent['type'], occurredAtMs: number): TrackingEvent => ({
  eventId, type, requestId: 'r', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: 'd', priceMicros: 2_000_000, costMicros: 2_000, auctionAtMs: 0, occurredAtMs, ingestNodeId: 'e',
});
const outcome = (requestId: string, receivedAtMs: number): AuctionOutcome => ({
  requestId, userId: null, at: 2, test: false, receivedAtMs, decidedAtMs: receivedAtMs, impCount: 1, bids: [], wins: [], noBidReason: 'no_bids', nbr: 500,
});

/** An in-memory stand-in for Redis' first-seen set, with the same contract as dedup.ts. */
function memoryFirstSeen(): FirstSeen {
  const seen = new Map<string, string>();
  return async (xs) => xs.map(({ eventId, position }) => {
    const p = seen.get(eventId);
    if (p === undefined) seen.set(eventId, position);
    return p === undefined || p === position;
  });
}

async function runBatch(records: Array<InRecord<AuctionOutcome | TrackingEvent | LossNotice>>, firstSeen: FirstSeen) {
  const p = aggregateProcessor({ outcomesTopic: 'o', trackingTopic: 't', lossesTopic: 'l', output: 'w', windowMs: MIN, latenessMs: 10 * MIN, firstSeen, log: pino({ level: 'silent' }) });
  const ctx = await p.prepare!(records);
  for (const r of records) assert.deepEqual(await p.process(r, ctx), [], 'nothing is emitted per record');
  const out = await p.flush!(ctx, { topic: records[0]!.topic, partition: 0, firstOffset: records[0]!.offset, lastOffset: records.at(-1)!.offset });
  return out.map((o) => ({ topic: o.topic, key: o.key, value: o.value as WindowCount }));
}
const rec = <T>(topic: string, offset: number, value: T, timestampMs: number): InRecord<T> => ({ topic, partition: 0, offset: String(offset), key: null, value, timestampMs });

test('aggregate emits one partial sum per key and window for the whole batch, keyed by campaign', async () => {
  const out = await runBatch([rec('t', 0, notice('e1', 'CLICK', 5_000), 6_000), rec('t', 1, notice('e2', 'CLICK', 7_000), 8_000), rec('t', 2, notice('e3', 'IMPRESSION', 65_000), 66_000)], memoryFirstSeen());
  assert.deepEqual(out.map((o) => [o.topic, o.key, o.value.windowStartMs, o.value.clicks, o.value.impressions]), [['w', 'c', 0, 2, 0], ['w', 'c', MIN, 0, 1]]);
  assert.deepEqual([out[0]?.value.firstOffset, out[0]?.value.lastOffset, out[0]?.value.sourceTopic], [0, 2, 't']);
});

test('aggregate counts a repeated notice once, and the same record re-processed again (a retried batch)', async () => {
  const fs = memoryFirstSeen();
  const batch = [rec('t', 10, notice('dup', 'CLICK', 1_000), 2_000), rec('t', 11, notice('dup', 'CLICK', 1_500), 2_500)];
  const first = await runBatch(batch, fs);
  assert.equal(first[0]?.value.clicks, 1, 'the second notice with the same id is a duplicate');
  const again = await runBatch(batch, fs);
  assert.equal(again[0]?.value.clicks, 1, 're-processing the same records counts the first sighting again, not zero');
});

test('aggregate drops records that reached Kafka later than the horizon, by Kafka timestamp not wall clock', async () => {
  const out = await runBatch([rec('o', 0, outcome('r1', 0), 10 * MIN), rec('o', 1, outcome('r2', 0), 10 * MIN + 1), rec('o', 2, outcome('r3', 5 * MIN), 14 * MIN)], memoryFirstSeen());
  assert.deepEqual(out.map((o) => [o.value.windowStartMs, o.value.requests]), [[0, 1], [5 * MIN, 1]]);
});

test('aggregate counts a re-emitted auction outcome (same request, another offset) once, and a retried batch again', async () => {
  const fs = memoryFirstSeen();
  const batch = [rec('o', 0, outcome('r1', 1_000), 1_100), rec('o', 1, outcome('r2', 2_000), 2_100), rec('o', 2, outcome('r1', 1_000), 3_000)];
  const first = await runBatch(batch, fs);
  assert.deepEqual(first.map((o) => [o.value.windowStartMs, o.value.requests]), [[0, 2]], 'r1 counted once, r2 once');
  const later = await runBatch([rec('o', 7, outcome('r1', 1_000), 9_000)], fs);
  assert.deepEqual(later, [], 'a copy in a later batch adds nothing');
  const again = await runBatch(batch, fs);
  assert.deepEqual(again.map((o) => o.value.requests), [2], 're-processing the same records counts the first sightings again');
});

test('aggregate keeps outcome and notice ids apart: a notice whose id equals a request id is not a duplicate of its outcome', async () => {
  const fs = memoryFirstSeen();
  const out = await runBatch([rec('o', 0, outcome('x', 1_000), 1_100)], fs);
  const notices = await runBatch([rec('t', 0, notice('x', 'CLICK', 1_000), 1_100)], fs);
  assert.equal(out[0]?.value.requests, 1);
  assert.equal(notices[0]?.value.clicks, 1);
});

const loss = (eventId: string, occurredAtMs: number): LossNotice => ({
  eventId, requestId: 'r', impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: 'd', exchange: 'x', lossReason: -1, priceMicros: 0,
  test: false, dealId: '', privacyBasis: 'unrestricted', currency: 'USD', auctionAtMs: 0, occurredAtMs, ingestNodeId: 'e',
});

test('aggregate counts loss notices from their own topic, a repeated one once, and keeps their ids apart from tracking event ids', async () => {
  const fs = memoryFirstSeen();
  const out = await runBatch([rec('l', 0, loss('same-id', 1_000), 1_100), rec('l', 1, loss('same-id', 1_200), 1_300), rec('l', 2, loss('other', 2_000), 2_100)], fs);
  assert.deepEqual(out.map((o) => [o.key, o.value.losses, o.value.sourceTopic]), [['c', 2, 'l']], 'same-id counted once, other once');
  const notices = await runBatch([rec('t', 0, notice('same-id', 'CLICK', 1_000), 1_100)], fs);
  assert.equal(notices[0]?.value.clicks, 1, 'a tracking event with the id of a loss notice is not its duplicate');
  const late = await runBatch([rec('l', 5, loss('late', 0), 10 * MIN + 1)], fs);
  assert.deepEqual(late, [], 'a loss notice past the lateness horizon is dropped');
});
