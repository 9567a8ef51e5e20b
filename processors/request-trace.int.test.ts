/**
 * Following one request on the real stack (README "Following one request"): a synchronous OpenRTB
 * request with x-request-id and a W3C traceparent through edge -> enrich -> bid -> auction (real
 * processes, topics of this run's own). The answer carries the id; every record the request caused on
 * every topic carries the headers; a poison record in a hop is dead-lettered with its headers and the
 * hop's log line names its requestId; a request without the headers gets the edge's id and no
 * traceparent downstream. The pass-through runner checks both delivery modes with headers the pipeline
 * did not write (dropped) and records without any (none added).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, commonSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from './runtime/logger.js';
import { createKafka, type Producer } from './runtime/kafka.js';
import { readTopic, type RawRecord } from './runtime/read-topic.js';
import { spawnService, type ServiceProcess } from './testing/spawn-service.js';
import { headerValue } from './runtime/trace-context.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../schemas/topics.js';
import type { BidRequest } from '../schemas/bid-request.js';
import { campaignToRecord } from './domain/campaign-record.js';
import { makeCampaign, makeCreative } from './testing/campaign.fixture.js';
import { encodeProfile } from './domain/profile-format.js';
import { profileKey } from './domain/redis-keys.js';
import { waitFor } from './testing/wait.js';
import { createTopics } from './testing/topics.fixture.js';
import { createDecisionTopics, decisionTopics, ortbRequest, processorEnv } from './testing/decision-pipeline.fixture.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'request-trace-test', log: createLogger('test', 'silent') });
const redis = new Redis(cfg.redisUrl);
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = decisionTopics('rt', run);
const created: string[] = [...Object.values(T)];
const procs: ServiceProcess[] = [];
let producer: Producer;
let edge: ServiceProcess;
let enrichProc: ServiceProcess;

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const ortb = (over: Record<string, unknown> = {}) => ortbRequest(`rt-user-${run}`, 5000, over);

before(async () => {
  await createDecisionTopics(kafka, codec, T);
  producer = kafka.producer({ 'linger.ms': 2 });
  await producer.connect();
  await redis.set(profileKey(`rt-user-${run}`), encodeProfile({ interests: { [`trace-${run}`]: 90 }, segments: [], engagement: 50 }));
  const campaign = makeCampaign({
    id: `cmp-${run}`, bidCpmMicros: 2_500_000, pacing: 'asap', updatedAtMs: 1,
    targeting: { interest: [`trace-${run}`], country: ['USA'] },
    creatives: [makeCreative({ id: `cr-${run}`, width: 300, height: 250 })],
  });
  await producer.send({ topic: T.camps, messages: [{ key: campaign.id, value: codec.encode(subjectFor(T.camps), campaignToRecord(campaign)) }] });
  enrichProc = await spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'enrich'), ENRICH_INPUT: T.req, ENRICH_OUTPUT: T.enr });
  procs.push(enrichProc);
  procs.push(await spawnService('processors/bid/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'bid'), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps }, 60_000));
  procs.push(await spawnService('processors/auction/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'auction'), AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out }));
  edge = await spawnService('ingest/main.ts', 'INGEST_PORT', { INGEST_HOST: '127.0.0.1', INGEST_TOPIC: T.req, INGEST_OUTCOMES_TOPIC: T.out, INGEST_OPENRTB_MODE: 'sync', TOPIC_PARTITIONS: '4', INGEST_MAX_TMAX_MS: '20000', INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'), RTB_DEV_MODE: '1' });
  procs.push(edge);
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await producer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();
  redis.disconnect();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${edge.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The request id of each record: the BidRequest's `id`, the BidSet's and the outcome's `requestId`. */
async function requestIdOf(r: RawRecord): Promise<string | undefined> {
  try {
    const v = await codec.decode<{ id?: string; requestId?: string }>(r.value as Buffer);
    return v.requestId ?? v.id;
  } catch {
    return undefined; // the poison records of the last tests
  }
}

/** The records of `topic` that belong to OpenRTB request `id` (read until at least one is there). */
async function recordsOf(topic: string, id: string, timeoutMs = 30_000): Promise<RawRecord[]> {
  return waitFor(async () => {
    const mine: RawRecord[] = [];
    for (const r of await readTopic(kafka, topic, { timeoutMs: 20_000, idleMs: 1000 })) if ((await requestIdOf(r)) === id) mine.push(r);
    return mine;
  }, { until: (mine) => mine.length > 0, atDeadline: 'last', what: `records of ${id} on ${topic}`, timeoutMs, intervalMs: 500 });
}

/** Waits until a JSON log line of `proc` satisfies `match`; returns it. */
async function logLine(proc: ServiceProcess, match: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown> | undefined> {
  return waitFor(() => {
    for (const text of proc.output().split('\n')) {
      if (!text.startsWith('{')) continue;
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (match(line)) return line;
      } catch {
        // a partial line: read again later
      }
    }
    return undefined;
  }, { atDeadline: 'last', what: 'the log line', timeoutMs, intervalMs: 200 });
}

test('following one request: x-request-id and traceparent are answered and carried on every topic the request crossed', async () => {
  const body = ortb({ tmax: 20_000 });
  const requestId = `exch-${run}-1`;
  const res = await post('/openrtb2/bid', body, { 'x-request-id': requestId, traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7' });
  assert.equal(res.status, 200, await res.clone().text());
  await res.arrayBuffer();
  assert.equal(res.headers.get('x-request-id'), requestId, 'the answer carries the exchange id');
  for (const topic of [T.req, T.enr, T.bids, T.out]) {
    const records = await recordsOf(topic, body.id);
    assert.ok(records.length >= 1, `${topic}: the request's record`);
    for (const r of records) {
      assert.equal(headerValue(r.headers, 'x-request-id'), requestId, `${topic}: x-request-id`);
      assert.equal(headerValue(r.headers, 'traceparent'), TRACEPARENT, `${topic}: traceparent`);
      assert.equal(headerValue(r.headers, 'tracestate'), 'rojo=00f067aa0ba902b7', `${topic}: tracestate`);
    }
  }
});

test('following one request: without the headers the OpenRTB id is the request id and no traceparent travels; invalid ones are ignored', async () => {
  const cases: Array<Record<string, string>> = [{}, { 'x-request-id': 'has spaces in it', traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }];
  for (const headers of cases) {
    const body = ortb();
    const res = await post('/openrtb2/bid', body, headers);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), body.id, 'the edge takes the OpenRTB id');
    for (const topic of [T.req, T.enr, T.bids, T.out]) {
      const records = await recordsOf(topic, body.id);
      assert.ok(records.length >= 1, `${topic}: the request's record`);
      for (const r of records) {
        assert.equal(headerValue(r.headers, 'x-request-id'), body.id, `${topic}: x-request-id`);
        assert.equal(headerValue(r.headers, 'traceparent'), undefined, `${topic}: no traceparent`);
        assert.equal(headerValue(r.headers, 'tracestate'), undefined, `${topic}: no tracestate`);
      }
    }
  }
});

test('following one request: every answer of the bid routes carries x-request-id, generated when the request brings none', async () => {
  const bad = await post('/openrtb2/bid', '{not json');
  await bad.arrayBuffer();
  assert.equal(bad.status, 400);
  assert.match(bad.headers.get('x-request-id') ?? '', UUID, 'no usable id: the edge generates one');
  const badWithId = await post('/openrtb2/bid', '{not json', { 'x-request-id': `exch-${run}-bad` });
  await badWithId.arrayBuffer();
  assert.equal(badWithId.headers.get('x-request-id'), `exch-${run}-bad`);
  const unsupported = await post('/openrtb2/bid', ortb(), { 'content-type': 'text/plain', 'x-request-id': `exch-${run}-415` });
  await unsupported.arrayBuffer();
  assert.equal(unsupported.status, 415);
  assert.equal(unsupported.headers.get('x-request-id'), `exch-${run}-415`);
  const get = await fetch(`${edge.url}/openrtb2/bid`);
  await get.arrayBuffer();
  assert.equal(get.status, 405);
  assert.match(get.headers.get('x-request-id') ?? '', UUID);
  const noBid = await post('/openrtb2/bid', ortb({ device: { ip: '192.0.2.1', devicetype: 2, geo: { country: 'FRA' } } }), { 'x-request-id': `exch-${run}-204` });
  await noBid.arrayBuffer();
  assert.equal(noBid.status, 204);
  assert.equal(noBid.headers.get('x-request-id'), `exch-${run}-204`);
  const simple = await post('/bid', { request_id: `simple-${run}`, user_id: 'u1', site: { domain: 'example.com' }, device: { ip: '192.0.2.1' } });
  await simple.arrayBuffer();
  assert.equal(simple.status, 202);
  assert.equal(simple.headers.get('x-request-id'), `simple-${run}`, 'the simple format: its request_id');
});

test('following one request: a poison record in a hop is dead-lettered with its headers, and the hop logs its requestId', async () => {
  const requestId = `poison-${run}`;
  await producer.send({
    topic: T.req,
    messages: [{ key: 'poison', value: Buffer.from('not avro at all'), headers: { 'x-request-id': requestId, traceparent: TRACEPARENT } }],
  });
  const letter = await waitFor(async () => (await readTopic(kafka, TOPICS.deadLetters, { timeoutMs: 30_000, idleMs: 1000 })).find((r) => r.key?.toString() === `enrich-${run}` && headerValue(r.headers, 'x-request-id') === requestId), {
    atDeadline: 'last', what: 'the dead letter', timeoutMs: 30_000, intervalMs: 500,
  });
  assert.ok(letter, 'the dead letter carries the x-request-id');
  assert.equal(headerValue(letter.headers, 'traceparent'), TRACEPARENT);
  const dl = await codec.decode<{ topic: string; errorCode: string; value: Buffer }>(letter.value as Buffer);
  assert.equal(dl.topic, T.req);
  assert.equal(dl.errorCode, 'DECODE_FAILED');
  const line = await logLine(enrichProc, (l) => l.msg === 'record dead-lettered' && l.requestId === requestId);
  assert.ok(line, `enrich's log line names the requestId:\n${enrichProc.output()}`);
  assert.equal(line.traceId, TRACE_ID);
});

/** Both delivery modes of the runner, through the pass-through processor. */
for (const delivery of ['exactly-once', 'at-least-once'] as const) {
  test(`following one request (runner, ${delivery}): outputs and dead letters carry the input's trace headers, only those, and none when it had none`, async () => {
    const input = `rt-pt-in-${run}-${delivery}`;
    const output = `rt-pt-out-${run}-${delivery}`;
    await createTopics(kafka, created, [input, output], 2);
    await codec.register(subjectFor(input), loadSchema('bid-request.avsc'));
    const name = `rt-pt-${run}-${delivery === 'exactly-once' ? 'eo' : 'alo'}`;
    const pt = await spawnService('processors/passthrough/main.ts', 'PROCESSOR_HTTP_PORT', {
      PASSTHROUGH_NAME: name, PASSTHROUGH_INPUT: input, PASSTHROUGH_OUTPUT: output, PASSTHROUGH_DELIVERY: delivery, PROCESSOR_INSTANCE_ID: 'a',
    });
    procs.push(pt);
    const traced = `${name}-traced`;
    const plain = `${name}-plain`;
    await producer.send({
      topic: input,
      messages: [
        { key: traced, value: codec.encode(subjectFor(input), request(traced)), headers: { 'x-request-id': `rid-${traced}`, traceparent: TRACEPARENT, 'x-other': 'not ours' } },
        { key: plain, value: codec.encode(subjectFor(input), request(plain)) },
        { key: 'poison', value: Buffer.from('not avro'), headers: { 'x-request-id': `rid-${name}-poison` } },
      ],
    });
    const byId = new Map<string, RawRecord>();
    await waitFor(async () => {
      for (const r of await readTopic(kafka, output, { timeoutMs: 20_000, idleMs: 1000 })) byId.set((await requestIdOf(r))!, r);
      return byId.size;
    }, { until: (n) => n >= 2, atDeadline: 'last', what: 'the two records on the output', timeoutMs: 60_000, intervalMs: 500 });
    const t = byId.get(traced);
    assert.ok(t, 'the traced record came through');
    assert.equal(headerValue(t.headers, 'x-request-id'), `rid-${traced}`);
    assert.equal(headerValue(t.headers, 'traceparent'), TRACEPARENT);
    assert.equal(headerValue(t.headers, 'x-other'), undefined, 'headers the pipeline did not write are not copied');
    const p = byId.get(plain);
    assert.ok(p, 'the plain record came through');
    assert.equal(p.headers, undefined, 'no headers added to a record that had none');
    let letter: RawRecord | undefined;
    for (let i = 0; i < 30 && !letter; i++) {
      letter = (await readTopic(kafka, TOPICS.deadLetters, { timeoutMs: 30_000, idleMs: 1000 })).find((r) => r.key?.toString() === name);
      if (!letter) await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(letter, 'the poison record was dead-lettered');
    assert.equal(headerValue(letter.headers, 'x-request-id'), `rid-${name}-poison`);
    const line = await logLine(pt, (l) => l.msg === 'record dead-lettered' && l.requestId === `rid-${name}-poison`);
    assert.ok(line, `the runner's log line names the requestId:\n${pt.output()}`);
    await pt.stop();
  });
}

function request(id: string): BidRequest {
  return {
    id, imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 100_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: null, app: null, device: null, user: { id: `u-${id}`, buyeruid: null, segments: [], interests: [], ext: null },
    tmax: null, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null, receivedAtMs: Date.now(), ingestNodeId: 't', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'NOT_ATTEMPTED', profile: null,
  };
}
