/** The budget/frequency reservation script against a real Redis: limits, exactness, and atomicity under concurrency. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, redisSpecs } from '../../schemas/config.js';
import { AUTHORIZE_SCRIPT, authorizeCall, parseAuthorizeReply, type AuthorizeParams } from './authorize-script.js';
import { pendingMember } from '../domain/pending-reservation.js';

const redis = new Redis(loadConfig(redisSpecs).redisUrl, { maxRetriesPerRequest: 1 });
after(() => redis.quit());

async function authorize(p: AuthorizeParams) {
  const { keys, args } = authorizeCall(p);
  return parseAuthorizeReply(await redis.eval(AUTHORIZE_SCRIPT, keys.length, ...keys, ...args));
}
const base = (over: Partial<AuthorizeParams> = {}): AuthorizeParams => ({
  campaignId: `c-${randomUUID()}`, requestId: randomUUID(), impId: '1', dayKey: '2026-11-22', userId: 'u1', costMicros: 400, dailyBudgetMicros: 1000,
  lifetimeBudgetMicros: 5000, frequencyCap: 2, expireAtMs: Date.now() + 86_400_000, reservedAtMs: Date.now(), ...over,
});

test('authorize-script reserves up to the daily budget exactly, then refuses without changing anything', async () => {
  const p = base({ frequencyCap: 0 });
  assert.equal(await authorize(p), 'ok');
  const [, , authKey, pending] = authorizeCall(p).keys as [string, string, string, string];
  assert.deepEqual(await redis.zrange(pending, 0, -1, 'WITHSCORES'), [pendingMember(p), String(p.reservedAtMs)], 'recorded as pending at its reservation time');
  assert.equal(await redis.get(authKey), pendingMember(p), 'the reservation key leads a settlement to its pending member');
  assert.ok(Math.abs((await redis.pexpiretime(pending)) - p.expireAtMs) <= 1, 'the pending set expires with the day keys');
  assert.equal(await authorize({ ...p, requestId: randomUUID(), costMicros: 600 }), 'ok', 'spend + cost == budget is allowed');
  assert.equal(await authorize({ ...p, requestId: randomUUID(), costMicros: 1 }), 'daily_budget');
  const [dayKey, lifeKey] = authorizeCall(p).keys as [string, string];
  assert.equal(await redis.get(dayKey), '1000');
  assert.equal(await redis.get(lifeKey), '1000');
  assert.ok((await redis.pttl(dayKey)) > 0, 'daily key expires');
});

test('authorize-script enforces the lifetime budget and the per-user frequency cap', async () => {
  const p = base({ lifetimeBudgetMicros: 700, dailyBudgetMicros: 10_000, costMicros: 300 });
  const fresh = () => ({ requestId: randomUUID() });
  assert.equal(await authorize(p), 'ok');
  assert.equal(await authorize({ ...p, ...fresh() }), 'ok', 'second impression for u1 (cap 2)');
  assert.equal(await authorize({ ...p, ...fresh(), userId: 'u2' }), 'lifetime_budget');
  const q = base({ dailyBudgetMicros: 10_000, lifetimeBudgetMicros: 10_000, costMicros: 1 });
  assert.equal(await authorize({ ...q, ...fresh() }), 'ok');
  assert.equal(await authorize({ ...q, ...fresh() }), 'ok');
  assert.equal(await authorize({ ...q, ...fresh() }), 'frequency_cap');
  assert.equal(await authorize({ ...q, ...fresh(), userId: 'u2' }), 'ok', 'another user is not capped');
});

test('authorize-script counts a repeated reservation (a re-processed auction) once', async () => {
  const p = base({ frequencyCap: 5, costMicros: 250 });
  assert.equal(await authorize(p), 'ok');
  assert.equal(await authorize(p), 'ok', 'the same request/imp/campaign is already reserved');
  const [dayKey, lifeKey, , pending, freqKey] = authorizeCall(p).keys as [string, string, string, string, string];
  assert.deepEqual([await redis.get(dayKey), await redis.get(lifeKey), await redis.get(freqKey)], ['250', '250', '1']);
  assert.equal(await redis.zcard(pending), 1, 'pending once');
});

test('authorize-script rejects malformed arguments with an error reply', async () => {
  const { keys } = authorizeCall(base());
  await assert.rejects(redis.eval(AUTHORIZE_SCRIPT, keys.length, ...keys, '-1', '1000', '1000', '0', '1', '1', 'm'), /ARGV 1-6 must be/);
  await assert.rejects(redis.eval(AUTHORIZE_SCRIPT, keys.length, ...keys, '1e3', '1000', '1000', '0', '1', '1', 'm'), /ARGV 1-6 must be/);
  await assert.rejects(redis.eval(AUTHORIZE_SCRIPT, keys.length, ...keys, '1', '1000', '1000', '0', '1', '1', ''), /pending member/);
});

test('authorize-script never overspends under 300 concurrent reservations from 3 connections', async () => {
  const clients = [redis, new Redis(loadConfig(redisSpecs).redisUrl), new Redis(loadConfig(redisSpecs).redisUrl)];
  const p = base({ frequencyCap: 0, costMicros: 2_010, dailyBudgetMicros: 75_000, lifetimeBudgetMicros: 1_000_000 });
  const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => {
    const { keys, args } = authorizeCall({ ...p, requestId: `r-${i}` });
    return clients[i % 3]!.eval(AUTHORIZE_SCRIPT, keys.length, ...keys, ...args);
  }));
  const keys = authorizeCall(p).keys;
  await Promise.all(clients.slice(1).map((c) => c.quit()));
  const ok = replies.filter((r) => r === 0).length;
  assert.equal(ok, Math.floor(75_000 / 2_010), 'exactly as many as the budget holds');
  assert.equal(Number(await redis.get(keys[0]!)), ok * 2_010, 'spend equals the sum of the reserved costs');
  assert.equal(await redis.zcard(keys[3]!), ok, 'every successful reservation, and only those, is pending');
});
