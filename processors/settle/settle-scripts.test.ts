import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPipelineError } from '../../schemas/errors.js';
import { PERF_SCRIPT, RELEASE_SCRIPT, SETTLE_SCRIPT, parseSettleReply, perfKeys, releaseKeys, settleArgs, settleKeys } from './settle-scripts.js';

const ref = { campaignId: 'c-1', requestId: 'ex:r', impId: '1', dayKey: '2026-11-22', kind: 'BILLING', costMicros: 1_840 } as const;

test('settle-scripts keys share the campaign hash tag', () => {
  assert.deepEqual(settleKeys(ref), ['rtb:auth:{c-1}:ex%3Ar:1', 'rtb:pending:{c-1}', 'rtb:spend:{c-1}:day:2026-11-22', 'rtb:spend:{c-1}:life']);
  const p = { requestId: 'r', impId: '1', costMicros: 5, dayKey: '2026-11-22', userId: 'u' };
  assert.deepEqual(releaseKeys('c-1', p), ['rtb:pending:{c-1}', 'rtb:spend:{c-1}:day:2026-11-22', 'rtb:spend:{c-1}:life', 'rtb:auth:{c-1}:r:1', 'rtb:freq:{c-1}:2026-11-22:u']);
  assert.equal(releaseKeys('c-1', { ...p, userId: null }).length, 4, 'no frequency key without a user');
  assert.deepEqual(perfKeys({ campaignId: 'c-1', eventId: 'e1', type: 'IMPRESSION' }), ['rtb:perf:{c-1}:seen:e1', 'rtb:perf:{c-1}:imps']);
  assert.deepEqual(perfKeys({ campaignId: 'c-1', eventId: 'e2', type: 'CLICK' }), ['rtb:perf:{c-1}:seen:e2', 'rtb:perf:{c-1}:clicks']);
});

test('settle-scripts arguments: the notice kind, its cost and the state TTL; a cost that is not a non-negative integer is refused', () => {
  assert.deepEqual(settleArgs(ref, 1000), ['B', '1840', '1000']);
  assert.deepEqual(settleArgs({ ...ref, kind: 'WIN', costMicros: 0 }, 5), ['W', '0', '5']);
  for (const costMicros of [-1, 1.5, Number.NaN, 2 ** 53]) assert.throws(() => settleArgs({ ...ref, costMicros }, 5), RangeError, String(costMicros));
});

test('settle-scripts replies map to results and anything else is an error', () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(parseSettleReply), ['invalid', 'settled', 'duplicate', 'charged', 'adjusted']);
  for (const bad of [5, -1, '1', null]) assert.throws(() => parseSettleReply(bad), (e) => isPipelineError(e, 'DEPENDENCY_UNAVAILABLE'));
});

test('settle-scripts declare no globals (Redis 7 refuses scripts that do)', () => {
  const globalAssignment = /^\s*[A-Za-z_][\w, ]*=[^=]/;
  const globalFunction = /^\s*function\b/;
  for (const script of [SETTLE_SCRIPT, RELEASE_SCRIPT, PERF_SCRIPT]) {
    const lines = script.split('\n').filter((l) => (globalAssignment.test(l) || globalFunction.test(l)) && !/^\s*(local|for)\b/.test(l));
    assert.deepEqual(lines, []);
  }
});
