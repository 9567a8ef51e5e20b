import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InRecord } from '../runtime/processor.js';
import type { TrackingEvent, TrackingType } from '../../schemas/tracking-event.js';
import { settleProcessor } from './settle-processor.js';
import type { ReservationRef, SettleResult } from './settle-scripts.js';

const event = (type: TrackingType, requestId: string): InRecord<TrackingEvent> => ({
  topic: 'tracking-events', partition: 0, offset: '0', key: requestId, timestampMs: 0,
  value: {
    eventId: `${requestId}-${type}`, type, requestId, impId: '1', campaignId: 'c', creativeId: 'cr', advertiserId: 'a', dayKey: '2026-11-22',
    priceMicros: 0, costMicros: 0, auctionAtMs: 0, occurredAtMs: 0, ingestNodeId: 'e',
  },
});

test('settle-processor settles WIN and BILLING notices in one call per batch and writes nothing', async () => {
  const calls: ReservationRef[][] = [];
  const counted: Array<[SettleResult, string]> = [];
  const p = settleProcessor({
    input: 'tracking-events',
    settle: async (refs) => {
      calls.push([...refs]);
      return refs.map((_, i) => (i === 0 ? 'settled' : 'duplicate'));
    },
    onResult: (r, e) => counted.push([r, e.type]),
  });
  assert.equal(p.name, 'settle');
  assert.deepEqual(p.outputs, []);
  const batch = [event('IMPRESSION', 'r1'), event('WIN', 'r1'), event('CLICK', 'r1'), event('BILLING', 'r1'), event('CONVERSION', 'r2')];
  await p.prepare!(batch);
  assert.deepEqual(calls, [[{ campaignId: 'c', requestId: 'r1', impId: '1' }, { campaignId: 'c', requestId: 'r1', impId: '1' }]]);
  assert.deepEqual(counted, [['settled', 'WIN'], ['duplicate', 'BILLING']]);
  for (const r of batch) assert.deepEqual(await p.process(r, undefined), []);
});

test('settle-processor fails the batch when settling fails (the runner retries it)', async () => {
  const p = settleProcessor({ input: 't', settle: async () => Promise.reject(new Error('redis down')) });
  await assert.rejects(p.prepare!([event('WIN', 'r1')]), /redis down/);
});
