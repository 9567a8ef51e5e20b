import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InRecord } from '../runtime/processor.js';
import { isPipelineError } from '../../schemas/errors.js';
import type { LossNotice, TrackingEvent, TrackingType } from '../../schemas/tracking-event.js';
import { settleProcessor, type SettleProcessorDeps } from './settle-processor.js';
import type { PerfRef, ReservationRef, SettleRef } from './settle-scripts.js';

const event = (type: TrackingType, requestId: string, extra: Partial<TrackingEvent> = {}): InRecord<TrackingEvent | LossNotice> => ({
  topic: 'tracking-events', partition: 0, offset: '0', key: requestId, timestampMs: 0,
  value: {
    eventId: `${requestId}-${type}`, type, requestId, impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22',
    priceMicros: 2_000_000, costMicros: 2_000, auctionAtMs: 0, occurredAtMs: 0, ingestNodeId: 'e', ...extra,
  },
});
const loss = (requestId: string, test = false): InRecord<TrackingEvent | LossNotice> => ({
  topic: 'loss-notices', partition: 0, offset: '0', key: requestId, timestampMs: 0,
  value: {
    eventId: `${requestId}-LOSS`, requestId, impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22', exchange: 'x',
    lossReason: 102, priceMicros: 0, test, dealId: '', privacyBasis: '', currency: 'USD', auctionAtMs: 0, occurredAtMs: 0, ingestNodeId: 'e',
  },
});

function harness(overrides: Partial<SettleProcessorDeps> = {}) {
  const calls = { settle: [] as SettleRef[][], lost: [] as ReservationRef[][], perf: [] as PerfRef[][] };
  const counted: string[] = [];
  const p = settleProcessor({
    input: 'tracking-events', lossInput: 'loss-notices',
    settle: async (refs) => (calls.settle.push([...refs]), refs.map((_, i) => (i === 0 ? 'settled' : 'adjusted'))),
    releaseLost: async (refs) => (calls.lost.push([...refs]), refs.map(() => 'released')),
    countPerf: async (refs) => (calls.perf.push([...refs]), refs.map((_, i) => (i === 0 ? 'counted' : 'duplicate'))),
    onResult: (r, e) => counted.push(`${e.type}:${r}`),
    onLoss: (r) => counted.push(`LOSS:${r}`),
    onPerf: (r, e) => counted.push(`${e.type}:${r}`),
    ...overrides,
  });
  return { p, calls, counted };
}

test('settle-processor reads both topics and writes nothing', () => {
  const { p } = harness();
  assert.equal(p.name, 'settle');
  assert.deepEqual(p.input, ['tracking-events', 'loss-notices']);
  assert.deepEqual(p.outputs, []);
});

test('settle-processor settles WIN/BILLING with their cost, releases lost reservations and counts impressions and clicks: one call each per batch', async () => {
  const { p, calls, counted } = harness();
  const batch = [
    event('IMPRESSION', 'r1'), event('WIN', 'r1', { costMicros: 1_840 }), event('CLICK', 'r1'), event('BILLING', 'r1', { costMicros: 1_800 }), event('CONVERSION', 'r2'), loss('r3'),
  ];
  const ctx = await p.prepare!(batch);
  assert.deepEqual(calls.settle, [[
    { campaignId: 'c', requestId: 'r1', impId: '1', dayKey: '2026-11-22', kind: 'WIN', costMicros: 1_840 },
    { campaignId: 'c', requestId: 'r1', impId: '1', dayKey: '2026-11-22', kind: 'BILLING', costMicros: 1_800 },
  ]]);
  assert.deepEqual(calls.lost, [[{ campaignId: 'c', requestId: 'r3', impId: '1' }]]);
  assert.deepEqual(calls.perf, [[{ campaignId: 'c', eventId: 'r1-IMPRESSION', type: 'IMPRESSION' }, { campaignId: 'c', eventId: 'r1-CLICK', type: 'CLICK' }]]);
  assert.deepEqual(counted, ['WIN:settled', 'BILLING:adjusted', 'LOSS:released', 'IMPRESSION:counted', 'CLICK:duplicate']);
  for (const r of batch) assert.deepEqual(await p.process(r, ctx), []);
});

test('settle-processor leaves test traffic alone: nothing settled, charged, released or counted', async () => {
  const { p, calls, counted } = harness();
  const test = { test: true };
  await p.prepare!([event('WIN', 't', test), event('BILLING', 't', test), event('IMPRESSION', 't', test), event('CLICK', 't', test), loss('t', true)]);
  assert.deepEqual([calls.settle, calls.lost, calls.perf], [[[]], [[]], [[]]]);
  assert.deepEqual(counted, ['WIN:test', 'BILLING:test', 'IMPRESSION:test', 'CLICK:test', 'LOSS:test']);
});

test('settle-processor dead-letters a WIN/BILLING whose cost is not a non-negative integer, and settles the rest', async () => {
  const { p, calls } = harness();
  const bad = event('BILLING', 'bad', { costMicros: -5 });
  const good = event('WIN', 'good');
  const ctx = await p.prepare!([bad, good]);
  assert.deepEqual(calls.settle[0]!.map((r) => r.requestId), ['good']);
  assert.throws(() => p.process(bad, ctx), (e) => isPipelineError(e, 'INVALID_RECORD') && /cost -5/.test(e.message));
  assert.deepEqual(await p.process(good, ctx), []);
});

test('settle-processor fails the batch when Redis fails (the runner retries it)', async () => {
  await assert.rejects(harness({ settle: async () => Promise.reject(new Error('redis down')) }).p.prepare!([event('WIN', 'r1')]), /redis down/);
  await assert.rejects(harness({ releaseLost: async () => Promise.reject(new Error('redis down')) }).p.prepare!([loss('r1')]), /redis down/);
  await assert.rejects(harness({ countPerf: async () => Promise.reject(new Error('redis down')) }).p.prepare!([event('CLICK', 'r1')]), /redis down/);
});
