/**
 * The settle service as a real process on topics and a pending index of this run's own: WIN and
 * BILLING events settle their reservations at their cost, which are then never released; a loss notice
 * releases its reservation at once; the reservations nobody won are released after
 * SETTLE_RELEASE_AFTER_MS with their spend given back exactly; a billing after that is charged once;
 * impressions and clicks feed the performance counters once per event id; test traffic changes nothing.
 * The reservations are the auction's own (auction/reserve.ts), so this test lives beside the other
 * cross-processor ones.
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
import type { LossNotice, TrackingEvent, TrackingType } from '../schemas/tracking-event.js';
import type { BidRecord } from '../schemas/bid-set.js';
import { redisReserve } from './auction/reserve.js';
import { pendingKey, perfClicksKey, perfImpressionsKey, reservationKey, spendDayKey, spendLifetimeKey } from './domain/redis-keys.js';
import { waitFor } from './testing/wait.js';
import { metricSum } from './runtime/metrics-scrape.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'settle-test', log: createLogger('test', 'silent') });
const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1 });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const topic = `tracking-events-test-${run}`;
const lossTopic = `loss-notices-test-${run}`;
const index = `rtb:pending:campaigns:test-${run}`;
const cid = `settle-svc-${run}`;
const day = '2026-11-22';
const RELEASE_AFTER_MS = 4000;
let producer: Producer;
let service: ServiceProcess;

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }, { topic: lossTopic, numPartitions: 3, replicationFactor: 1 }]);
  await admin.disconnect();
  await codec.register(subjectFor(topic), loadSchema('tracking-event.avsc'));
  await codec.register(subjectFor(lossTopic), loadSchema('loss-notice.avsc'));
  producer = kafka.producer({ 'linger.ms': 1 });
  await producer.connect();
  service = await spawnService('processors/settle/main.ts', 'PROCESSOR_HTTP_PORT', {
    SETTLE_INPUT: topic, SETTLE_LOSS_INPUT: lossTopic, SETTLE_NAME: `settle-${run}`, SETTLE_PENDING_INDEX: index, SETTLE_RELEASE_AFTER_MS: String(RELEASE_AFTER_MS),
    SETTLE_RELEASE_EVERY_MS: '200', PROCESSOR_INSTANCE_ID: `settle-test-${run}`, TOPIC_PARTITIONS: '3',
  });
});
after(async () => {
  await service?.stop();
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, lossTopic] }).catch(() => undefined);
  await admin.disconnect();
  await redis.del(index, pendingKey(cid), perfImpressionsKey(cid), perfClicksKey(cid));
  await redis.quit();
});

const bid: BidRecord = {
  impId: '1', campaignId: cid, advertiserId: 'adv', creativeId: 'cr', priceMicros: 2_000_000, adomain: [], w: 300, h: 250,
  dailyBudgetMicros: 10_000_000, lifetimeBudgetMicros: 10_000_000, frequencyCap: 0, dayKey: day, dayEndsAtMs: Date.now() + 86_400_000, title: '', imageUrl: '', landingUrl: '',
};
const event = (requestId: string, type: TrackingType, costMicros = 2_000, extra: Partial<TrackingEvent> = {}): TrackingEvent => ({
  eventId: `${requestId}|${type}`, type, requestId, impId: '1', campaignId: cid, creativeId: 'cr', advertiserId: 'adv', dayKey: day,
  priceMicros: costMicros * 1000, costMicros, auctionAtMs: Date.now(), occurredAtMs: Date.now(), ingestNodeId: 'test', ...extra,
});
const lossOf = (requestId: string): LossNotice => ({
  eventId: `${requestId}|LOSS`, requestId, impId: '1', campaignId: cid, creativeId: 'cr', advertiserId: 'adv', dayKey: day, exchange: 'x', lossReason: 102,
  priceMicros: 0, test: false, dealId: '', privacyBasis: '', currency: 'USD', auctionAtMs: Date.now(), occurredAtMs: Date.now(), ingestNodeId: 'test',
});
const send = (events: TrackingEvent[]) => producer.send({ topic, messages: events.map((e) => ({ key: e.requestId, value: codec.encode(subjectFor(topic), e) })) });
const sendLoss = (notices: LossNotice[]) => producer.send({ topic: lossTopic, messages: notices.map((n) => ({ key: n.requestId, value: codec.encode(subjectFor(lossTopic), n) })) });
test('settle service: won reservations are settled and kept, the others released after the timeout', async () => {
  // Wait until the consumer has its partitions, so the wins below are consumed well within the timeout.
  await send([event('warm-up', 'CLICK')]);
  await waitFor(async () => (await metricSum(service.url, 'processor_records_in_total')) >= 1, { what: 'the service to consume', timeoutMs: 30_000, detail: () => service.output() });

  const reserve = redisReserve(redis, { pendingIndexKey: index });
  const ids = Array.from({ length: 6 }, (_, i) => `req-${run}-${i}`);
  const costs = ids.map((_, i) => 1_000 + i * 7);
  for (const [i, id] of ids.entries()) assert.equal(await reserve(bid, id, `user-${i}`, costs[i]!), 'ok');
  const won = ids.slice(0, 3);
  // Won at the reserved cost, except won[2], billed 5 micros below it (the difference is given back).
  await send([
    event(won[0]!, 'WIN', costs[0]), event(won[1]!, 'WIN', costs[1]), event(won[2]!, 'BILLING', costs[2]! - 5), event(won[0]!, 'BILLING', costs[0]), event(won[0]!, 'BILLING', costs[0]),
    event(ids[3]!, 'IMPRESSION'), event(ids[3]!, 'IMPRESSION'), event(ids[3]!, 'CLICK'), event(ids[5]!, 'IMPRESSION', 0, { test: true }),
    event(ids[5]!, 'BILLING', costs[5], { test: true }), event(`never-${run}`, 'WIN', 900),
  ]);
  await sendLoss([lossOf(ids[4]!), lossOf(ids[4]!)]);

  await waitFor(async () => (await Promise.all(won.map((id) => redis.get(reservationKey(cid, id, '1'))))).every((s) => /^[WB]:/.test(s ?? '')), { what: 'the wins to settle', timeoutMs: RELEASE_AFTER_MS, detail: () => service.output() });
  // The lost one is released by its loss notice, before the release timeout (the loss metric below says which released it).
  await waitFor(async () => (await redis.get(reservationKey(cid, ids[4]!, '1'))) === 'R', { what: 'the loss notice to release', timeoutMs: RELEASE_AFTER_MS, detail: () => service.output() });
  await waitFor(async () => (await Promise.all(ids.slice(3).map((id) => redis.get(reservationKey(cid, id, '1'))))).every((s) => s === 'R'), { what: 'the others to be released', timeoutMs: 30_000, detail: () => service.output() });

  const kept = costs.slice(0, 3).reduce((a, b) => a + b, 0) - 5 + 900;
  assert.equal(Number(await redis.get(spendDayKey(cid, day))), kept, 'daily spend = the won reservations at their billed cost, plus the late win charged');
  assert.equal(Number(await redis.get(spendLifetimeKey(cid))), kept);
  assert.deepEqual(await Promise.all(won.map((id) => redis.get(reservationKey(cid, id, '1')))), [`B:${costs[0]}`, `W:${costs[1]}`, `B:${costs[2]! - 5}`], 'never released');
  assert.equal(await redis.zcard(pendingKey(cid)), 0);
  await waitFor(async () => (await redis.sismember(index, cid)) === 0, { what: 'the campaign to leave the index', timeoutMs: 30_000, detail: () => service.output() });
  assert.deepEqual([await redis.get(perfImpressionsKey(cid)), await redis.get(perfClicksKey(cid))], ['1', '2'], 'once per event id (the warm-up click and ids[3]\'s); test traffic not counted');

  const results = async (name: string, label: string, values: string[]) => Promise.all(values.map((v) => metricSum(service.url, name, { [label]: v })));
  assert.deepEqual(await results('settle_reservations_total', 'result', ['settled', 'adjusted', 'duplicate', 'charged', 'test', 'released']), [3, 1, 1, 1, 1, 2]);
  assert.deepEqual(await results('settle_loss_notices_total', 'result', ['released', 'not_pending']), [1, 1]);
  assert.deepEqual(await results('settle_perf_events_total', 'result', ['counted', 'duplicate', 'test']), [3, 1, 1]);
});

test('settle service stops cleanly on SIGTERM (the releaser is stopped, Redis closed)', async () => {
  assert.deepEqual(await service.stop(), { code: 0, signal: null });
});
