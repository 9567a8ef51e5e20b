/**
 * Exchanges as principals, against the real stack (issue 11.1): the edge refuses to start without an
 * exchange (outside RTB_DEV_MODE) or with a bad entry, in one line naming the field; it authenticates each
 * bid request by its exchange's key (401 otherwise), limits each exchange (not each presented key) and
 * bounds key guessing per IP; and two exchanges sending the same request id are two requests all the way
 * down: each gets its own synchronous answer and its own budget reservation (edge, enrich, bid and
 * auction as real processes on topics of this run's own).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { spawnEdge, type EdgeProcess } from '../processors/testing/spawn-edge.js';
import { hashKey } from './exchanges.js';
import { loadConfig, commonSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics, type Producer } from '../processors/runtime/kafka.js';
import { readTopic } from '../processors/runtime/read-topic.js';
import { spawnService, type ServiceProcess } from '../processors/testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { BidRequest } from '../schemas/bid-request.js';
import { requestKey } from '../schemas/request-key.js';
import { campaignToRecord } from '../processors/domain/campaign-record.js';
import { makeCampaign, makeCreative } from '../processors/testing/campaign.fixture.js';
import { parsePendingMember } from '../processors/domain/pending-reservation.js';
import { pendingKey, reservationKey, spendLifetimeKey } from '../processors/domain/redis-keys.js';
import { waitFor } from '../processors/testing/wait.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'exchanges-test', log: createLogger('test', 'silent') });
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = { req: `exch-req-${run}`, preq: `exch-preq-${run}`, enr: `exch-enr-${run}`, bids: `exch-bids-${run}`, out: `exch-out-${run}`, camps: `exch-camps-${run}`, tracking: `exch-tracking-${run}` };
const dir = mkdtempSync(path.join(tmpdir(), 'rtb-exchanges-'));
const procs: Array<EdgeProcess | ServiceProcess> = [];
const key = (): string => randomBytes(24).toString('base64url');
const KEYS = { a1: key(), a2: key(), b: key() };

before(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    ...[T.req, T.preq, T.enr, T.bids, T.out, T.tracking].map((topic) => ({ topic, numPartitions: 2, replicationFactor: 1 })),
    { topic: T.camps, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  await admin.disconnect();
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const ortb = (over: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }],
  site: { domain: 'news.example.com' },
  device: { ip: '192.0.2.1', devicetype: 2, geo: { country: 'USA' } },
  user: { id: `exch-user-${run}` },
  tmax: 150,
  ...over,
});

async function post(url: string, body: unknown, apiKey?: string) {
  const res = await fetch(`${url}/openrtb2/bid`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(apiKey === undefined ? {} : { 'x-api-key': apiKey }) }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** The edge's start-up failure: spawnService rejects with the output of a child that exited before ready. */
async function startFailure(env: Record<string, string>): Promise<string> {
  try {
    const edge = await spawnEdge({ INGEST_TOPIC: T.req, INGEST_TRACKING_TOPIC: T.tracking, ...env });
    procs.push(edge);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the edge started');
}

test('exchanges: the edge refuses to start without an exchange (outside RTB_DEV_MODE) or with a bad one, in one line naming the field', async () => {
  const none = await startFailure({ RTB_DEV_MODE: '0' });
  assert.match(none, /exited with code 1/);
  const lines = none.split('\n').filter((l) => l.includes('no exchange is configured'));
  assert.equal(lines.length, 1, none);
  assert.match(lines[0]!, /set INGEST_EXCHANGES_FILE \(or INGEST_EXCHANGES\)/);

  const file = path.join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ exchanges: [{ id: 'exa', keyHashes: [hashKey(KEYS.a1)] }, { id: 'exb', keyHashes: ['not-a-hash'] }] }));
  const bad = await startFailure({ RTB_DEV_MODE: '0', INGEST_EXCHANGES_FILE: file });
  const named = bad.split('\n').filter((l) => l.includes('exchanges[1].keyHashes[0] must be 64 hex characters'));
  assert.equal(named.length, 1, bad);
  assert.ok(named[0]!.includes(file), 'the line names the file');

  // A configured exchange is enforced even in development mode; development mode alone accepts keyless requests as `dev`, and says so.
  const dev = await spawnEdge({ INGEST_TOPIC: T.req, INGEST_TRACKING_TOPIC: T.tracking });
  procs.push(dev);
  assert.match(dev.output(), /RTB_DEV_MODE=1 and no exchange configured: bid requests are accepted WITHOUT an API key, as exchange \\"dev\\"/);
  assert.equal((await post(dev.url, ortb())).status, 202);
  await dev.stop();
});

test('exchanges: each request is authenticated by its exchange key, limited per exchange (not per presented key), and key guessing is bounded per IP', async () => {
  const file = path.join(dir, 'exchanges.json');
  // Two keys for exa (a rotation), stored as hashes; exb's key inline in the environment.
  writeFileSync(file, JSON.stringify({ exchanges: [{ id: 'exa', keyHashes: [hashKey(KEYS.a1), hashKey(KEYS.a2)], rateLimit: { rps: 1, burst: 3 } }] }));
  const edge = await spawnEdge({
    INGEST_TOPIC: T.req, INGEST_TRACKING_TOPIC: T.tracking, RTB_DEV_MODE: '0', INGEST_EXCHANGES_FILE: file,
    INGEST_EXCHANGES: JSON.stringify([{ id: 'exb', keys: [KEYS.b] }]), INGEST_AUTH_FAILURE_RPS: '1', INGEST_AUTH_FAILURE_BURST: '6',
  });
  procs.push(edge);

  const missing = await post(edge.url, ortb());
  assert.equal(missing.status, 401);
  assert.equal(missing.json?.error, 'unauthorized');
  assert.equal(missing.headers.get('content-type'), 'application/json');
  assert.equal((await post(edge.url, ortb(), 'not-a-key-of-anyone-0123')).status, 401);

  // exa's bucket is exa's, whichever of its keys a request presents; exb is not affected by it.
  const exaIds = [randomUUID(), randomUUID(), randomUUID()];
  const burstStarted = Date.now();
  const statuses: number[] = [];
  let limited: Awaited<ReturnType<typeof post>> | null = null;
  for (let i = 0; i < 8 && limited === null; i++) {
    const r = await post(edge.url, ortb(i < exaIds.length ? { id: exaIds[i] } : {}), i % 2 === 0 ? KEYS.a1 : KEYS.a2);
    statuses.push(r.status);
    if (r.status === 429) limited = r;
  }
  const elapsed = (Date.now() - burstStarted) / 1000;
  assert.deepEqual(statuses.slice(0, 3), [202, 202, 202], 'the burst of 3');
  assert.ok(limited, `limited after the burst, though the keys alternate: ${statuses.join(',')}`);
  assert.ok(statuses.filter((x) => x === 202).length <= 3 + Math.ceil(elapsed), `${statuses.join(',')} in ${elapsed} s at 1/s`);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  const exbId = randomUUID();
  assert.equal((await post(edge.url, ortb({ id: exbId }), KEYS.b)).status, 202);

  // A random key per request used to get a fresh bucket each; now every guess is a failed key check of
  // this IP, and after the bucket of failures (6, 2 already spent) the IP is refused before its key is checked.
  const started = Date.now();
  const guesses: number[] = [];
  for (let i = 0; i < 40; i++) guesses.push((await post(edge.url, ortb(), key())).status);
  const seconds = (Date.now() - started) / 1000;
  assert.ok(guesses.every((s) => s === 401 || s === 429), `a guess is never accepted: ${guesses.join(',')}`);
  const checked = guesses.filter((s) => s === 401).length;
  assert.ok(checked <= 4 + Math.ceil(seconds) + 1, `${checked} guesses were checked in ${seconds.toFixed(1)} s: at most the burst left plus 1/s`);
  assert.equal((await post(edge.url, ortb(), KEYS.b)).status, 429, 'while the IP is refused, even a good key is not checked');
  // It recovers at INGEST_AUTH_FAILURE_RPS.
  const status = await waitFor(async () => (await post(edge.url, ortb(), KEYS.b)).status, {
    until: (s) => s === 202, atDeadline: 'last', what: 'the good key to be accepted again', timeoutMs: 15_000, intervalMs: 250,
  });
  assert.equal(status, 202, 'the good key is accepted again once the IP has tokens');

  // The records name their exchange.
  const records = await readTopic(kafka, T.req, { timeoutMs: 20_000 });
  const byId = new Map<string, BidRequest>();
  for (const r of records) {
    const v = await codec.decode<BidRequest>(r.value as Buffer);
    byId.set(v.id, v);
  }
  for (const id of exaIds) assert.equal(byId.get(id)?.exchange, 'exa', id);
  assert.equal(byId.get(exbId)?.exchange, 'exb');
  await edge.stop();
});

test('exchanges: the same request id from two exchanges gets two synchronous answers and two budget reservations', async () => {
  const redis = new Redis(cfg.redisUrl);
  let producer: Producer | null = null;
  try {
    const campaign = makeCampaign({
      id: `cmp-exch-${run}`, advertiserId: `adv-exch-${run}`, bidCpmMicros: 2_500_000, pacing: 'asap', updatedAtMs: 1, targeting: { country: ['USA'] },
      creatives: [makeCreative({ id: `cr-exch-${run}`, width: 300, height: 250 })],
    });
    await codec.register(subjectFor(T.camps), loadSchema('campaign.avsc'));
    producer = kafka.producer({ 'linger.ms': 2 });
    await producer.connect();
    await producer.send({ topic: T.camps, messages: [{ key: campaign.id, value: codec.encode(subjectFor(T.camps), campaignToRecord(campaign)) }] });

    const proc = (name: string): Record<string, string> => ({ PROCESSOR_INSTANCE_ID: 'a', TOPIC_PARTITIONS: '2', [`${name.toUpperCase()}_NAME`]: `${name}-exch-${run}` });
    procs.push(
      await spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', { ...proc('enrich'), ENRICH_INPUT: T.preq, ENRICH_OUTPUT: T.enr }, 60_000),
      await spawnService('processors/bid/main.ts', 'PROCESSOR_HTTP_PORT', { ...proc('bid'), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps }, 60_000),
      await spawnService('processors/auction/main.ts', 'PROCESSOR_HTTP_PORT', { ...proc('auction'), AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out }, 60_000),
    );
    // A request topic of its own: the requests of the tests above must not reach this auction.
    const edge = await spawnEdge({
      INGEST_TOPIC: T.preq, INGEST_OUTCOMES_TOPIC: T.out, INGEST_TRACKING_TOPIC: T.tracking, INGEST_OPENRTB_MODE: 'sync', TOPIC_PARTITIONS: '2',
      INGEST_MAX_TMAX_MS: '20000', RTB_DEV_MODE: '0',
      INGEST_EXCHANGES: JSON.stringify({ exchanges: [{ id: 'exa', keys: [KEYS.a1], seat: 'seat-at-exa' }, { id: 'exb', keys: [KEYS.b] }] }),
    }, 60_000);
    procs.push(edge);

    // The first request warms every stage up: a generous tmax. (It was once answered 204 at its deadline in
    // CI: the edge's outcome listener was ready before its start position was known; ingest/outcome-listener.ts.)
    const warmIds = [`warm-${run}-1`];
    const warm = await post(edge.url, ortb({ id: warmIds[0], tmax: 20_000 }), KEYS.a1);
    assert.equal(warm.status, 200, `warm-up: ${JSON.stringify(warm.json)}`);

    type Answer = { id: string; seatbid: Array<{ seat: string; bid: Array<{ cid: string; price: number }> }> };
    const id = `same-${run}`;
    const [a, b] = await Promise.all([post(edge.url, ortb({ id, tmax: 20_000 }), KEYS.a1), post(edge.url, ortb({ id, tmax: 20_000 }), KEYS.b)]);
    assert.equal(a.status, 200, 'exa is answered with its bid (its wait was not replaced by exb\'s)');
    assert.equal(b.status, 200, 'exb is answered with its bid');
    const [ja, jb] = [a.json as unknown as Answer, b.json as unknown as Answer];
    assert.equal(ja.id, id);
    assert.equal(jb.id, id, 'each answer carries the exchange\'s own request id');
    assert.equal(ja.seatbid[0]?.seat, 'seat-at-exa', 'exa\'s configured seat');
    assert.equal(jb.seatbid[0]?.seat, campaign.advertiserId, 'without a seat: per advertiser');
    assert.equal(ja.seatbid[0]?.bid[0]?.cid, campaign.id);
    assert.equal(jb.seatbid[0]?.bid[0]?.cid, campaign.id);

    // Two reservations, one per exchange, each counted in the campaign's spend (with one reservation per
    // request id the second win was taken for a repeat of the first and not counted: spend below the wins' cost).
    const priced = [a, b].map((r) => Math.floor(((r.json as unknown as Answer).seatbid[0]!.bid[0]!.price * 1_000_000) / 1000));
    const spent = Number(await redis.get(spendLifetimeKey(campaign.id)));
    const members = (await redis.zrange(pendingKey(campaign.id), 0, -1)).map((m) => parsePendingMember(m)!);
    assert.equal(members.reduce((sum, m) => sum + m.costMicros, 0), spent, 'the spend is the sum of the pending reservations');
    const isWarm = (m: { requestId: string }) => warmIds.some((w) => m.requestId === requestKey('exa', w));
    const requests = members.filter((m) => !isWarm(m));
    assert.equal(requests.length, 2, 'the two requests are two pending reservations (besides the warm-up\'s)');
    assert.equal(requests.reduce((sum, m) => sum + m.costMicros, 0), priced[0]! + priced[1]!, 'both answered wins of the same id are counted in the spend');
    assert.equal(members.filter(isWarm).length >= 1, true, 'the answered warm-up reserved too');
    const mine = members.filter((m) => m.requestId.endsWith(`:${id}`)).map((m) => m.requestId).sort();
    assert.deepEqual(mine, [requestKey('exa', id), requestKey('exb', id)], 'keyed by exchange and id');
    for (const ex of ['exa', 'exb']) assert.ok(await redis.exists(reservationKey(campaign.id, requestKey(ex, id), '1')), `${ex}'s reservation`);
  } finally {
    await producer?.disconnect();
    redis.disconnect();
  }
});
