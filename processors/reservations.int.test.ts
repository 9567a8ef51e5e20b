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
import { frequencyKey, pendingKey, perfClicksKey, perfImpressionsKey, reservationKey, spendDayKey, spendLifetimeKey } from './domain/redis-keys.js';
import { PendingReservations } from './settle/reservations.js';
import type { SettleRef } from './settle/settle-scripts.js';

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
/** A WIN or BILLING notice of reservation (cid, requestId, imp 1) reporting `costMicros`. */
const notice = (campaignId: string, requestId: string, kind: SettleRef['kind'], costMicros: number): SettleRef => ({ campaignId, requestId, impId: '1', dayKey: day, kind, costMicros });
const counters = async (cid: string, user = 'u1') => ({
  day: Number(await redis.get(spendDayKey(cid, day))), life: Number(await redis.get(spendLifetimeKey(cid))), freq: Number(await redis.get(frequencyKey(cid, day, user))),
});

test('reservations: a reservation settled by its win is never released', async () => {
  const cid = `settle-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r1', 'u1', 2_010), 'ok');
  assert.ok(await redis.sismember(index, cid), 'the campaign is indexed after its reservation');
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'WIN', 2_010)]), ['settled']);
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'WIN', 2_010)]), ['duplicate'], 'a repeated win notice');
  assert.deepEqual(await pending.releaseBefore(Date.now()), { released: 0, invalid: 0 });
  assert.deepEqual(await counters(cid), { day: 2_010, life: 2_010, freq: 1 }, 'the spend stays reserved');
  assert.equal(await redis.get(reservationKey(cid, 'r1', '1')), 'W:2010');
  assert.equal(await redis.sismember(index, cid), 0, 'a campaign with nothing pending leaves the index');
});

test('reservations: one never won is released after the timeout, giving back exactly what it reserved', async () => {
  const cid = `release-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'won', 'u1', 1_500), 'ok');
  await pending.settle([notice(cid, 'won', 'BILLING', 1_500)]);
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

test('reservations: WIN and BILLING adjust the reservation to the reported cost, the difference given back; spend is final at billing', async () => {
  const cid = `adjust-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index, dedupTtlMs: 8 * 86_400_000 });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r1', 'u1', 2_010), 'ok');
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r2', 'u1', 3_000), 'ok');
  assert.deepEqual(await counters(cid), { day: 5_010, life: 5_010, freq: 2 });
  // r1: the exchange cleared below our price (second price): the win notice's cost replaces the reserved one; the billing its own.
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'WIN', 1_900), notice(cid, 'r2', 'BILLING', 2_500)]), ['settled', 'settled']);
  assert.deepEqual(await counters(cid), { day: 4_400, life: 4_400, freq: 2 }, '2010 - 110 and 3000 - 500');
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'BILLING', 1_850)]), ['adjusted'], 'billing after the win: final');
  assert.deepEqual(await counters(cid), { day: 4_350, life: 4_350, freq: 2 });
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'BILLING', 1_850), notice(cid, 'r1', 'WIN', 1_900), notice(cid, 'r2', 'WIN', 2_500), notice(cid, 'r2', 'BILLING', 2_500)]),
    ['duplicate', 'duplicate', 'duplicate', 'duplicate'], 'repeats, and a win after the billing, change nothing');
  assert.deepEqual(await counters(cid), { day: 4_350, life: 4_350, freq: 2 });
  assert.deepEqual([await redis.get(reservationKey(cid, 'r1', '1')), await redis.get(reservationKey(cid, 'r2', '1'))], ['B:1850', 'B:2500']);
  assert.ok((await redis.pttl(reservationKey(cid, 'r1', '1'))) > 7 * 86_400_000, 'the state outlives the notice URLs (SETTLE_DEDUP_TTL_MS), not just the day');
  assert.equal(await redis.zcard(pendingKey(cid)), 0);
  assert.deepEqual(await pending.releaseBefore(Date.now()), { released: 0, invalid: 0 }, 'settled reservations are never released');
});

test('reservations: a billing after the release (or after its key expired) is charged once, even delivered twice', async () => {
  const cid = `late-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r1', 'u1', 2_010), 'ok');
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r2', 'u1', 1_000), 'ok');
  await pending.settle([notice(cid, 'r2', 'WIN', 1_000)]);
  assert.equal((await pending.releaseBefore(Date.now())).released, 1);
  assert.deepEqual(await counters(cid), { day: 1_000, life: 1_000, freq: 1 });
  // r1 was released; `expired` has no key any more (its day is over): the exchange billed both, so both are charged.
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'BILLING', 1_990), notice(cid, 'r1', 'BILLING', 1_990), notice(cid, 'expired', 'BILLING', 700)]),
    ['charged', 'duplicate', 'charged']);
  assert.deepEqual(await pending.settle([notice(cid, 'r1', 'BILLING', 1_990), notice(cid, 'expired', 'BILLING', 700)]), ['duplicate', 'duplicate'], 'delivered again in a later batch');
  assert.deepEqual(await counters(cid), { day: 3_690, life: 3_690, freq: 1 }, '1000 + 1990 + 700, each once; the frequency count is not restored');
  assert.equal(await redis.get(reservationKey(cid, 'r1', '1')), 'B:1990');

  // A win notice after the release charges too (the exchange says we bought it); the billing then only adjusts.
  assert.equal(await reserveAged(HOUR)(bid(cid), 'r3', null, 2_000), 'ok');
  assert.equal((await pending.releaseBefore(Date.now())).released, 1);
  assert.deepEqual(await pending.settle([notice(cid, 'r3', 'WIN', 2_000), notice(cid, 'r3', 'BILLING', 1_500)]), ['charged', 'adjusted']);
  assert.deepEqual(await counters(cid), { day: 5_190, life: 5_190, freq: 1 });

  // The day is over (its counter expired): only lifetime spend is charged; the day's counter is not recreated.
  await redis.del(spendDayKey(cid, day));
  assert.deepEqual(await pending.settle([notice(cid, 'gone', 'BILLING', 300)]), ['charged']);
  assert.equal(await redis.exists(spendDayKey(cid, day)), 0);
  assert.equal(Number(await redis.get(spendLifetimeKey(cid))), 5_490);
});

test('reservations: a loss notice releases its pending reservation at once; a won or unknown one is left alone', async () => {
  const cid = `loss-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  const reserve = reserveAged(0);
  assert.equal(await reserve(bid(cid), 'lost', 'u1', 2_010), 'ok');
  assert.equal(await reserve(bid(cid), 'won', 'u1', 1_000), 'ok');
  await pending.settle([notice(cid, 'won', 'WIN', 1_000)]);
  const ref = (requestId: string) => ({ campaignId: cid, requestId, impId: '1' });
  assert.deepEqual(await pending.releaseLost([ref('lost'), ref('won'), ref('never')]), ['released', 'not_pending', 'not_pending']);
  assert.deepEqual(await counters(cid), { day: 1_000, life: 1_000, freq: 1 }, 'the lost reservation\'s spend and frequency count given back at once');
  assert.equal(await redis.get(reservationKey(cid, 'lost', '1')), 'R');
  assert.deepEqual(await pending.releaseLost([ref('lost')]), ['not_pending'], 'a repeated loss notice');
  assert.deepEqual(await pending.releaseBefore(Date.now() + 1000), { released: 0, invalid: 0 }, 'nothing left for the releaser');
  assert.deepEqual(await counters(cid), { day: 1_000, life: 1_000, freq: 1 });
});

test('reservations: impressions and clicks feed the performance counters once per event id', async () => {
  const cid = `perf-${randomUUID()}`;
  const pending = new PendingReservations(redis, { indexKey: index });
  const imp = (eventId: string) => ({ campaignId: cid, eventId, type: 'IMPRESSION' as const });
  const click = (eventId: string) => ({ campaignId: cid, eventId, type: 'CLICK' as const });
  assert.deepEqual(await pending.countPerf([imp('i1'), imp('i2'), imp('i1'), click('c1')]), ['counted', 'counted', 'duplicate', 'counted']);
  assert.deepEqual(await pending.countPerf([imp('i2'), click('c1'), click('c2')]), ['duplicate', 'duplicate', 'counted'], 'a later batch repeating them');
  assert.deepEqual([await redis.get(perfImpressionsKey(cid)), await redis.get(perfClicksKey(cid))], ['2', '2']);
  await redis.del(perfImpressionsKey(cid), perfClicksKey(cid));
});

test('reservations: an undecodable pending member is removed without giving anything back', async () => {
  const cid = `junk-${randomUUID()}`;
  await redis.zadd(pendingKey(cid), 1, 'not-a-member');
  await redis.sadd(index, cid);
  const pending = new PendingReservations(redis, { indexKey: index });
  assert.deepEqual(await pending.releaseCampaign(cid, Date.now()), { released: 0, invalid: 1 });
  assert.equal(await redis.exists(pendingKey(cid)), 0);
});
