import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPipelineError } from '../../schemas/errors.js';
import { RELEASE_SCRIPT, SETTLE_SCRIPT, parseSettleReply, releaseKeys, settleKeys } from './settle-scripts.js';

test('settle-scripts keys share the campaign hash tag', () => {
  assert.deepEqual(settleKeys({ campaignId: 'c-1', requestId: 'r', impId: '1' }), ['rtb:auth:{c-1}:r:1', 'rtb:pending:{c-1}']);
  const p = { requestId: 'r', impId: '1', costMicros: 5, dayKey: '2026-11-22', userId: 'u' };
  assert.deepEqual(releaseKeys('c-1', p), ['rtb:pending:{c-1}', 'rtb:spend:{c-1}:day:2026-11-22', 'rtb:spend:{c-1}:life', 'rtb:auth:{c-1}:r:1', 'rtb:freq:{c-1}:2026-11-22:u']);
  assert.equal(releaseKeys('c-1', { ...p, userId: null }).length, 4, 'no frequency key without a user');
});

test('settle-scripts replies map to results and anything else is an error', () => {
  assert.deepEqual([0, 1, 2].map(parseSettleReply), ['unknown', 'settled', 'duplicate']);
  for (const bad of [3, -1, '1', null]) assert.throws(() => parseSettleReply(bad), (e) => isPipelineError(e, 'DEPENDENCY_UNAVAILABLE'));
});

test('settle-scripts declare no globals (Redis 7 refuses scripts that do)', () => {
  const globalAssignment = /^\s*[A-Za-z_][\w, ]*=[^=]/;
  const globalFunction = /^\s*function\b/;
  for (const script of [SETTLE_SCRIPT, RELEASE_SCRIPT]) {
    const lines = script.split('\n').filter((l) => (globalAssignment.test(l) || globalFunction.test(l)) && !/^\s*(local|for)\b/.test(l));
    assert.deepEqual(lines, []);
  }
});
