import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPipelineError } from '../../schemas/errors.js';
import { AUTHORIZE_SCRIPT, authorizeCall, authorizeKeys, parseAuthorizeReply } from './authorize-script.js';

test('authorize-script keys share the campaign hash tag and include the day and user', () => {
  const p = { campaignId: 'c-1', dayKey: '2024-07-01', userId: 'u-9', requestId: 'r', impId: '1' };
  assert.deepEqual(authorizeKeys(p), ['rtb:spend:{c-1}:day:2024-07-01', 'rtb:spend:{c-1}:life', 'rtb:auth:{c-1}:r:1', 'rtb:pending:{c-1}', 'rtb:freq:{c-1}:2024-07-01:u-9']);
  assert.deepEqual(authorizeKeys({ ...p, userId: null }), ['rtb:spend:{c-1}:day:2024-07-01', 'rtb:spend:{c-1}:life', 'rtb:auth:{c-1}:r:1', 'rtb:pending:{c-1}']);
});

test('authorize-script call passes ARGV as decimal integer strings in contract order', () => {
  const call = authorizeCall({
    campaignId: 'c', requestId: 'r', impId: '1', dayKey: '2024-07-01', userId: 'u', costMicros: 2_010, dailyBudgetMicros: 100_000_000,
    lifetimeBudgetMicros: 9_007_199_254_740_991, frequencyCap: 0, expireAtMs: 1_719_878_400_000, reservedAtMs: 1_719_800_000_000,
  });
  assert.equal(call.keys.length, 5);
  assert.deepEqual(call.args, ['2010', '100000000', '9007199254740991', '0', '1719878400000', '1719800000000', '["r","1",2010,"2024-07-01","u"]']);
});

test('authorize-script replies map to statuses and anything else is an error', () => {
  assert.deepEqual([0, 1, 2, 3].map(parseAuthorizeReply), ['ok', 'daily_budget', 'lifetime_budget', 'frequency_cap']);
  for (const bad of [4, -1, '0', null]) assert.throws(() => parseAuthorizeReply(bad), (e) => isPipelineError(e, 'DEPENDENCY_UNAVAILABLE'));
});

test('authorize-script declares no globals (Redis 7 refuses scripts that do)', () => {
  const globalAssignment = /^\s*[A-Za-z_][\w, ]*=[^=]/;
  const globalFunction = /^\s*function\b/;
  const assignments = AUTHORIZE_SCRIPT.split('\n').filter((l) => (globalAssignment.test(l) || globalFunction.test(l)) && !/^\s*local\b/.test(l));
  assert.deepEqual(assignments, []);
});
