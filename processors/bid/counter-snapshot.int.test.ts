/**
 * The counter snapshot and the per-batch frequency read against the stack's Redis, through the bid
 * processor: a spend change is seen within the refresh bound, a frequency count at once, and a
 * snapshot that stopped refreshing falls back to empty counters (counted). Keys live under a random
 * campaign id and are deleted afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { loadConfig, redisSpecs } from '../../schemas/config.js';
import { frequencyKey, perfClicksKey, perfImpressionsKey, spendDayKey, spendLifetimeKey } from '../domain/redis-keys.js';
import { makeCampaign } from '../testing/campaign.fixture.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidSet } from '../../schemas/bid-set.js';
import { CampaignIndex } from './campaign-index.js';
import { CounterSnapshot } from './counter-snapshot.js';
import { FrequencyReader } from './bid-state.js';
import { bidProcessor } from './bid-processor.js';
import { localDay } from './schedule.js';

const REFRESH_MS = 100;
/** What a shared 2-core machine may add to the bound (one MGET, a late timer, the poll step). */
const SLACK_MS = 300;

function request(id: string): BidRequest {
  return {
    id, imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 500_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: { id: null, domain: 'news.example.com', page: null, cat: [], publisherId: null, ext: null }, app: null,
    device: { ua: null, ip: '192.0.2.1', devicetype: 2, os: null, geo: null, ext: null },
    user: { id: 'u1', buyeruid: null, segments: [], interests: [], ext: null }, tmax: 100, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null,
    receivedAtMs: Date.now(), ingestNodeId: 'int', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'NOT_ATTEMPTED', profile: null,
  };
}

test('counter-snapshot sees a spend change within the refresh bound, a frequency count at once, and falls back when stale', async (t) => {
  const day = localDay('UTC', Date.now()).dayKey;
  // The keys are written for today's UTC day; a run across midnight would write one day and read the next.
  if (localDay('UTC', Date.now() + 10_000).dayKey !== day) return t.skip('within 10 s of UTC midnight');
  const redis = new Redis(loadConfig(redisSpecs).redisUrl, { maxRetriesPerRequest: 1 });
  const id = `snapint-${randomUUID()}`;
  const campaign = makeCampaign({ id, dailyBudgetMicros: 1_000_000, frequencyCap: { count: 2, per: 'day' } });
  const keys = [spendDayKey(id, day), spendLifetimeKey(id), perfImpressionsKey(id), perfClicksKey(id), frequencyKey(id, day, 'u1')];

  const index = new CampaignIndex([campaign]);
  const snapshot = new CounterSnapshot({ redis, campaigns: () => index.campaigns(), refreshMs: REFRESH_MS });
  t.after(async () => {
    snapshot.stop();
    await redis.del(...keys);
    await redis.quit();
  });
  const unavailable = new Counter({ name: 'unavailable', help: 'h', registers: [] });
  const decisions = new Counter({ name: 'decisions', help: 'h', labelNames: ['result'], registers: [] });
  const frequencies = new FrequencyReader(redis, 200);
  const processor = bidProcessor({
    input: 'in', output: 'bids', index, metrics: { stateUnavailable: unavailable, decisions },
    campaignCounters: (now) => snapshot.counters(now), readFrequencies: (q, now) => frequencies.read(q, now),
  });
  let seq = 0;
  const decide = async (): Promise<BidSet> => {
    const record = { topic: 'in', partition: 0, offset: String(seq), key: null, value: request(`${id}-${seq++}`), timestampMs: Date.now() };
    const out = await processor.process(record, await processor.prepare!([record]));
    return out[0]!.value as BidSet;
  };

  assert.equal(await snapshot.start(), true, 'the first read succeeds');
  assert.deepEqual((await decide()).bids.map((b) => b.campaignId), [id]);

  await redis.set(frequencyKey(id, day, 'u1'), '2');
  assert.equal((await decide()).noBidReason, 'frequency_capped', 'per-user counts are read per batch, not snapshotted');
  await redis.del(frequencyKey(id, day, 'u1'));

  await redis.incrby(spendDayKey(id, day), 1_000_000);
  const spentAt = Date.now();
  let seenAfterMs = Infinity;
  while (Date.now() - spentAt < REFRESH_MS + SLACK_MS + 1000) {
    if ((await decide()).noBidReason === 'budget_exhausted') {
      seenAfterMs = Date.now() - spentAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  t.diagnostic(`spend seen after ${seenAfterMs} ms (refresh every ${REFRESH_MS} ms)`);
  assert.ok(seenAfterMs <= REFRESH_MS + SLACK_MS, `spend seen after ${seenAfterMs} ms, bound ${REFRESH_MS} + ${SLACK_MS} ms`);

  // A snapshot that stopped refreshing is used up to 10 intervals, then not at all.
  snapshot.stop();
  assert.equal((await decide()).noBidReason, 'budget_exhausted');
  await new Promise((r) => setTimeout(r, 10 * REFRESH_MS + 50));
  const before = (await unavailable.get()).values[0]?.value ?? 0;
  assert.deepEqual((await decide()).bids.map((b) => b.campaignId), [id], 'too old: decided with empty counters (the reservation guards the budget)');
  assert.equal(((await unavailable.get()).values[0]?.value ?? 0) - before, 1, 'and counted in bid_state_unavailable_total');
});
