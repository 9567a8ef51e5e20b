/** ProfileStore against a real (private) redis-server: one MGET per batch, bad data, and failing fast when Redis is down or hung. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ProfileStore } from './profile-store.js';
import { encodeProfile } from '../domain/profile-format.js';
import { profileKey } from '../domain/redis-keys.js';
import { startThrowawayRedis } from '../testing/throwaway-redis.js';
import { freePort } from '../testing/spawn-service.js';
import type { UserProfileRecord } from '../../schemas/bid-request.js';
import { waitFor } from '../testing/wait.js';

const alice: UserProfileRecord = { interests: { sports: 80 }, segments: ['s-1'], engagement: 42 };

async function ready(store: ProfileStore): Promise<void> {
  store.connect();
  await waitFor(() => store.redis.status === 'ready', { what: 'the Redis connection', timeoutMs: 5000, intervalMs: 10, detail: () => `redis not ready: ${store.redis.status}` });
}

async function mgetCalls(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_mget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

test('profile store reads a batch in one MGET, deduplicating users and treating malformed profiles as none', async (t) => {
  const redis = await startThrowawayRedis();
  t.after(() => redis.stop());
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  t.after(() => admin.disconnect());
  await admin.mset(profileKey('alice'), encodeProfile(alice), profileKey('broken'), '{"interests": not json', profileKey('odd'), '"a string"');
  const store = new ProfileStore(redis.url);
  t.after(() => store.close());
  await ready(store);

  assert.equal((await store.lookup([])).size, 0);
  const before = await mgetCalls(admin);
  const got = await store.lookup(['alice', 'bob', 'alice', 'broken', 'odd']);
  assert.equal((await mgetCalls(admin)) - before, 1, 'one round trip for the batch');
  assert.deepEqual([...got], [['alice', alice], ['bob', null], ['broken', null], ['odd', null]]);
});

test('profile store rejects at once when Redis is down, answers again once it is back, and does not wait on a hung Redis forever', async (t) => {
  const redis = await startThrowawayRedis();
  t.after(() => redis.stop());
  const store = new ProfileStore(redis.url, { commandTimeoutMs: 300 });
  t.after(() => store.close());
  await ready(store);
  assert.deepEqual([...(await store.lookup(['x']))], [['x', null]]);

  redis.hang();
  let started = performance.now();
  await assert.rejects(store.lookup(['x']), /timed out/i);
  const hungMs = performance.now() - started;
  assert.ok(hungMs < 1000, `a hung Redis is given up after the command timeout (${hungMs} ms)`);
  redis.resume();
  assert.deepEqual([...(await store.lookup(['x']))], [['x', null]], 'answers again after SIGCONT');

  await redis.stop();
  await new Promise((r) => setTimeout(r, 100));
  started = performance.now();
  await assert.rejects(store.lookup(['x']));
  assert.ok(performance.now() - started < 100, 'no offline queue: a lookup while disconnected fails at once');
});

test('profile store starts while Redis is down and reconnects by itself when it comes up', async (t) => {
  const port = await freePort();
  const store = new ProfileStore(`redis://127.0.0.1:${port}`);
  t.after(() => store.close());
  store.connect();
  await assert.rejects(store.lookup(['x']), 'nothing listens yet: fails, does not queue');
  const redis = await startThrowawayRedis(port);
  t.after(() => redis.stop());
  const answer = await waitFor(() => store.lookup(['x']).catch(() => undefined), { what: 'a lookup after the reconnect (within 5 s)', timeoutMs: 5000, intervalMs: 50 });
  assert.deepEqual([...answer], [['x', null]]);
});
