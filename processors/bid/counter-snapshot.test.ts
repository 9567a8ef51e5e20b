import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCampaign } from '../testing/campaign.fixture.js';
import type { Campaign } from '../domain/campaign.js';
import { perfClicksKey, perfImpressionsKey, spendDayKey, spendLifetimeKey } from '../domain/redis-keys.js';
import type { MgetClient } from './bid-state.js';
import { CounterSnapshot, type CounterSnapshotOptions } from './counter-snapshot.js';

const T0 = Date.UTC(2026, 10, 22, 20); // 20:00 UTC on the 22nd, already 05:00 on the 23rd in Tokyo

/** A Redis stand-in: MGET answers from `table`, or as `next` says (fail, hang); every call is recorded. */
function fakeRedis(table: Record<string, string> = {}) {
  const calls: string[][] = [];
  const fake = {
    calls, table, mode: 'ok' as 'ok' | 'fail' | 'hang',
    async mget(keys: string[]): Promise<(string | null)[]> {
      calls.push(keys);
      if (fake.mode === 'fail') throw new Error('ECONNREFUSED');
      if (fake.mode === 'hang') return new Promise(() => undefined);
      return keys.map((k) => fake.table[k] ?? null);
    },
  };
  return fake;
}

function snapshotOf(redis: MgetClient, campaigns: Campaign[], over: Partial<CounterSnapshotOptions> = {}) {
  let now = T0;
  let failures = 0;
  const snapshot = new CounterSnapshot({
    redis, campaigns: () => campaigns, refreshMs: 250, now: () => now, metrics: { refreshFailures: { inc: () => failures++ } }, ...over,
  });
  return { snapshot, at: (ms: number) => (now = ms), failures: () => failures };
}

test("counter-snapshot reads every campaign's counters in one MGET, for each campaign's own local day", async () => {
  const redis = fakeRedis({
    [spendDayKey('a', '2026-11-22')]: '1500', [spendLifetimeKey('a')]: '9000', [perfImpressionsKey('a')]: '100', [perfClicksKey('a')]: '3',
    [spendDayKey('b', '2026-11-22')]: '777', [spendDayKey('b', '2026-11-23')]: '42', [spendLifetimeKey('b')]: 'garbage',
  });
  const { snapshot } = snapshotOf(redis, [makeCampaign({ id: 'a' }), makeCampaign({ id: 'b', timezone: 'Asia/Tokyo' })]);
  assert.equal(snapshot.counters(T0), null, 'nothing before the first refresh');
  assert.equal(snapshot.ageMs(T0), Infinity);
  assert.equal(await snapshot.refresh(), true);
  assert.equal(redis.calls.length, 1);
  assert.equal(redis.calls[0]?.length, 8);
  const c = snapshot.counters(T0)!;
  assert.deepEqual([...c.spentTodayMicros], [['a', 1500], ['b', 42]], "Tokyo's day is already the 23rd");
  assert.deepEqual([...c.spentLifetimeMicros], [['a', 9000], ['b', 0]], 'unparsable reads as 0');
  assert.deepEqual([...c.perf], [['a', { impressions: 100, clicks: 3 }], ['b', { impressions: 0, clicks: 0 }]]);
  assert.equal(snapshot.ageMs(T0 + 40), 40);
});

test('counter-snapshot is not used once older than its bound (default 10 refresh intervals)', async () => {
  const { snapshot } = snapshotOf(fakeRedis(), [makeCampaign({ id: 'a' })]);
  await snapshot.refresh();
  assert.notEqual(snapshot.counters(T0 + 2500), null);
  assert.equal(snapshot.counters(T0 + 2501), null);
  const strict = snapshotOf(fakeRedis(), [makeCampaign({ id: 'a' })], { maxAgeMs: 100 }).snapshot;
  await strict.refresh();
  assert.equal(strict.counters(T0 + 101), null);
});

test('counter-snapshot keeps the last counters when a refresh fails or times out, counts each failure, and recovers', async () => {
  const redis = fakeRedis({ [spendLifetimeKey('a')]: '10' });
  const { snapshot, at, failures } = snapshotOf(redis, [makeCampaign({ id: 'a' })], { timeoutMs: 20 });
  assert.equal(await snapshot.refresh(), true);
  redis.mode = 'fail';
  redis.table[spendLifetimeKey('a')] = '20';
  at(T0 + 300);
  assert.equal(await snapshot.refresh(), false);
  redis.mode = 'hang';
  assert.equal(await snapshot.refresh(), false, 'a hung Redis costs the refresh its timeout, no more');
  assert.equal(failures(), 2);
  assert.equal(snapshot.counters(T0 + 300)?.spentLifetimeMicros.get('a'), 10, 'the last good counters stay in use');
  assert.equal(snapshot.ageMs(T0 + 300), 300, 'and age');
  redis.mode = 'ok';
  assert.equal(await snapshot.refresh(), true);
  assert.equal(snapshot.counters(T0 + 300)?.spentLifetimeMicros.get('a'), 20);
  assert.equal(snapshot.ageMs(T0 + 300), 0);
});

test("counter-snapshot drops a campaign's day spend at its local midnight, before the next refresh", async () => {
  const beforeMidnight = Date.UTC(2026, 10, 22, 23, 59, 59, 900);
  const redis = fakeRedis({ [spendDayKey('utc', '2026-11-22')]: '500', [spendDayKey('tokyo', '2026-11-23')]: '600', [spendLifetimeKey('utc')]: '900' });
  const { snapshot } = snapshotOf(redis, [makeCampaign({ id: 'utc' }), makeCampaign({ id: 'tokyo', timezone: 'Asia/Tokyo' })], { now: () => beforeMidnight });
  await snapshot.refresh();
  assert.equal(snapshot.counters(beforeMidnight)?.spentTodayMicros.get('utc'), 500);
  const after = snapshot.counters(beforeMidnight + 200)!;
  assert.equal(after.spentTodayMicros.get('utc'), undefined, 'a new day: no spend yet');
  assert.equal(after.spentTodayMicros.get('tokyo'), 600, "Tokyo's day goes on");
  assert.equal(after.spentLifetimeMicros.get('utc'), 900, 'lifetime spend does not reset');
  assert.equal(snapshot.counters(beforeMidnight + 210), after, 'computed once, not per request');
  assert.equal(snapshot.counters(beforeMidnight)?.spentTodayMicros.get('utc'), 500, 'an earlier clock still sees its own day');
});

test('counter-snapshot reads the campaigns current at each refresh, skipping an unknown time zone', async () => {
  const redis = fakeRedis({ [spendLifetimeKey('new')]: '5' });
  const campaigns = [makeCampaign({ id: 'a' }), makeCampaign({ id: 'mars', timezone: 'Mars/Olympus' })];
  const { snapshot } = snapshotOf(redis, campaigns);
  await snapshot.refresh();
  assert.deepEqual([...snapshot.counters(T0)!.spentLifetimeMicros.keys()], ['a']);
  campaigns.push(makeCampaign({ id: 'new' }));
  await snapshot.refresh();
  assert.equal(snapshot.counters(T0)!.spentLifetimeMicros.get('new'), 5);
});

test('counter-snapshot start reads at once, then every refreshMs until stop', async (t) => {
  const redis = fakeRedis();
  const snapshot = new CounterSnapshot({ redis, campaigns: () => [makeCampaign()], refreshMs: 10 });
  t.after(() => snapshot.stop());
  assert.equal(await snapshot.start(), true);
  assert.equal(redis.calls.length, 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(redis.calls.length >= 3, `refreshed ${redis.calls.length} times in 100 ms`);
  snapshot.stop();
  const stoppedAt = redis.calls.length;
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(redis.calls.length <= stoppedAt + 1, 'at most the read already in flight');
});
