/** The one lag answer (group-lag.ts) on a fake admin: where a consumer without a stored position stands, clipping, the wait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from './kafka.js';
import { consumerLag, groupLag, untilCaughtUp, type Positions } from './group-lag.js';

const admin = {
  fetchTopicOffsets: async (topic: string) =>
    topic === 'a'
      ? [{ partition: 0, low: '0', high: '10' }, { partition: 1, low: '5', high: '8' }, { partition: 2, low: '0', high: '4' }]
      : [{ partition: 0, low: '0', high: '3' }],
  fetchOffsets: async ({ topics }: { topics: string[] }) =>
    topics.map((topic) => ({ topic, partitions: topic === 'a' ? [{ partition: 0, offset: '7' }, { partition: 1, offset: '-1' }, { partition: 2, offset: '9' }] : [{ partition: 0, offset: '3' }] })),
} as unknown as Admin;

test('consumerLag: end minus position per partition; no position = the log start; never negative', async () => {
  const positions: Positions = { read: async () => new Map([['a/0', 7n], ['a/1', null], ['a/2', 9n]]) };
  const lag = await consumerLag(admin, ['a'], positions);
  assert.deepEqual(lag.partitions.map((p) => [p.partition, p.committed, p.end, p.lag]), [[0, 7n, 10n, 3n], [1, 5n, 8n, 3n], [2, 9n, 4n, 0n]]);
  assert.equal(lag.total, 6n);
});

test('consumerLag: other ends (e.g. committed data ends) replace the high watermarks', async () => {
  const lag = await consumerLag(admin, ['b'], { read: async () => new Map() }, async () => [{ partition: 0, low: 0n, end: 2n }]);
  assert.equal(lag.total, 2n);
});

test('groupLag: the group committed offsets through the admin API, over several topics', async () => {
  const lag = await groupLag(admin, 'g', ['a', 'b']);
  assert.equal(lag.total, 6n);
  assert.deepEqual(lag.partitions.map((p) => `${p.topic}/${p.partition}:${p.lag}`), ['a/0:3', 'a/1:3', 'a/2:0', 'b/0:0']);
});

test('untilCaughtUp: polls until 0 (every reading seen), or gives up at the timeout with the lag left', async () => {
  const readings = [5n, 2n, 0n];
  const seen: bigint[] = [];
  assert.equal(await untilCaughtUp(async () => readings.shift()!, { pollMs: 1, onPoll: (l) => seen.push(l) }), 0n);
  assert.deepEqual(seen, [5n, 2n, 0n]);
  assert.equal(await untilCaughtUp(async () => 4n, { pollMs: 5, timeoutMs: 20 }), 4n);
});
