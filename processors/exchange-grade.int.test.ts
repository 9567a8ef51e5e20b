/**
 * Issue 10 on the real stack: enrich -> bid -> auction as real processes on topics of this run's own, with
 * campaigns written through the campaign store (Postgres, migrated) and published to the campaigns topic
 * as the API does. Asserts that badv blocks, that a private auction gets only the deal bid (with its deal
 * id, the video creative and its VAST), that a EUR floor is converted with the rate file before the
 * auction, and that a test request runs the auction but reserves nothing in Redis.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig, commonSpecs, redisSpecs } from '../schemas/config.js';
import { createLogger } from './runtime/logger.js';
import { createKafka, type Producer } from './runtime/kafka.js';
import { readTopic } from './runtime/read-topic.js';
import { freshSchema } from './runtime/fresh-schema.js';
import { spawnService, type ServiceProcess } from './testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import { requestKey } from '../schemas/request-key.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import type { BidRequest, Imp } from '../schemas/bid-request.js';
import { campaignToRecord } from './domain/campaign-record.js';
import type { Campaign } from './domain/campaign.js';
import { frequencyKey, reservationKey, spendDayKey } from './domain/redis-keys.js';
import { CampaignStore } from './campaigns/store.js';
import { validateCampaign } from './campaigns/validate-campaign.js';
import { makeRequest } from './testing/bid-request.fixture.js';
import { waitFor } from './testing/wait.js';
import { createDecisionTopics, decisionTopics, processorEnv } from './testing/decision-pipeline.fixture.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'exchange-grade-test', log: createLogger('test', 'silent') });
const redis = new Redis(cfg.redisUrl);
const codec = new AvroCodec(cfg.schemaRegistryUrl);
const run = randomUUID().slice(0, 8);
const T = decisionTopics('x10', run);
const EXCHANGE = `x10-${run}`;
const procs: ServiceProcess[] = [];
let producer: Producer;

const DEAL = `deal-${run}`;
const VAST = '<VAST version="4.0"><Ad id="v"><InLine><AdSystem>t</AdSystem><AdTitle>t</AdTitle></InLine></Ad></VAST>';
const banner = (id: string, adomain: string) => ({ id, title: 'Banner', imageUrl: 'https://cdn.example.com/b.png', landingUrl: 'https://brand.example.com/', width: 300, height: 250, adomain: [adomain] });

/** The campaigns as the API receives them (validated the same way), for advertiser `adv-<run>`. */
const inputs = {
  deal: {
    id: `x10-deal-${run}`, name: 'Deal + video', bidCpmMicros: 2_000_000, pacing: 'asap', targeting: { domain: ['main.example.com'] },
    deals: [{ id: DEAL, bidCpmMicros: 6_000_000 }],
    creatives: [
      banner(`x10-deal-ban-${run}`, 'brand-a.example.com'),
      {
        id: `x10-deal-vid-${run}`, title: 'Video', landingUrl: 'https://brand-a.example.com/v', adomain: ['brand-a.example.com'], cat: ['IAB2'],
        video: { vastXml: VAST, durationSec: 15, mimes: ['video/mp4'], protocols: [7], w: 640, h: 360 },
      },
    ],
  },
  open: {
    id: `x10-open-${run}`, name: 'Open', bidCpmMicros: 3_000_000, pacing: 'asap', targeting: { domain: ['main.example.com'] },
    creatives: [banner(`x10-open-ban-${run}`, 'brand-b.example.com')],
  },
  capped: {
    id: `x10-capped-${run}`, name: 'Test traffic', bidCpmMicros: 1_000_000, pacing: 'asap', targeting: { domain: ['test.example.com'] },
    frequencyCap: { count: 5, per: 'day' }, creatives: [banner(`x10-capped-ban-${run}`, 'brand-c.example.com')],
  },
};

function request(id: string, userId: string, domain: string, imp: Partial<Imp>, over: Partial<BidRequest> = {}): BidRequest {
  const base = makeRequest(id, { id: userId, segments: [], interests: [] }, { exchange: EXCHANGE, receivedAtMs: Date.now(), ...over });
  return {
    ...base,
    imp: [{ ...base.imp[0]!, bidfloorMicros: 500_000, ...imp }],
    site: { ...base.site!, domain },
  };
}

before(async () => {
  await createDecisionTopics(kafka, codec, T);
  await codec.register(subjectFor(T.req), loadSchema('bid-request.avsc'));
  producer = kafka.producer({ 'linger.ms': 2 });
  await producer.connect();
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
  await admin.disconnect();
  redis.disconnect();
});

test('issue 10 on the real stack: badv blocks, a private auction gets only the deal bid, a EUR floor is converted, test traffic reserves nothing', async (t) => {
  // Campaigns through validation and the Postgres store, then onto the campaigns topic as the publisher writes them.
  const { sql } = await freshSchema(t, 'x10');
  const store = new CampaignStore(sql, () => Date.now());
  await store.upsertAdvertiser({ id: `adv-${run}`, name: 'X10' });
  const stored: Campaign[] = [];
  for (const input of Object.values(inputs)) {
    const v = validateCampaign({ advertiserId: `adv-${run}`, startMs: Date.UTC(2024, 0, 1), dailyBudgetMicros: 1_000_000_000, lifetimeBudgetMicros: 10_000_000_000, updatedAtMs: 1, ...input });
    assert.ok(v.ok, JSON.stringify(!v.ok && v.errors));
    const r = await store.createCampaign(v.campaign);
    assert.ok(r.ok);
    stored.push(r.value);
  }
  assert.equal(stored[0]!.creatives[1]!.video?.vastXml, VAST, 'the store kept the video creative');
  await producer.send({ topic: T.camps, messages: stored.map((c) => ({ key: c.id, value: codec.encode(subjectFor(T.camps), campaignToRecord(c)) })) });

  const dir = mkdtempSync(join(tmpdir(), 'x10-fx-'));
  const ratesFile = join(dir, 'rates.json');
  writeFileSync(ratesFile, JSON.stringify({ base: 'USD', asOfMs: Date.now(), rates: { EUR: '0.9' } }));
  procs.push(
    await spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'enrich'), ENRICH_INPUT: T.req, ENRICH_OUTPUT: T.enr }),
    await spawnService('processors/bid/main.ts', 'PROCESSOR_HTTP_PORT', {
      ...processorEnv(run, 'bid'), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps, BID_FX_RATES_FILE: ratesFile,
    }, 60_000),
    await spawnService('processors/auction/main.ts', 'PROCESSOR_HTTP_PORT', { ...processorEnv(run, 'auction'), AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out }),
  );

  const videoImp: Partial<Imp> = {
    banner: null,
    video: { mimes: ['video/mp4'], w: 640, h: 360, ext: null, minduration: 5, maxduration: 30, protocols: [7], battr: [] },
    pmp: { privateAuction: true, deals: [{ id: DEAL, bidfloorMicros: 5_000_000, bidfloorcur: 'USD', at: null, wseat: [], wadomain: [] }] },
  };
  const reqs = {
    plain: request(`plain-${run}`, 'u-plain', 'main.example.com', {}),
    badv: request(`badv-${run}`, 'u-badv', 'main.example.com', {}, { badv: ['example.com'] }),
    badvOne: request(`badv1-${run}`, 'u-badv1', 'main.example.com', {}, { badv: ['brand-b.example.com'] }),
    pmp: request(`pmp-${run}`, 'u-pmp', 'main.example.com', videoImp),
    eur: request(`eur-${run}`, 'u-eur', 'main.example.com', { bidfloorMicros: 2_700_000, bidfloorcur: 'EUR' }, { cur: ['EUR'] }),
    test: request(`test-${run}`, 'u-test', 'test.example.com', {}, { test: true }),
    control: request(`control-${run}`, 'u-control', 'test.example.com', {}),
  };
  await producer.send({ topic: T.req, messages: Object.values(reqs).map((r) => ({ key: r.user!.id!, value: codec.encode(subjectFor(T.req), r) })) });

  const ids = Object.values(reqs).map((r) => r.id);
  const outcomes = await waitFor(async () => {
    const byId = new Map<string, AuctionOutcome>();
    for (const rec of await readTopic(kafka, T.out, { timeoutMs: 30_000, idleMs: 1000 })) {
      const o = await codec.decode<AuctionOutcome>(rec.value as Buffer);
      byId.set(o.requestId, o);
    }
    return byId;
  }, { until: (m) => ids.every((id) => m.has(id)), atDeadline: 'last', what: 'the outcomes of the seven requests', timeoutMs: 120_000, intervalMs: 1000 });
  const out = (r: BidRequest) => outcomes.get(r.id)!;

  // Control: without block lists the open campaign wins at its price over the deal campaign's open bid.
  assert.deepEqual(out(reqs.plain).wins.map((w) => [w.campaignId, w.dealId]), [[inputs.open.id, '']]);

  // badv: blocking every brand leaves nobody (reason blocked); blocking one leaves the other.
  assert.deepEqual(out(reqs.badv).wins, []);
  assert.equal(out(reqs.badv).noBidReason, 'blocked');
  assert.equal(out(reqs.badv).nbr, 504);
  assert.deepEqual(out(reqs.badvOne).bids.map((b) => b.campaignId), [inputs.deal.id]);

  // Private auction: only the deal bid, at the deal price, with the video creative and its VAST.
  const pmp = out(reqs.pmp);
  assert.deepEqual(pmp.bids.map((b) => [b.campaignId, b.dealId, b.priceMicros]), [[inputs.deal.id, DEAL, 6_000_000]]);
  const win = pmp.wins[0]!;
  assert.deepEqual([win.dealId, win.mtype, win.creativeId, win.vastXml, win.durationSec, win.cat], [DEAL, 2, `x10-deal-vid-${run}`, VAST, 15, ['IAB2']]);
  assert.equal(win.clearingPriceMicros, 5_000_000, 'a lone second-price deal bid clears at the deal floor');

  // EUR floor 2.70 at 0.9 EUR per USD = 3.00 USD: the 2.00 open bid is under it, the 3.00 one clears at it.
  const eur = out(reqs.eur);
  assert.deepEqual(eur.bids.map((b) => b.campaignId), [inputs.open.id]);
  assert.equal(eur.wins[0]?.clearingPriceMicros, 3_000_000, 'unconverted, the floor would have been 2.70');
  assert.deepEqual([eur.currency, eur.fxRatePpm], ['EUR', 900_000]);

  // Test traffic: the auction ran (a win, marked test) but nothing is reserved; the control request reserved.
  const test = out(reqs.test);
  assert.equal(test.test, true);
  assert.equal(test.wins[0]?.campaignId, inputs.capped.id);
  const control = out(reqs.control);
  const day = control.wins[0]!.dayKey;
  assert.equal(await redis.exists(reservationKey(inputs.capped.id, requestKey(EXCHANGE, reqs.control.id), '1')), 1, 'the control request reserved');
  assert.equal(await redis.get(frequencyKey(inputs.capped.id, day, 'u-control')), '1');
  assert.equal(await redis.exists(reservationKey(inputs.capped.id, requestKey(EXCHANGE, reqs.test.id), '1')), 0, 'no reservation for the test request');
  assert.equal(await redis.exists(frequencyKey(inputs.capped.id, day, 'u-test')), 0, 'no frequency count for the test request');
  assert.equal(Number(await redis.get(spendDayKey(inputs.capped.id, day))), control.wins[0]!.costMicros, "the campaign's spend is the control's cost alone");
});
