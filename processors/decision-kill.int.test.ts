/**
 * Issue 9's proof on the real stack: the decision hops (enrich, bid, auction) are at-least-once, the
 * accounting path exactly-once. Under synchronous OpenRTB load through the edge, each decision
 * processor is killed with SIGKILL and restarted in turn, while the aggregate and the sink write
 * window counts to a Postgres schema of this test's own. Then:
 *  - every request got exactly one answer (200 or 204), and every 200 names the winner the pipeline counted;
 *  - every request has an outcome, and Postgres counts each request once, however many copies the
 *    re-processing emitted, with wins and cost per campaign equal to the first copy of each outcome;
 *  - no campaign's reserved spend exceeds its budget, and the cost Postgres counts is within it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, commonSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from './runtime/logger.js';
import { createKafka, ensureTopics } from './runtime/kafka.js';
import { readTopic } from './runtime/read-topic.js';
import { waitDrained } from './runtime/group-lag.js';
import { spawnService, type ServiceProcess } from './testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import { campaignToRecord } from './domain/campaign-record.js';
import { makeCampaign, makeCreative } from './testing/campaign.fixture.js';
import { spendLifetimeKey } from './domain/redis-keys.js';
import { freshSchema } from './runtime/fresh-schema.js';
import { sinkDrained } from '../sink/offsets.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'decision-kill-test', log: createLogger('test', 'silent') });
const redis = new Redis(cfg.redisUrl);
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = {
  req: `dk-req-${run}`, enr: `dk-enr-${run}`, bids: `dk-bids-${run}`, out: `dk-out-${run}`, trk: `dk-trk-${run}`, wc: `dk-wc-${run}`, camps: `dk-camps-${run}`,
};
const procs: ServiceProcess[] = [];
const BUDGET = 120_000; // micros: about 50 wins at a ~2.3 USD CPM each
const campaigns = [1, 2, 3, 4].map((n) => makeCampaign({
  id: `dk-${run}-${n}`, advertiserId: `dk-adv-${n}`, bidCpmMicros: 2_000_000 + n * 100_000, dailyBudgetMicros: BUDGET, lifetimeBudgetMicros: BUDGET,
  pacing: 'asap', targeting: { country: ['USA'] }, updatedAtMs: 1,
  creatives: [makeCreative({ id: `dk-cr-${n}`, width: 300, height: 250 })],
}));

after(async () => {
  await Promise.all(procs.map((p) => p.stop('SIGKILL')));
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await admin.disconnect();
  redis.disconnect();
});

// Offsets committed every 60 s instead of every 100 ms, i.e. never within this test: each kill then
// re-processes everything its instance did, so copies are certain to be re-emitted and the
// de-duplication downstream is what is tested.
const env = (name: string): Record<string, string> => ({
  PROCESSOR_INSTANCE_ID: 'a', TOPIC_PARTITIONS: '4', PROCESSOR_MAX_BATCH: '100', PROCESSOR_COMMIT_INTERVAL_MS: '60000', [`${name.toUpperCase()}_NAME`]: `dk-${name}-${run}`,
});
const starters = {
  enrich: () => spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', { ...env('enrich'), ENRICH_INPUT: T.req, ENRICH_OUTPUT: T.enr }, 60_000),
  bid: () => spawnService('processors/bid/main.ts', 'PROCESSOR_HTTP_PORT', { ...env('bid'), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps }, 60_000),
  auction: () => spawnService('processors/auction/main.ts', 'PROCESSOR_HTTP_PORT', { ...env('auction'), AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out }, 60_000),
};

test('decision hops: SIGKILL of enrich, bid and auction under sync load: one answer each, counted once, budgets held', async (t) => {
  const pg = await freshSchema(t, 'dk');
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await ensureTopics(admin, [
    ...[T.req, T.enr, T.bids, T.out, T.trk, T.wc].map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })),
    { topic: T.camps, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  await codec.register(subjectFor(T.camps), loadSchema('campaign.avsc'));
  const producer = kafka.producer({ 'linger.ms': 2 });
  await producer.connect();
  await producer.send({ topic: T.camps, messages: campaigns.map((c) => ({ key: c.id, value: codec.encode(subjectFor(T.camps), campaignToRecord(c)) })) });
  await producer.disconnect();

  const running: Record<keyof typeof starters, ServiceProcess> = { enrich: await starters.enrich(), bid: await starters.bid(), auction: await starters.auction() };
  procs.push(...Object.values(running));
  procs.push(await spawnService('processors/aggregate/main.ts', 'PROCESSOR_HTTP_PORT', {
    ...env('aggregate'), AGGREGATE_OUTCOMES: T.out, AGGREGATE_TRACKING: T.trk, AGGREGATE_OUTPUT: T.wc,
  }, 60_000));
  procs.push(await spawnService('sink/main.ts', 'SINK_HTTP_PORT', { SINK_INPUT: T.wc, SINK_GROUP: `rtb-dk-sink-${run}`, POSTGRES_URL: pg.url }, 60_000));
  const edge = await spawnService('ingest/main.ts', 'INGEST_PORT', {
    INGEST_HOST: '127.0.0.1', INGEST_TOPIC: T.req, INGEST_OUTCOMES_TOPIC: T.out, INGEST_TRACKING_TOPIC: T.trk, INGEST_OPENRTB_MODE: 'sync', TOPIC_PARTITIONS: '4',
    INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'),
    RTB_DEV_MODE: '1', // no exchange configured: requests without a key are exchange `dev`
  }, 60_000);
  procs.push(edge);

  // Synchronous load: ~60 requests/s, each answered within its tmax (400 ms), while each decision hop is killed in turn.
  const answers = new Map<string, number[]>();
  const winnersAnswered = new Map<string, string>();
  const failures: string[] = [];
  const inflight = new Set<Promise<void>>();
  const send = (): void => {
    const id = randomUUID();
    answers.set(id, []);
    const p = fetch(`${edge.url}/openrtb2/bid`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000),
      body: JSON.stringify({ id, imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }], site: { domain: 'news.example.com' }, device: { ip: '192.0.2.7', geo: { country: 'USA' } }, user: { id: `dk-u-${answers.size % 97}` }, tmax: 400 }),
    }).then(async (res) => {
      const body = res.status === 200 ? ((await res.json()) as { seatbid: Array<{ bid: Array<{ cid: string }> }> }) : (await res.arrayBuffer(), null);
      answers.get(id)!.push(res.status);
      if (body) winnersAnswered.set(id, body.seatbid[0]!.bid[0]!.cid);
    }, (err: unknown) => void failures.push(`${id}: ${(err as Error).message}`));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const timer = setInterval(() => { for (let i = 0; i < 3; i++) send(); }, 50);
  try {
    for (const stage of ['enrich', 'bid', 'auction'] as const) {
      await new Promise((r) => setTimeout(r, 3000));
      const i = procs.indexOf(running[stage]);
      assert.equal((await running[stage].stop('SIGKILL')).signal, 'SIGKILL');
      running[stage] = await starters[stage]();
      procs[i] = running[stage];
    }
    await new Promise((r) => setTimeout(r, 3000));
  } finally {
    clearInterval(timer);
  }
  await Promise.all([...inflight]);

  // Exactly one answer per request, a bid or a no-bid, never an error or a hang.
  assert.deepEqual(failures, [], 'no request failed or hung');
  const statuses = new Map<number, number>();
  for (const [id, s] of answers) {
    assert.equal(s.length, 1, `${id} answered ${s.length} times`);
    statuses.set(s[0]!, (statuses.get(s[0]!) ?? 0) + 1);
  }
  assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 204), [], `answers by status: ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(200) ?? 0) > 0, 'some requests won a bid');

  // Every request reached the auction; copies re-emitted by killed hops are kept apart from the first.
  const ids = [...answers.keys()];
  t.diagnostic(`${ids.length} requests, answers ${JSON.stringify([...statuses])}`);
  for (const [group, topics] of [['enrich', [T.req]], ['bid', [T.enr]], ['auction', [T.bids]], ['aggregate', [T.out, T.trk]]] as const) {
    assert.ok(await waitDrained(admin, `rtb-dk-${group}-${run}`, [...topics], 180_000), `${group} drained`);
  }
  assert.ok(await sinkDrained(admin, pg.sql, cfg.kafkaBrokers, T.wc, `rtb-dk-sink-${run}`, 120_000), 'sink drained');
  const first = new Map<string, AuctionOutcome>();
  let copies = 0;
  for (const r of (await readTopic(kafka, T.out, { timeoutMs: 60_000 })).sort((a, b) => Number(a.offset) - Number(b.offset))) {
    const o = await codec.decode<AuctionOutcome>(r.value as Buffer);
    if (first.has(o.requestId)) copies++;
    else first.set(o.requestId, o);
  }
  const missing = ids.filter((id) => !first.has(id));
  assert.equal(missing.length, 0, `${missing.length} of ${ids.length} requests have no outcome`);
  t.diagnostic(`${copies} re-emitted outcome copies`);
  assert.ok(copies > 0, 'the kills re-emitted outcomes (otherwise counting once proves nothing)');
  for (const [id, cid] of winnersAnswered) assert.equal(first.get(id)!.wins[0]?.campaignId, cid, `${id}: the answered winner is the counted one`);

  // Postgres counts each request once, and the bids submitted (our auction's wins) and cost of the first copies.
  const [all] = await pg.sql<Array<{ requests: string }>>`select coalesce(sum(requests), 0)::text as requests from window_counts where campaign_id = '*'`;
  assert.equal(Number(all!.requests), ids.length, 'requests in Postgres = requests answered');
  const rows = await pg.sql<Array<{ campaign_id: string; wins: string; cost: string }>>`
    select campaign_id, sum(submitted)::text as wins, sum(win_cost_micros)::text as cost from window_counts where campaign_id <> '*' group by campaign_id`;
  const pgBy = new Map(rows.map((r) => [r.campaign_id, { wins: Number(r.wins), cost: Number(r.cost) }]));
  let exhausted = 0;
  for (const c of campaigns) {
    const wins = [...first.values()].flatMap((o) => o.wins).filter((w) => w.campaignId === c.id);
    const cost = wins.reduce((s, w) => s + w.costMicros, 0);
    assert.deepEqual(pgBy.get(c.id) ?? { wins: 0, cost: 0 }, { wins: wins.length, cost }, `${c.id}: Postgres = first copies`);
    const reserved = Number((await redis.get(spendLifetimeKey(c.id))) ?? 0);
    assert.ok(cost <= reserved && reserved <= BUDGET, `${c.id}: counted ${cost} <= reserved ${reserved} <= budget ${BUDGET}`);
    if (reserved > BUDGET - 5_000) exhausted++;
  }
  assert.ok(exhausted > 0, 'demand exceeded at least one budget, so the bound was tested');
});
