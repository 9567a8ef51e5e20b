/**
 * Pending reservations on a real Redis: the auction's reservation (auction/reserve.ts) then settlement or
 * release (settle/reservations.ts). Each test uses its own campaigns and its own pending index, so the
 * shared Redis's real index is never touched. Here rather than in settle/: it drives two processors' code.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, redisSpecs } from '../schemas/config.js';
import type { BidRecord } from '../schemas/bid-set.js';
import { redisReserve } from './auction/reserve.js';
import { frequencyKey, pendingKey, reservationKey, spendDayKey, spendLifetimeKey } from './domain/redis-keys.js';
import { PendingReservations } from './settle/reservations.js';

const url = loadConfig(redisSpecs).redisUrl;
const redis = new Redis(url, { maxRetriesPerRequest: 1 });
const index = `rtb:pending:campaigns:test-${randomUUID()}`;
const day = '2026-11-22';
const HOUR = 3_600_000;
after(async () => {
  await redis.del(index);
  await redis.quit();
});

const bid = (campaignId: string): BidRecord => ({
  impId: '1', campaignId, advertiserId: 'adv', creativeId: 'cr', priceMicros: 2_000_000, adomain: [], w: 300, h: 250,
  dailyBudgetMicros: 1_000_000, lifetimeBudgetMicros: 5_000_000, frequencyCap: 0, dayKey: day, dayEndsAtMs: Date.now() + 86_400_000, title: '', imageUrl: '', landingUrl: '',
});
/** A reserve function whose reservations are stamped `ageMs` in the past. */
const reserveAged = (ageMs: number) => redisReserve(redis, { pendingIndexKey: index, now: () => Date.now() - ageMs });
const counters = async (cid: string, user = 'u1') => ({
  day: Number(await redis.get(spendDayKey(cid, day))), life: Number(await redis.get(spendLifetimeKey(cid))), freq: Number(await redis.get(frequencyKey(cid, day, user))),
});

test('reservations: a reservation settled by its win is never released', async () => {
  const cid = `settle-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r1', 'u1', 2_010), 'ok');
  assert.ok(await redis.sismember(index, cid), 'the campaign is indexed after its reservation');
  assert.deepEqual(await pending.settle([{ campaignId: cid, requestId: 'r1', impId: '1' }]), ['settled']);
  assert.deepEqual(await pending.settle([{ campaignId: cid, requestId: 'r1', impId: '1' }]), ['duplicate'], 'a billing notice after the win');
  assert.deepEqual(await pending.releaseBefore(Date.now()), { released: 0, invalid: 0 });
  assert.deepEqual(await counters(cid), { day: 2_010, life: 2_010, freq: 1 }, 'the spend stays reserved');
  assert.equal(await redis.get(reservationKey(cid, 'r1', '1')), 'S');
  assert.equal(await redis.sismember(index, cid), 0, 'a campaign with nothing pending leaves the index');
});

test('reservations: one never won is released after the timeout, giving back exactly what it reserved', async () => {
  const cid = `release-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'won', 'u1', 1_500), 'ok');
  await pending.settle([{ campaignId: cid, requestId: 'won', impId: '1' }]);
  assert.equal(await reserveAged(10 * 60_000)(bid(cid), 'lost', 'u1', 2_010), 'ok');
  assert.equal(await reserveAged(0)(bid(cid), 'young', null, 777), 'ok');
  assert.deepEqual(await counters(cid), { day: 4_287, life: 4_287, freq: 2 });

  assert.deepEqual(await pending.releaseBefore(Date.now() - 20 * 60_000), { released: 0, invalid: 0 }, 'not yet: reserved 10 minutes ago');
  assert.deepEqual(await pending.releaseBefore(Date.now() - 5 * 60_000), { released: 1, invalid: 0 });
  assert.deepEqual(await counters(cid), { day: 2_277, life: 2_277, freq: 1 }, 'exactly the lost reservation is given back');
  assert.equal(await redis.get(reservationKey(cid, 'lost', '1')), 'R');
  assert.ok((await redis.pttl(reservationKey(cid, 'lost', '1'))) > 0, 'the state key keeps its expiry');
  assert.ok(await redis.sismember(index, cid), 'still indexed: the young reservation is pending');

  assert.deepEqual(await pending.releaseBefore(Date.now() + 1000), { released: 1, invalid: 0 });
  assert.deepEqual(await counters(cid), { day: 1_500, life: 1_500, freq: 1 }, 'only the won reservation remains spent');
  assert.equal(await redis.exists(pendingKey(cid)), 0);
  assert.equal(await redis.sismember(index, cid), 0);
});

test('reservations: two releasers running at once release each reservation once', async () => {
  const cids = [`twice-${randomUUID()}`, `twice-${randomUUID()}`];
  const reserve = reserveAged(HOUR);
  for (const cid of cids) for (let i = 0; i < 150; i++) assert.equal(await reserve(bid(cid), `r${i}`, `u${i % 7}`, 1_000 + i), 'ok');
  const other = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const a = new PendingReservations(redis, { indexKey: index });
    const b = new PendingReservations(other, { indexKey: index });
    const runs = await Promise.all([a.releaseBefore(Date.now()), b.releaseBefore(Date.now()), a.releaseBefore(Date.now()), b.releaseBefore(Date.now())]);
    assert.equal(runs.reduce((n, r) => n + r.released, 0), 300, 'each of the 300 released exactly once');
  } finally {
    other.disconnect();
  }
  for (const cid of cids) {
    assert.deepEqual([await redis.get(spendDayKey(cid, day)), await redis.get(spendLifetimeKey(cid))], ['0', '0'], 'spend back to zero, never below');
    for (let u = 0; u < 7; u++) assert.equal(await redis.get(frequencyKey(cid, day, `u${u}`)), '0');
  }
});

test('reservations: a win after the release is unknown and changes nothing', async () => {
  const cid = `late-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r1', 'u1', 2_010), 'ok');
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r2', 'u1', 1_000), 'ok');
  await pending.settle([{ campaignId: cid, requestId: 'r2', impId: '1' }]);
  assert.equal((await pending.releaseBefore(Date.now())).released, 1);
  const before = await counters(cid);
  assert.deepEqual(await pending.settle([
    { campaignId: cid, requestId: 'r1', impId: '1' },
    { campaignId: cid, requestId: 'never-reserved', impId: '1' },
  ]), ['unknown', 'unknown']);
  assert.deepEqual(await counters(cid), before);
  assert.deepEqual(before, { day: 1_000, life: 1_000, freq: 1 });
  assert.equal(await redis.get(reservationKey(cid, 'r1', '1')), 'R');
  assert.equal(await redis.exists(reservationKey(cid, 'never-reserved', '1')), 0, 'nothing created for an unknown notice');
});

test('reservations: an undecodable pending member is removed without giving anything back', async () => {
  const cid = `junk-${randomUUID()}`;
  await redis.zadd(pendingKey(cid), 1, 'not-a-member');
  await redis.sadd(index, cid);
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.deepEqual(await pending.releaseCampaign(cid, Date.now()), { released: 0, invalid: 1 });
  assert.equal(await redis.exists(pendingKey(cid)), 0);
});
