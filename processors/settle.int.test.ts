/**
 * The settle service as a real process on a topic and a pending index of this run's own: WIN and
 * BILLING events settle their reservations, which are then never released; the reservations nobody
 * won are released after SETTLE_RELEASE_AFTER_MS with their spend given back exactly. The reservations
 * are the auction's own (auction/reserve.ts), so this test lives beside the other cross-processor ones.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, commonSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from './runtime/logger.js';
import { createKafka, ensureTopics, type Producer } from './runtime/kafka.js';
import { spawnService, type ServiceProcess } from './testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { TrackingEvent, TrackingType } from '../schemas/tracking-event.js';
import type { BidRecord } from '../schemas/bid-set.js';
import { redisReserve } from './auction/reserve.js';
import { pendingKey, reservationKey, spendDayKey, spendLifetimeKey } from './domain/redis-keys.js';
import { waitFor } from './testing/wait.js';
import { metricSum } from './runtime/metrics-scrape.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'settle-test', log: createLogger('test', 'silent') });
const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1 });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const topic = `tracking-events-test-${run}`;
const index = `rtb:pending:campaigns:test-${run}`;
const cid = `settle-svc-${run}`;
const day = '2026-11-22';
const RELEASE_AFTER_MS = 4000;
let producer: Producer;
let service: ServiceProcess;

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
  await admin.disconnect();
  await codec.register(subjectFor(topic), loadSchema('tracking-event.avsc'));
  producer = kafka.producer({ 'linger.ms': 1 });
  await producer.connect();
  service = await spawnService('processors/settle/main.ts', 'PROCESSOR_HTTP_PORT', {
    SETTLE_INPUT: topic, SETTLE_NAME: `settle-${run}`, SETTLE_PENDING_INDEX: index, SETTLE_RELEASE_AFTER_MS: String(RELEASE_AFTER_MS),
    SETTLE_RELEASE_EVERY_MS: '200', PROCESSOR_INSTANCE_ID: `settle-test-${run}`, TOPIC_PARTITIONS: '3',
  });
});
after(async () => {
  await service?.stop();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  await redis.del(index, pendingKey(cid));
  await redis.quit();
});

const bid: BidRecord = {
  impId: '1', campaignId: cid, advertiserId: 'adv', creativeId: 'cr', priceMicros: 2_000_000, adomain: [], w: 300, h: 250,
  dailyBudgetMicros: 10_000_000, lifetimeBudgetMicros: 10_000_000, frequencyCap: 0, dayKey: day, dayEndsAtMs: Date.now() + 86_400_000, title: '', imageUrl: '', landingUrl: '',
};
const event = (requestId: string, type: TrackingType): TrackingEvent => ({
  eventId: randomUUID(), type, requestId, impId: '1', campaignId: cid, creativeId: 'cr', advertiserId: 'adv', dayKey: day,
  priceMicros: 2_000_000, costMicros: 2_000, auctionAtMs: Date.now(), occurredAtMs: Date.now(), ingestNodeId: 'test',
});
const send = (events: TrackingEvent[]) => producer.send({ topic, messages: events.map((e) => ({ key: e.requestId, value: codec.encode(subjectFor(topic), e) })) });
test('settle service: won reservations are settled and kept, the others released after the timeout', async () => {
  // Wait until the consumer has its partitions, so the wins below are consumed well within the timeout.
  await send([event('warm-up', 'CLICK')]);
  await waitFor(async () => (await metricSum(service.url, 'processor_records_in_total')) >= 1, { what: 'the service to consume', timeoutMs: 30_000, detail: () => service.output() });

  const reserve = redisReserve(redis, { pendingIndexKey: index });
  const ids = Array.from({ length: 6 }, (_, i) => `req-${run}-${i}`);
  const costs = ids.map((_, i) => 1_000 + i * 7);
  for (const [i, id] of ids.entries()) assert.equal(await reserve(bid, id, `user-${i}`, costs[i]!), 'ok');
  const won = ids.slice(0, 3);
  await send([event(won[0]!, 'WIN'), event(won[1]!, 'WIN'), event(won[2]!, 'BILLING'), event(won[0]!, 'BILLING'), event(ids[3]!, 'IMPRESSION'), event(`never-${run}`, 'WIN')]);

  await waitFor(async () => (await Promise.all(won.map((id) => redis.get(reservationKey(cid, id, '1'))))).every((s) => s === 'S'), { what: 'the wins to settle', timeoutMs: RELEASE_AFTER_MS, detail: () => service.output() });
  await waitFor(async () => (await Promise.all(ids.slice(3).map((id) => redis.get(reservationKey(cid, id, '1'))))).every((s) => s === 'R'), { what: 'the others to be released', timeoutMs: 30_000, detail: () => service.output() });

  const kept = costs.slice(0, 3).reduce((a, b) => a + b, 0);
  assert.equal(Number(await redis.get(spendDayKey(cid, day))), kept, 'daily spend = the won reservations exactly');
  assert.equal(Number(await redis.get(spendLifetimeKey(cid))), kept);
  assert.deepEqual(await Promise.all(won.map((id) => redis.get(reservationKey(cid, id, '1')))), ['S', 'S', 'S'], 'never released');
  assert.equal(await redis.zcard(pendingKey(cid)), 0);
  await waitFor(async () => (await redis.sismember(index, cid)) === 0, { what: 'the campaign to leave the index', timeoutMs: 30_000, detail: () => service.output() });

  assert.equal(await metricSum(service.url, 'settle_reservations_total', { result: 'settled' }), 3);
  assert.equal(await metricSum(service.url, 'settle_reservations_total', { result: 'duplicate' }), 1);
  assert.equal(await metricSum(service.url, 'settle_reservations_total', { result: 'unknown' }), 1);
  assert.equal(await metricSum(service.url, 'settle_reservations_total', { result: 'released' }), 3);
});

test('settle service stops cleanly on SIGTERM (the releaser is stopped, Redis closed)', async () => {
  assert.deepEqual(await service.stop(), { code: 0, signal: null });
});
