import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WindowCount } from '../schemas/tracking-event.js';
import { COUNTER_COLUMNS, KEY_COLUMNS, allCountersZero, counterAssignments, counterSums, invalidPart, sameKey, toColumns } from './part-rows.js';

const part = (over: Partial<WindowCount> = {}): WindowCount => ({
  campaignId: 'c1', creativeId: 'k1', windowStartMs: 1_795_300_000_000, windowMs: 60_000,
  requests: 0, bids: 3, wins: 1, winCostMicros: 1500, spendMicros: 1400, clearingPriceMicros: 1_500_000, impressions: 1, clicks: 1, conversions: 0,
  sourceTopic: 'auction-outcomes', sourcePartition: 2, firstOffset: 100, lastOffset: 149, ...over,
});

test('part-rows accepts a well-formed part and names what is wrong with a bad one', () => {
  assert.equal(invalidPart(part()), null);
  assert.equal(invalidPart(part({ campaignId: '*', creativeId: '', requests: 5 })), null);
  for (const [bad, re] of [
    [{ campaignId: '' }, /campaignId/],
    [{ windowMs: 0 }, /windowMs/],
    [{ windowStartMs: -60_000 }, /windowStartMs/],
    [{ clicks: -1 }, /clicks/],
    [{ spendMicros: 1.5 }, /spendMicros/],
    [{ sourceTopic: '' }, /sourceTopic/],
    [{ sourcePartition: -1 }, /sourcePartition/],
    [{ firstOffset: 10, lastOffset: 9 }, /lastOffset 9 is before firstOffset 10/],
    [{ dealId: 7 as unknown as string }, /dealId must be a string/],
    [{ currency: 978 as unknown as string }, /currency must be a string/],
    [{ test: 'yes' as unknown as boolean }, /test must be a boolean/],
    [{ losses: -1 }, /losses/],
  ] as Array<[Partial<WindowCount>, RegExp]>) {
    assert.match(String(invalidPart(part(bad))), re, JSON.stringify(bad));
  }
});

test('part-rows turns a batch into one array per column, longs as exact strings', () => {
  const cols = toColumns([
    { part: part({ dealId: 'd1', test: true, privacyBasis: 'consent', currency: 'EUR', exchangeWins: 1, losses: 2 }), offset: 7n, timestampMs: 1_795_300_000_123 },
    { part: part({ campaignId: 'c2', firstOffset: 9_007_199_254_740_990, lastOffset: 9_007_199_254_740_991 }), offset: 8n, timestampMs: 5.7 },
  ]);
  const key = (column: string) => cols.keys[KEY_COLUMNS.indexOf(column)];
  assert.deepEqual(key('campaign_id'), ['c1', 'c2']);
  assert.deepEqual(key('window_start_ms'), ['1795300000000', '1795300000000']);
  assert.deepEqual(key('window_ms'), [60_000, 60_000]);
  assert.deepEqual([key('deal_id'), key('test'), key('privacy_basis'), key('currency')], [['d1', ''], ['t', 'f'], ['consent', ''], ['EUR', 'USD']], 'a part without the v2 fields takes their Avro defaults');
  assert.equal(cols.counters.length, COUNTER_COLUMNS.length);
  assert.deepEqual(cols.counters[COUNTER_COLUMNS.indexOf('win_cost_micros')], ['1500', '1500']);
  assert.deepEqual(cols.counters[COUNTER_COLUMNS.indexOf('submitted')], ['1', '1'], 'the record field wins (our pick) is the column submitted');
  assert.deepEqual(cols.counters[COUNTER_COLUMNS.indexOf('wins')], ['1', '0'], 'the exchange wins are the column wins');
  assert.deepEqual(cols.counters[COUNTER_COLUMNS.indexOf('losses')], ['2', '0']);
  assert.deepEqual(cols.firstOffset, ['100', '9007199254740990']);
  assert.deepEqual(cols.wcOffset, ['7', '8']);
  assert.deepEqual(cols.wcTimestampMs, ['1795300000123', '5']);
});

test('part-rows builds the counter SQL from one list', () => {
  assert.equal(COUNTER_COLUMNS.length, 13);
  assert.match(counterSums(), /^sum\(requests\)::bigint as requests, .*sum\(reported_spend_micros\)::bigint as reported_spend_micros$/);
  assert.match(counterAssignments('w', 'excluded', '+'), /^requests = w\.requests \+ excluded\.requests, /);
  assert.match(counterAssignments('w', 's', '-'), /clicks = w\.clicks - s\.clicks/);
  assert.equal(allCountersZero('u').split(' and ').length, 13);
  assert.equal(sameKey('w', 's'), '(w.campaign_id, w.creative_id, w.deal_id, w.test, w.privacy_basis, w.currency, w.window_start_ms, w.window_ms) = (s.campaign_id, s.creative_id, s.deal_id, s.test, s.privacy_basis, s.currency, s.window_start_ms, s.window_ms)');
});
