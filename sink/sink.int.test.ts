/**
 * The sink as a real process against the real stack: Kafka, the registry and Postgres (a throw-away
 * schema per test, passed to the child through POSTGRES_URL's search_path). Totals in Postgres are
 * compared with totals computed independently from the produced records: exactly equal after SIGKILLs
 * mid-stream, with two and three instances rebalancing, and after replays while stopped and running.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { commonSpecs, loadConfig } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { readTopic } from '../processors/runtime/read-topic.js';
import { spawnService, type ServiceProcess } from '../processors/testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { TOPICS, loadSchema, subjectFor } from '../schemas/topics.js';
import type { WindowCount } from '../schemas/tracking-event.js';
import { freshSchema } from '../processors/runtime/fresh-schema.js';
import { topicEnds } from '../processors/runtime/end-offsets.js';
import { sinkDrained } from './offsets.js';
import { WINDOW_MS, appliedParts, dimensions, readTotals, rng, totalsOf } from '../processors/testing/sink-parts.fixture.js';
import { removeFromWindowCountsOffset } from './writer.js';
import { waitFor } from '../processors/testing/wait.js';
import { metricSum } from '../processors/runtime/metrics-scrape.js';

const cfg = loadConfig(commonSpecs);
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'sink-test', log: createLogger('test', 'silent') });
const topics: string[] = [];
const groups: string[] = [];
after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

const PARTITIONS = 4;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `p` has applied records itself, i.e. it owns partitions. After a SIGKILL that takes up to
 * session.timeout.ms (10 s): the group waits for the dead member before it can rebalance.
 */
async function working(p: ServiceProcess): Promise<void> {
  await waitFor(() => metricSum(p.url, 'sink_records_in_total'), { until: (n) => n !== 0, what: 'the instance to get partitions and apply records', timeoutMs: 30_000, intervalMs: 100 });
}

/** Partitions assigned to a sink instance so far (sink_partition_assignments_total{event="assigned"}). */
const assignments = (url: string): Promise<number> => metricSum(url, 'sink_partition_assignments_total', { event: 'assigned' });

async function setup(t: Parameters<typeof freshSchema>[0], seed: number) {
  const db = await freshSchema(t);
  const run = randomUUID().slice(0, 8);
  const topic = `sink-it-${run}`;
  const group = `sink-it-${run}`;
  topics.push(topic);
  groups.push(group);
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await ensureTopics(admin, [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }]);
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(subjectFor(topic), loadSchema('window-count.avsc'));
  const producer = kafka.producer({ 'linger.ms': 5 });
  await producer.connect();
  t.after(() => producer.disconnect());
  const random = rng(seed);
  const produced: WindowCount[] = [];
  let next = 0;
  /**
   * Produces `n` random parts, each from its own aggregate batch, keyed by campaign like the aggregate
   * but spread round-robin over the partitions: with only nine keys, hashing left a partition empty in
   * about one run of thirteen, and a test that replays or hands out that partition then proves nothing.
   */
  const produce = async (n: number, partition?: number): Promise<void> => {
    const parts = Array.from({ length: n }, (): WindowCount => {
      const all = random() < 0.15;
      const i = next++;
      const int = (k: number): number => Math.floor(random() * k);
      return {
        campaignId: all ? '*' : `${run}-c${int(8)}`, creativeId: all ? '' : `k${int(3)}`, ...dimensions(random, all),
        windowStartMs: Date.UTC(2026, 10, 22) + int(20) * WINDOW_MS, windowMs: WINDOW_MS,
        requests: all ? 1 + int(50) : 0, bids: int(20), wins: int(5), winCostMicros: int(9_000_000), spendMicros: int(9_000_000),
        clearingPriceMicros: int(90_000_000), impressions: int(5), clicks: int(2), conversions: int(2), exchangeWins: int(3), exchangePriceMicros: int(9_000_000), losses: int(3),
        sourceTopic: `src-${run}`, sourcePartition: i % 3, firstOffset: i * 10, lastOffset: i * 10 + 9,
      };
    });
    produced.push(...parts);
    const first = next - n;
    await producer.send({ topic, messages: parts.map((p, i) => ({ key: p.campaignId, value: codec.encode(subjectFor(topic), p), partition: partition ?? (first + i) % PARTITIONS })) });
  };
  // Every instance is killed when the test ends, also when an assertion failed first: a live child
  // would keep the test file (and CI) running forever.
  const start = async (env: Record<string, string> = {}): Promise<ServiceProcess> => {
    const p = await spawnService('sink/main.ts', 'SINK_HTTP_PORT', { SINK_INPUT: topic, SINK_GROUP: group, POSTGRES_URL: db.url, SINK_MAX_BATCH: '40', TOPIC_PARTITIONS: String(PARTITIONS), ...env });
    t.after(async () => {
      await p.stop('SIGKILL');
    });
    return p;
  };
  return { db, topic, group, admin, producer, produce, produced, start };
}

test('sink: SIGKILL and restart while it works neither loses nor double-counts; bad records are dead-lettered', async (t) => {
  const s = await setup(t, 11);
  // Two bad records on partition 1: bytes that are not Avro, and a valid Avro part with windowMs 0.
  const garbage = Buffer.from('not avro');
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(subjectFor(s.topic), loadSchema('window-count.avsc'));
  const invalid = codec.encode(subjectFor(s.topic), {
    campaignId: 'x', creativeId: '', windowStartMs: 0, windowMs: 0, requests: 0, bids: 0, wins: 0, winCostMicros: 0, spendMicros: 0,
    clearingPriceMicros: 0, impressions: 0, clicks: 0, conversions: 0, sourceTopic: 's', sourcePartition: 0, firstOffset: 0, lastOffset: 0,
  });
  await s.producer.send({ topic: s.topic, messages: [{ value: garbage, partition: 1 }, { value: invalid, partition: 1 }] });
  let producingDone = false;
  const producing = (async () => {
    while (!producingDone) {
      await s.produce(40);
      await sleep(100);
    }
  })();
  const progress: number[] = [];
  for (let round = 0; round < 3; round++) {
    const p = await s.start();
    await working(p);
    await sleep(Math.floor(Math.random() * 400));
    assert.equal((await p.stop('SIGKILL')).signal, 'SIGKILL');
    progress.push(await appliedParts(s.db.sql));
  }
  producingDone = true;
  await producing;
  const last = await s.start();
  assert.ok(await sinkDrained(s.admin, s.db.sql, cfg.kafkaBrokers, s.topic, s.group, 90_000), 'sink drained');
  t.diagnostic(`ledger rows at each SIGKILL: ${progress.join(', ')} of ${s.produced.length}`);
  assert.ok(progress.every((n, i) => n > (progress[i - 1] ?? 0)), `every instance applied records before it was killed: ${progress.join(', ')}`);
  assert.deepEqual(await readTotals(s.db.sql), totalsOf(s.produced));
  assert.equal(await appliedParts(s.db.sql), s.produced.length);
  assert.ok((await metricSum(last.url, 'sink_rows_written_total')) > 0);
  assert.equal((await last.stop('SIGTERM')).code, 0, 'SIGTERM exits 0');

  const letters = (await readTopic(kafka, TOPICS.deadLetters, { timeoutMs: 30_000 })).filter((r) => r.key?.toString() === 'sink');
  const mine = (await Promise.all(letters.map((r) => codec.decode<{ topic: string; partition: number; offset: number; errorCode: string; value: Buffer }>(r.value as Buffer))))
    .filter((l) => l.topic === s.topic);
  // At least once: a SIGKILL between sending a dead letter and committing its batch sends it again.
  assert.deepEqual([...new Set(mine.map((l) => `${l.partition}/${l.offset}/${l.errorCode}`))].sort(), ['1/0/DECODE_FAILED', '1/1/INVALID_RECORD']);
  assert.ok(Buffer.from(mine.find((l) => l.offset === 0)!.value).equals(garbage), 'the original bytes');
});

test('sink: instances joining and leaving the group (rebalances) still add every record exactly once', async (t) => {
  const s = await setup(t, 12);
  // Records keep arriving until the last instance has joined: an instance only shows it owns partitions
  // by applying records, and on a slow machine a fixed number of rounds ended before the third joined.
  // After a failed assertion the producer is disconnected by setup's hooks, which ends the loop with an
  // error that is kept, not thrown, so it cannot surface as an unhandled rejection.
  let producingDone = false;
  const producing = (async () => {
    for (let i = 0; !producingDone || i < 30; i++) {
      await s.produce(60);
      await sleep(100);
    }
  })().then(() => null, (err: unknown) => err);
  const a = await s.start();
  const b = await s.start();
  await working(b);
  assert.equal((await b.stop('SIGTERM')).code, 0, 'a leaving instance finishes its batch and exits 0');
  const c = await s.start();
  await working(c);
  assert.equal((await c.stop('SIGKILL')).signal, 'SIGKILL');
  const d = await s.start();
  producingDone = true;
  assert.equal(await producing, null, 'producing failed');
  assert.ok(await sinkDrained(s.admin, s.db.sql, cfg.kafkaBrokers, s.topic, s.group, 90_000), 'sink drained');
  assert.deepEqual(await readTotals(s.db.sql), totalsOf(s.produced));
  assert.equal(await appliedParts(s.db.sql), s.produced.length);
  assert.ok((await metricSum(a.url, 'sink_records_in_total')) > 0, 'the first instance worked too');
  await Promise.all([a.stop(), d.stop()]);
});

test('sink: resumes from the Postgres offsets after a replay, stopped or running, never from Kafka committed offsets', async (t) => {
  const s = await setup(t, 13);
  await s.produce(1200);
  const first = await s.start();
  assert.ok(await sinkDrained(s.admin, s.db.sql, cfg.kafkaBrokers, s.topic, s.group, 90_000), 'sink drained');
  await first.stop();
  const clean = totalsOf(s.produced);
  assert.deepEqual(await readTotals(s.db.sql), clean);
  // Kafka's committed offsets stay at the end; Postgres moves back to the middle.
  for (const e of await topicEnds(s.admin, s.topic)) await removeFromWindowCountsOffset(s.db.sql, s.topic, e.partition, e.high / 2n);
  assert.notDeepEqual(await readTotals(s.db.sql), clean);
  const second = await s.start({ LOG_LEVEL: 'info' });
  assert.ok(await sinkDrained(s.admin, s.db.sql, cfg.kafkaBrokers, s.topic, s.group, 90_000), 'sink drained');
  assert.deepEqual(await readTotals(s.db.sql), clean, 're-applied from the Postgres offsets');
  // A replay under a running sink: its next batch on that partition is rejected, and it seeks back
  // (or, if the group rebalanced meanwhile, the new assignment starts from the stored position).
  const assignedBefore = await assignments(second.url);
  const removal = await removeFromWindowCountsOffset(s.db.sql, s.topic, 2, 0);
  assert.ok(removal.partsRemoved > 0 && removal.groupsRewound.includes(s.group), 'the replay took back applied parts and rewound this group');
  await s.produce(50, 2);
  assert.ok(await sinkDrained(s.admin, s.db.sql, cfg.kafkaBrokers, s.topic, s.group, 90_000), 'sink drained');
  assert.deepEqual(await readTotals(s.db.sql), totalsOf(s.produced));
  const rejected = await metricSum(second.url, 'sink_zombie_rejections_total');
  const reassigned = (await assignments(second.url)) - assignedBefore;
  t.diagnostic(`zombie rejections ${rejected}, partitions assigned meanwhile ${reassigned}`);
  assert.ok(rejected >= 1 || reassigned >= 1, `the stale position was rejected (or re-read on a new assignment), not written; the sink's log:\n${second.output()}`);
  assert.equal((await second.stop()).code, 0);
});

test('sink: when Postgres refuses the assignment the process exits 1 instead of consuming from Kafka offsets', async (t) => {
  const s = await setup(t, 14);
  await s.produce(100);
  await s.db.sql.unsafe(`create function refuse_claim() returns trigger language plpgsql as $$ begin raise exception 'claim refused by the test'; end $$;
    create trigger refuse_claim before insert on sink_offsets for each row execute function refuse_claim()`).simple();
  let output = '';
  let code: number | null = null;
  try {
    const p = await s.start();
    code = (await Promise.race([p.exited, sleep(30_000).then(() => ({ code: null }))])).code;
    output = p.output();
  } catch (err) {
    // It may exit before /ready ever answered: spawnService reports the exit code and the output.
    output = (err as Error).message;
    const exit = /exited with code (\d+)/.exec(output);
    code = exit ? Number(exit[1]) : null;
  }
  assert.equal(code, 1);
  assert.match(output, /partition assignment failed/);
  assert.match(output, /claim refused by the test/);
  assert.equal(await appliedParts(s.db.sql), 0, 'nothing applied');
});
