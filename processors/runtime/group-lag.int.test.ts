/**
 * Group lag read through a consumer client (CommittedOffsets) equals what the admin API reads, on the real
 * broker. The consumer path exists because the admin one kills the process when an OffsetFetch meets a
 * coordinator that is loading (a broker restarting); deploy/chaos.int.test.ts polls through such restarts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { commonSpecs, loadConfig } from '../../schemas/config.js';
import { createKafka, ensureTopics, setGroupOffsets } from './kafka.js';
import { createLogger } from './logger.js';
import { CommittedOffsets, groupLag } from './group-lag.js';

const cfg = loadConfig(commonSpecs);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'group-lag-test', log: createLogger('test', 'silent') });
const topic = `group-lag-${randomUUID().slice(0, 8)}`;
const admin = kafka.admin();

after(async () => {
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

test('group lag through a consumer client equals the admin API, with and without commits', async () => {
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
  const producer = kafka.producer({ 'linger.ms': 1 });
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: i % 3 })) });
  await producer.disconnect();
  const group = `group-lag-${randomUUID().slice(0, 8)}`;
  const committed = new CommittedOffsets(cfg.kafkaBrokers, group);
  try {
    const none = await groupLag(admin, group, [topic], committed);
    assert.deepEqual(none, await groupLag(admin, group, [topic]), 'no commit yet: the same from both');
    assert.equal(none.total, 30n, 'a group without commits starts at the beginning');
    await setGroupOffsets(cfg.kafkaBrokers, group, topic, [{ partition: 0, offset: '10' }, { partition: 1, offset: '4' }]);
    const some = await groupLag(admin, group, [topic], committed);
    assert.deepEqual(some, await groupLag(admin, group, [topic]), 'after commits: the same from both');
    assert.deepEqual(some.partitions.map((p) => [p.partition, p.committed, p.lag]), [[0, 10n, 0n], [1, 4n, 6n], [2, 0n, 10n]]);
  } finally {
    await committed.close();
  }
});
