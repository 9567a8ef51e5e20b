/**
 * The aggregate service on the real stack: outcomes and notices (with duplicate and late notices) in,
 * SIGKILL twice mid-stream, and the partial sums on window-counts add up, per campaign, creative and
 * window, to totals computed independently from the inputs: exactly.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadConfig, commonSpecs } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka, ensureTopics } from '../runtime/kafka.js';
import { readTopic } from '../runtime/read-topic.js';
import { waitDrained } from '../runtime/group-lag.js';
import { spawnService } from '../testing/spawn-service.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor } from '../../schemas/topics.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { TrackingEvent, WindowCount } from '../../schemas/tracking-event.js';
import { WindowSums } from './window.js';
import { FIELDS, makeTraffic, totals } from './traffic-fixture.js';

const cfg = loadConfig(commonSpecs);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'aggregate-test', log: createLogger('test', 'silent') });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = { o: `agg-o-${run}`, t: `agg-t-${run}`, l: `agg-l-${run}`, w: `agg-w-${run}` };
after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await admin.disconnect();
});

const MIN = 60_000;
test('aggregate: SIGKILL mid-stream; window sums equal independent totals, duplicates once, late dropped', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, Object.values(T).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })));
  await codec.register(subjectFor(T.o), loadSchema('auction-outcome.avsc'));
  await codec.register(subjectFor(T.t), loadSchema('tracking-event.avsc'));
  const now = Date.now();
  const { outcomes, notices, duplicates, late } = makeTraffic(`agg-${run}`, now);
  const producer = kafka.producer({ 'linger.ms': 5 });
  await producer.connect();
  const send = async (topic: string, values: Array<AuctionOutcome | TrackingEvent>) => {
    for (let i = 0; i < values.length; i += 250) {
      await producer.send({ topic, messages: values.slice(i, i + 250).map((v) => ({ key: v.requestId, value: codec.encode(subjectFor(topic), v) })) });
    }
  };
  await send(T.o, outcomes);
  await send(T.t, [...notices, ...duplicates, ...late]);
  await producer.disconnect();

  const env = { AGGREGATE_NAME: `agg-${run}`, AGGREGATE_OUTCOMES: T.o, AGGREGATE_TRACKING: T.t, AGGREGATE_LOSSES: T.l, AGGREGATE_OUTPUT: T.w, PROCESSOR_INSTANCE_ID: 'a', PROCESSOR_MAX_BATCH: '150', AGGREGATE_LATENESS_MS: '3600000' };
  for (let round = 0; round < 2; round++) {
    const p = await spawnService('processors/aggregate/main.ts', 'PROCESSOR_HTTP_PORT', env);
    await new Promise((r) => setTimeout(r, 600 + round * 400));
    assert.equal((await p.stop('SIGKILL')).signal, 'SIGKILL');
  }
  const last = await spawnService('processors/aggregate/main.ts', 'PROCESSOR_HTTP_PORT', env);
  try {
    assert.ok(await waitDrained(admin, `rtb-agg-${run}`, [T.o, T.t], 90_000), 'both inputs consumed');
  } finally {
    await last.stop();
    await admin.disconnect();
  }

  const expected = new WindowSums(MIN);
  for (const o of outcomes) expected.addOutcome(o);
  for (const n of notices) expected.addTracking(n);
  const want = totals(expected.toRecords({ topic: 'x', partition: 0, firstOffset: '0', lastOffset: '0' }));

  const out = await readTopic(kafka, T.w, { timeoutMs: 60_000 });
  const got = totals(await Promise.all(out.map((r) => codec.decode<WindowCount>(r.value as Buffer))));
  assert.equal(got.size, want.size, 'same set of keys and windows');
  for (const [k, w] of want) assert.deepEqual(got.get(k), w, `totals for ${k}`);
  assert.ok(duplicates.length > 50 && late.length === 40, 'the input really had duplicates and late notices');
});
