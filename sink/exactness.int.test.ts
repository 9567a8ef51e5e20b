/**
 * Issue 5's proof on the real stack: outcomes and notices (with duplicates and late ones) flow through
 * the aggregate and the sink while both are SIGKILLed several times; after the topics drain, Postgres
 * totals per campaign, creative and window equal totals computed independently from the inputs,
 * exactly. Then the same after replaying the last hour of the aggregate, and of the sink.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import postgres from 'postgres';
import { loadConfig, commonSpecs, postgresSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { waitDrained } from '../processors/runtime/group-lag.js';
import { sinkDrained } from './offsets.js';
import { spawnService, type ServiceProcess } from '../processors/testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import type { TrackingEvent } from '../schemas/tracking-event.js';
import { WindowSums } from '../processors/aggregate/window.js';
import { FIELDS, keyOf, makeTraffic, totals } from '../processors/aggregate/traffic-fixture.js';

const cfg = loadConfig({ ...commonSpecs, ...postgresSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'exactness-test', log: createLogger('test', 'silent') });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined });
const run = randomUUID().slice(0, 8);
const prefix = `ex-${run}`;
const T = { o: `ex-o-${run}`, t: `ex-t-${run}`, l: `ex-l-${run}`, w: `ex-w-${run}` };
const aggGroup = `rtb-ex-agg-${run}`;
const sinkGroup = `rtb-ex-sink-${run}`;
const procs: ServiceProcess[] = [];

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await sql`delete from window_counts where campaign_id like ${`${prefix}-%`}`;
  await sql`delete from window_count_parts where wc_topic = ${T.w}`;
  await sql`delete from sink_offsets where group_id = ${sinkGroup}`;
  await sql.end();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await admin.disconnect();
});

const startAggregate = () => spawnService('processors/aggregate/main.ts', 'PROCESSOR_HTTP_PORT', {
  AGGREGATE_NAME: `ex-agg-${run}`, AGGREGATE_OUTCOMES: T.o, AGGREGATE_TRACKING: T.t, AGGREGATE_LOSSES: T.l, AGGREGATE_OUTPUT: T.w, PROCESSOR_INSTANCE_ID: 'a', PROCESSOR_MAX_BATCH: '200',
});
const startSink = () => spawnService('sink/main.ts', 'SINK_HTTP_PORT', { SINK_INPUT: T.w, SINK_GROUP: sinkGroup, SINK_MAX_BATCH: '300' });

async function postgresTotals() {
  const rows = await sql<Array<Record<string, string>>>`
    select campaign_id, creative_id, window_start_ms::text, requests::text, bids::text, submitted::text, win_cost_micros::text, spend_micros::text,
           submitted_price_micros::text, impressions::text, clicks::text, conversions::text
    from window_counts where campaign_id like ${`${prefix}-%`} and window_ms = 60000`;
  return totals(rows.map((r) => ({
    campaignId: r.campaign_id!, creativeId: r.creative_id!, windowStartMs: Number(r.window_start_ms), windowMs: 60_000,
    requests: Number(r.requests), bids: Number(r.bids), wins: Number(r.submitted), winCostMicros: Number(r.win_cost_micros), spendMicros: Number(r.spend_micros),
    clearingPriceMicros: Number(r.submitted_price_micros), impressions: Number(r.impressions), clicks: Number(r.clicks), conversions: Number(r.conversions),
    sourceTopic: '', sourcePartition: 0, firstOffset: 0, lastOffset: 0,
  })));
}

function replay(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'sink/replay.ts', ...args, '--no-watch'], { cwd: new URL('..', import.meta.url).pathname }, (err, stdout, stderr) =>
      err ? reject(new Error(`replay failed: ${stderr || err.message}`)) : resolve(stdout));
  });
}

test('exactness: kill -9 aggregate and sink under traffic; Postgres equals independent totals, and again after replays', async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, Object.values(T).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })));
    await codec.register(subjectFor(T.o), loadSchema('auction-outcome.avsc'));
    await codec.register(subjectFor(T.t), loadSchema('tracking-event.avsc'));
    const { outcomes, notices, duplicates, late } = makeTraffic(prefix, Date.now());
    const expected = new WindowSums(60_000);
    for (const o of outcomes) expected.addOutcome(o);
    for (const n of notices) expected.addTracking(n);
    const want = new Map([...totals(expected.toRecords({ topic: 'x', partition: 0, firstOffset: '0', lastOffset: '0' }))].filter(([k]) => k.startsWith(prefix)));

    procs.push(await startSink(), await startAggregate());
    const producer = kafka.producer({ 'linger.ms': 5 });
    await producer.connect();
    const chunks: Array<[string, Array<AuctionOutcome | TrackingEvent>]> = [];
    for (let i = 0; i < outcomes.length; i += 200) chunks.push([T.o, outcomes.slice(i, i + 200)]);
    const allNotices = [...notices, ...duplicates, ...late];
    for (let i = 0; i < allNotices.length; i += 200) chunks.push([T.t, allNotices.slice(i, i + 200)]);
    // Traffic keeps flowing while the aggregate and the sink are killed and restarted in turn.
    for (const [n, [topic, values]] of chunks.entries()) {
      await producer.send({ topic, messages: values.map((v) => ({ key: v.requestId, value: codec.encode(subjectFor(topic), v) })) });
      if (n % 4 === 3) {
        const which = (n / 4) % 2 < 1 ? 'aggregate' : 'sink';
        const i = procs.findIndex((p) => p.child.spawnargs.some((a) => a.includes(which === 'aggregate' ? 'aggregate/main' : 'sink/main')) && p.child.exitCode === null && p.child.signalCode === null);
        assert.equal((await procs[i]!.stop('SIGKILL')).signal, 'SIGKILL');
        procs[i] = which === 'aggregate' ? await startAggregate() : await startSink();
      }
    }
    await producer.disconnect();
    assert.ok(await waitDrained(admin, aggGroup, [T.o, T.t], 120_000), 'aggregate drained');
    assert.ok(await sinkDrained(admin, sql, cfg.kafkaBrokers, T.w, sinkGroup, 120_000), 'sink drained');
    const got = await postgresTotals();
    assert.equal(got.size, want.size, 'same keys and windows');
    for (const [k, w] of want) assert.deepEqual(got.get(k), w, `after kills: ${k}`);

    // Replay the last hour of the aggregate: stop it, take back, rewind, restart, drain.
    for (const p of procs.filter((x) => x.child.spawnargs.some((a) => a.includes('aggregate/main')))) await p.stop();
    const out = await replay(['--consumer', 'aggregate', '--from', '-1h', '--group', aggGroup, '--topic', T.o, '--topic', T.t, '--sink-group', sinkGroup, '--sink-topic', T.w]);
    assert.match(out, /aggregate rewound to/);
    procs.push(await startAggregate());
    assert.ok(await waitDrained(admin, aggGroup, [T.o, T.t], 120_000), 'aggregate drained after replay');
    assert.ok(await sinkDrained(admin, sql, cfg.kafkaBrokers, T.w, sinkGroup, 120_000), 'sink drained after replay');
    const afterAggReplay = await postgresTotals();
    for (const [k, w] of want) assert.deepEqual(afterAggReplay.get(k), w, `after aggregate replay: ${k}`);
    assert.equal(afterAggReplay.size, want.size);

    // Replay the last hour of the sink.
    for (const p of procs.filter((x) => x.child.spawnargs.some((a) => a.includes('sink/main')))) await p.stop();
    const sinkOut = await replay(['--consumer', 'sink', '--from', '-1h', '--group', sinkGroup, '--topic', T.w]);
    assert.match(sinkOut, /sink rewound to/);
    procs.push(await startSink());
    assert.ok(await sinkDrained(admin, sql, cfg.kafkaBrokers, T.w, sinkGroup, 120_000), 'sink drained after its replay');
    const afterSinkReplay = await postgresTotals();
    for (const [k, w] of want) assert.deepEqual(afterSinkReplay.get(k), w, `after sink replay: ${k}`);
    assert.ok(duplicates.length > 50, 'duplicate notices were in the traffic');
    assert.ok(FIELDS.length === 9);
    assert.ok(keyOf({ campaignId: 'a', creativeId: 'b', windowStartMs: 1 }) === 'a|b|1');
  } finally {
    await admin.disconnect();
  }
});
