/**
 * The decision pipeline end to end on the real stack: edge (synchronous OpenRTB) -> enrich -> bid ->
 * auction -> edge, each a real process on topics of this run's own. Also: a campaign change reaches
 * bidding without a restart; two auction instances never overspend small budgets; SIGKILLed
 * processors under load lose no outcome.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, commonSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from './runtime/logger.js';
import { createKafka, type Producer } from './runtime/kafka.js';
import { readTopic } from './runtime/read-topic.js';
import { spawnService, type ServiceProcess } from './testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import type { BidSet, BidRecord } from '../schemas/bid-set.js';
import { campaignToRecord } from './domain/campaign-record.js';
import { makeCampaign, makeCreative } from './testing/campaign.fixture.js';
import type { Campaign } from './domain/campaign.js';
import { encodeProfile } from './domain/profile-format.js';
import { profileKey, spendDayKey, spendLifetimeKey } from './domain/redis-keys.js';
import { grants, verifyToken } from '../ingest/tracking-token.js';
import { waitFor } from './testing/wait.js';
import { createTopics } from './testing/topics.fixture.js';
import { createDecisionTopics, decisionTopics, ortbRequest, processorEnv } from './testing/decision-pipeline.fixture.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'pipeline-test', log: createLogger('test', 'silent') });
const redis = new Redis(cfg.redisUrl);
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = decisionTopics('e2e', run);
const procs: ServiceProcess[] = [];
/** The edge refuses to start without a tracking secret of its own (issue 11). */
const trackingSecret = randomBytes(32).toString('base64');
const extraTopics: string[] = [];
let producer: Producer;

const startEnrich = (i = 'a') => spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'enrich', i), ENRICH_INPUT: T.req, ENRICH_OUTPUT: T.enr });
const startBid = (i = 'a') => spawnService('processors/bid/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'bid', i), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps }, 60_000);
const startAuction = (i = 'a', input = T.bids, output = T.out, name = `auction-${run}`) =>
  spawnService('processors/auction/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'auction', i), AUCTION_INPUT: input, AUCTION_OUTPUT: output, AUCTION_NAME: name });

async function publishCampaign(c: Campaign): Promise<void> {
  await producer.send({ topic: T.camps, messages: [{ key: c.id, value: codec.encode(subjectFor(T.camps), campaignToRecord(c)) }] });
}

const ortb = (over: Record<string, unknown> = {}) => ortbRequest(`e2e-user-${run}`, 3000, over);

before(async () => {
  await createDecisionTopics(kafka, codec, T);
  await codec.register(subjectFor(T.bids), loadSchema('bid-set.avsc'));
  producer = kafka.producer({ 'linger.ms': 2 });
  await producer.connect();
  await redis.set(profileKey(`e2e-user-${run}`), encodeProfile({ interests: { [`sports-${run}`]: 90 }, segments: [], engagement: 50 }));
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [...Object.values(T), ...extraTopics] }).catch(() => undefined);
  await admin.disconnect();
  redis.disconnect();
});

test('pipeline answers an OpenRTB request synchronously with the winning campaign, and 204 when nothing matches', async () => {
  const campaign = makeCampaign({
    id: `cmp-${run}-a`, bidCpmMicros: 2_500_000, pacing: 'asap', updatedAtMs: 1,
    targeting: { interest: [`sports-${run}`], country: ['USA'] },
    creatives: [makeCreative({ id: `cr-${run}`, width: 300, height: 250, landingUrl: 'https://brand.example.com/e2e' })],
  });
  await publishCampaign(campaign);
  procs.push(await startEnrich(), await startBid(), await startAuction());
  const edge = await spawnService('ingest/main.ts', 'INGEST_PORT', { INGEST_HOST: '127.0.0.1', INGEST_TOPIC: T.req, INGEST_OUTCOMES_TOPIC: T.out, INGEST_OPENRTB_MODE: 'sync', TOPIC_PARTITIONS: '4', INGEST_MAX_TMAX_MS: '20000', INGEST_TRACKING_SECRET: trackingSecret, RTB_DEV_MODE: '1' });
  procs.push(edge);
  const post = (body: unknown) => fetch(`${edge.url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  // The first request also warms every stage up; allow it a generous tmax.
  const res = await post(ortb({ tmax: 20_000 }));
  assert.equal(res.status, 200);
  const body = (await res.json()) as { id: string; seatbid: Array<{ seat: string; bid: Array<{ impid: string; price: number; crid: string; cid: string; adm: string; w: number; h: number }> }> };
  const bid = body.seatbid[0]?.bid[0];
  assert.equal(bid?.cid, campaign.id);
  assert.equal(bid?.crid, `cr-${run}`);
  assert.equal(bid?.impid, '1');
  assert.equal(bid?.price, 0.5, 'a single bid clears at the floor');
  // The markup links through the edge's click notice, whose signed token carries the landing URL.
  const click = new URL(/href="([^"]+)"/.exec(bid?.adm ?? '')?.[1] ?? 'http://missing');
  const token = verifyToken(click.searchParams.get('t'), trackingSecret, Date.now());
  assert.equal(token.ok && token.claims.landingUrl, 'https://brand.example.com/e2e');
  assert.ok(token.ok && !grants(token, 'bill'), 'the markup\'s token cannot report billing');

  const miss = await post(ortb({ device: { ip: '192.0.2.1', devicetype: 2, geo: { country: 'FRA' } }, tmax: 3000 }));
  assert.equal(miss.status, 204, 'no campaign targets France');

  // A campaign change reaches the bidder without a restart.
  await publishCampaign({ ...campaign, status: 'paused', updatedAtMs: 2 });
  let status = 200;
  for (let i = 0; i < 40 && status === 200; i++) {
    status = (await post(ortb())).status;
    if (status === 200) await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(status, 204, 'paused campaign stops bidding within seconds');
});

test('pipeline: two auction instances never overspend small budgets; spend equals the sum of win costs', async () => {
  const input = `e2e-budget-bids-${run}`;
  const output = `e2e-budget-out-${run}`;
  await createTopics(kafka, extraTopics, [input, output], 4);
  await codec.register(subjectFor(input), loadSchema('bid-set.avsc'));
  const budgets = { [`bud-${run}-1`]: 50_000, [`bud-${run}-2`]: 80_000, [`bud-${run}-3`]: 1_000_000_000 };
  const rec = (campaignId: string, price: number): BidRecord => ({
    impId: '1', campaignId, advertiserId: 'adv', creativeId: `${campaignId}-cr`, priceMicros: price, adomain: [], w: 300, h: 250,
    dailyBudgetMicros: budgets[campaignId]!, lifetimeBudgetMicros: budgets[campaignId]!, frequencyCap: 0, dayKey: '2026-11-22',
    dayEndsAtMs: Date.now() + 86_400_000, title: '', imageUrl: '', landingUrl: '',
  });
  const ids = Array.from({ length: 600 }, () => randomUUID());
  const sets: BidSet[] = ids.map((id, i) => ({
    requestId: id, userId: `u${i % 50}`, at: 2, tmax: null, test: false, receivedAtMs: Date.now(), decidedAtMs: Date.now(),
    imps: [{ impId: '1', floorMicros: 100_000 }],
    bids: [rec(`bud-${run}-1`, 4_000_000 + (i % 7) * 1000), rec(`bud-${run}-2`, 3_000_000 + (i % 5) * 1000), rec(`bud-${run}-3`, 1_000_000)],
    noBidReason: null,
  }));
  const a = await startAuction('a', input, output, `auction-budget-${run}`);
  const b = await startAuction('b', input, output, `auction-budget-${run}`);
  procs.push(a, b);
  for (let i = 0; i < sets.length; i += 100) {
    await producer.send({ topic: input, messages: sets.slice(i, i + 100).map((s) => ({ key: s.requestId, value: codec.encode(subjectFor(input), s) })) });
  }
  const { byId: outcomes, copies } = await waitForOutcomes(output, ids, 90_000);
  // The second instance joining moves partitions: what the first had not committed is decided again, the same way.
  for (const [id, list] of copies) for (const o of list) assert.deepEqual(o.wins, outcomes.get(id)!.wins, `${id}: a re-emitted outcome repeats the decision`);
  const costs = new Map<string, number>();
  for (const o of outcomes.values()) for (const w of o.wins) costs.set(w.campaignId, (costs.get(w.campaignId) ?? 0) + w.costMicros);
  for (const [campaignId, budget] of Object.entries(budgets)) {
    const spent = Number((await redis.get(spendDayKey(campaignId, '2026-11-22'))) ?? 0);
    assert.ok(spent <= budget, `${campaignId} spent ${spent} of ${budget}`);
    assert.equal(spent, costs.get(campaignId) ?? 0, `${campaignId}: reserved spend equals the cost of its wins`);
    assert.equal(Number((await redis.get(spendLifetimeKey(campaignId))) ?? 0), spent);
  }
  assert.ok((costs.get(`bud-${run}-1`) ?? 0) > 50_000 - 4_100, 'the small budget was used up, not stranded');
  assert.ok((costs.get(`bud-${run}-3`) ?? 0) > 0, 'the fallback bidder won once the others ran dry');
});

/**
 * Reads outcomes until every id in `ids` has one. The auction is at-least-once: a copy re-emitted after
 * a kill or a rebalance is returned apart (`copies`), the first by offset in `byId` (the one the
 * aggregate counts and the edge answers with).
 */
async function waitForOutcomes(topic: string, ids: readonly string[], timeoutMs: number): Promise<{ byId: Map<string, AuctionOutcome>; copies: Map<string, AuctionOutcome[]> }> {
  return waitFor(async () => {
    const records = (await readTopic(kafka, topic, { timeoutMs: 30_000, idleMs: 1500 })).sort((a, b) => Number(a.offset) - Number(b.offset));
    const byId = new Map<string, AuctionOutcome>();
    const copies = new Map<string, AuctionOutcome[]>();
    for (const r of records) {
      const o = await codec.decode<AuctionOutcome>(r.value as Buffer);
      if (byId.has(o.requestId)) copies.set(o.requestId, [...(copies.get(o.requestId) ?? []), o]);
      else byId.set(o.requestId, o);
    }
    return { byId, copies };
  }, { until: ({ byId }) => ids.every((id) => byId.has(id)), atDeadline: 'last', what: `outcomes of ${ids.length} requests`, timeoutMs, intervalMs: 1000 });
}

test('pipeline: SIGKILL of enrich, bid and auction under load loses no outcome (copies are counted once downstream: decision-kill.int.test.ts)', async () => {
  const ids = Array.from({ length: 3000 }, () => randomUUID());
  await codec.register(subjectFor(T.req), loadSchema('bid-request.avsc'));
  const sender = (async () => {
    for (let i = 0; i < ids.length; i += 100) {
      await producer.send({
        topic: T.req,
        messages: ids.slice(i, i + 100).map((id, j) => ({
          key: `u${j}`,
          value: codec.encode(subjectFor(T.req), {
            id, imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 100_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
            site: { id: null, domain: 'news.example.com', page: null, cat: [], publisherId: null, ext: null }, app: null,
            device: { ua: null, ip: '192.0.2.1', devicetype: 2, os: null, geo: { country: 'USA', region: null, city: null, ext: null }, ext: null },
            user: { id: `u${j}`, buyeruid: null, segments: [], interests: [], ext: null }, tmax: null, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null,
            receivedAtMs: Date.now(), ingestNodeId: 't', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'NOT_ATTEMPTED', profile: null,
          }),
        })),
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  // The processors of the first test are running (instance 'a'); kill each mid-stream and restart it.
  const restart = [
    { find: 'enrich', start: () => startEnrich() },
    { find: 'bid/main', start: () => startBid() },
    { find: 'auction/main', start: () => startAuction() },
  ];
  for (const r of restart) {
    await new Promise((res) => setTimeout(res, 700));
    const i = procs.findIndex((p) => p.child.spawnargs.some((a) => a.includes(r.find)) && p.child.exitCode === null && p.child.signalCode === null);
    assert.ok(i >= 0, `a running ${r.find} process`);
    const exit = await procs[i]!.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    procs[i] = await r.start();
  }
  await sender;
  const { byId: outcomes } = await waitForOutcomes(T.out, ids, 120_000);
  const missing = ids.filter((id) => !outcomes.has(id));
  assert.equal(missing.length, 0, `${missing.length} of ${ids.length} requests have no outcome`);
});
