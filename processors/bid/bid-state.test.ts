import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCampaign } from '../testing/campaign.fixture.js';
import { frequencyKey } from '../domain/redis-keys.js';
import { FrequencyReader, mgetWithTimeout } from './bid-state.js';

const NOW = Date.UTC(2026, 10, 22, 20); // 05:00 on the 23rd in Tokyo

function fakeRedis(table: Record<string, string> = {}) {
  const calls: string[][] = [];
  return { calls, mget: async (keys: string[]) => (calls.push(keys), keys.map((k) => table[k] ?? null)) };
}

test("bid-state reads a batch's frequency counts in one MGET, for capped campaigns and known users only", async () => {
  const capped = makeCampaign({ id: 'cap', frequencyCap: { count: 3, per: 'day' } });
  const tokyo = makeCampaign({ id: 'tokyo', timezone: 'Asia/Tokyo', frequencyCap: { count: 3, per: 'day' } });
  const open = makeCampaign({ id: 'open' });
  const redis = fakeRedis({ [frequencyKey('cap', '2026-11-22', 'u1')]: '2', [frequencyKey('tokyo', '2026-11-23', 'u2')]: '1' });
  const reader = new FrequencyReader(redis, 50);
  const got = await reader.read([
    { userId: 'u1', campaigns: [capped, open] },
    { userId: null, campaigns: [capped] },
    { userId: 'u2', campaigns: [capped, tokyo] },
    { userId: 'u3', campaigns: [] },
  ], NOW);
  assert.equal(redis.calls.length, 1);
  assert.deepEqual(redis.calls[0], [frequencyKey('cap', '2026-11-22', 'u1'), frequencyKey('cap', '2026-11-22', 'u2'), frequencyKey('tokyo', '2026-11-23', 'u2')]);
  assert.deepEqual(got.map((m) => [...m]), [[['cap', 2]], [], [['cap', 0], ['tokyo', 1]], []]);
});

test('bid-state makes no round trip when no request needs a count', async () => {
  const redis = fakeRedis();
  const got = await new FrequencyReader(redis, 50).read([{ userId: 'u1', campaigns: [makeCampaign()] }, { userId: null, campaigns: [] }], NOW);
  assert.equal(redis.calls.length, 0);
  assert.deepEqual(got.map((m) => m.size), [0, 0]);
});

test('bid-state rejects a read that takes longer than its timeout', async () => {
  const hung = { mget: () => new Promise<(string | null)[]>(() => undefined) };
  await assert.rejects(mgetWithTimeout(hung, ['k'], 20), /timed out after 20 ms/);
  const reader = new FrequencyReader(hung, 20);
  await assert.rejects(reader.read([{ userId: 'u', campaigns: [makeCampaign({ frequencyCap: { count: 1, per: 'day' } })] }], NOW), /timed out/);
});
