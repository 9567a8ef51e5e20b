/** First-seen de-duplication against a real Redis. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, redisSpecs } from '../../schemas/config.js';
import { redisFirstSeen, seenKey } from './dedup.js';

const redis = new Redis(loadConfig(redisSpecs).redisUrl);
after(() => redis.quit());

test('dedup keeps the first sighting of an event id, recognises the same record again, and rejects other copies', async () => {
  const firstSeen = redisFirstSeen(redis, 60_000);
  const id = randomUUID();
  const other = randomUUID();
  assert.deepEqual(await firstSeen([{ eventId: id, position: 't/0/5' }, { eventId: id, position: 't/1/9' }, { eventId: other, position: 't/0/6' }]), [true, false, true]);
  assert.deepEqual(await firstSeen([{ eventId: id, position: 't/0/5' }]), [true], 'the batch re-processed');
  assert.deepEqual(await firstSeen([{ eventId: id, position: 't/2/1' }]), [false]);
  assert.ok((await redis.pttl(seenKey(id))) > 0, 'remembered for a bounded time');
  assert.deepEqual(await firstSeen([]), []);
});
