/**
 * Issue 10's reconciliation proof on the real stack: a mixed traffic run (open-auction and deal wins,
 * test requests, every privacy basis, three answer currencies, an nurl and a burl exchange, impressions,
 * clicks and conversions, loss notices; duplicate outcomes, notices and loss notices) is produced straight
 * onto the real topics, the real aggregate and sink processes turn it into Postgres, and EVERY column of
 * every analyst view equals totals this test computes on its own from the records it produced (its own
 * reading of what each view means, not the aggregate's code). Merging any dimension, counting a
 * duplicate, or mixing test traffic into the live views changes some column here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { loadConfig, commonSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { waitDrained } from '../processors/runtime/group-lag.js';
import { freshSchema } from '../processors/runtime/fresh-schema.js';
import { mulberry32 } from '../processors/runtime/seeded-random.js';
import { spawnService } from '../processors/testing/spawn-service.js';
import { AvroCodec } from '../schemas/codec.js';
import { loadSchema, subjectFor } from '../schemas/topics.js';
import type { AuctionOutcome, BidSummary, WinRecord } from '../schemas/auction-outcome.js';
import type { LossNotice, TrackingEvent } from '../schemas/tracking-event.js';
import { sinkDrained } from './offsets.js';

const cfg = loadConfig(commonSpecs);
const MIN = 60_000;
const BASES = ['unrestricted', 'consent', 'coppa', 'gdpr_no_consent', 'us_privacy_opt_out', 'gpp_opt_out', 'lmt'] as const;
const CURRENCIES = [['USD', 1_000_000], ['EUR', 920_000], ['JPY', 150_000_000]] as const;
/** Which notice is the exchange's win: nx sends nurl (win notice = win, billing = spend), bx only counts burl. */
const EXCHANGES = [['nx', 'nurl'], ['bx', 'burl']] as const;

interface Traffic {
  outcomes: AuctionOutcome[];
  notices: TrackingEvent[];
  losses: LossNotice[];
  /** Exact copies, produced after the originals (same key: same partition, later offset). */
  dupOutcomes: AuctionOutcome[];
  dupNotices: TrackingEvent[];
  dupLosses: LossNotice[];
}

function makeTraffic(prefix: string, now: number, seed: number): Traffic {
  const rnd = mulberry32(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const campaigns = [0, 1, 2, 3].map((i) => `${prefix}-c${i}`);
  const deals = ['', '', `${prefix}-deal-a`, `${prefix}-deal-b`];
  const t: Traffic = { outcomes: [], notices: [], losses: [], dupOutcomes: [], dupNotices: [], dupLosses: [] };
  const request = (id: string, [exchange, winNotice]: (typeof EXCHANGES)[number]): void => {
    const test = rnd() < 0.12;
    const privacyBasis = pick(BASES);
    const [currency, fxRatePpm] = pick(CURRENCIES);
    const receivedAtMs = now - int(20 * MIN);
    const bids: BidSummary[] = [];
    const wins: WinRecord[] = [];
    const impCount = rnd() < 0.15 ? 2 : 1;
    for (let imp = 1; imp <= impCount; imp++) {
      const impBids = campaigns.filter(() => rnd() < 0.4).map((c) => ({ impId: String(imp), campaignId: c, creativeId: `${c}-k${int(2)}`, priceMicros: 1_000_000 + int(3_000_000), dealId: pick(deals) }));
      bids.push(...impBids);
      if (impBids.length === 0 || rnd() < 0.15) continue;
      const b = pick(impBids);
      const clearing = 500_000 + int(b.priceMicros - 500_000);
      wins.push({
        impId: b.impId, campaignId: b.campaignId, advertiserId: 'adv', creativeId: b.creativeId, bidPriceMicros: b.priceMicros, clearingPriceMicros: clearing, costMicros: Math.floor(clearing / 1000),
        adomain: [], w: 300, h: 250, dayKey: 'd', title: '', imageUrl: '', landingUrl: '', dealId: b.dealId, mtype: 1, cat: [], cattax: 1, vastXml: '', vastTagUrl: '', durationSec: 0,
      });
    }
    const outcome: AuctionOutcome = {
      requestId: id, userId: null, at: 2, test, receivedAtMs, decidedAtMs: receivedAtMs + 4, impCount, bids, wins, noBidReason: wins.length ? null : 'no_bids', nbr: wins.length ? null : 2,
      exchange, privacyBasis, currency, fxRatePpm,
    };
    t.outcomes.push(outcome);
    if (rnd() < 0.05) t.dupOutcomes.push(outcome);
    for (const w of wins) {
      const base = {
        requestId: `${exchange}:${id}`, impId: w.impId, campaignId: w.campaignId, creativeId: w.creativeId, advertiserId: 'adv', dayKey: 'd', auctionAtMs: receivedAtMs, ingestNodeId: 'edge-1',
        exchange, test, dealId: w.dealId ?? '', privacyBasis, currency,
      };
      const at = (): number => receivedAtMs + 200 + int(90_000); // notices may fall into later windows
      const fate = rnd();
      if (fate < 0.55) {
        const price = 400_000 + int(w.clearingPriceMicros - 400_000 + 1);
        const priced = { priceMicros: price, costMicros: Math.floor(price / 1000), reportedPriceMicros: Math.floor((price * fxRatePpm) / 1_000_000) };
        const notice = (type: TrackingEvent['type'], exchangeWin: boolean, extra: Partial<TrackingEvent> = {}): void => {
          const n: TrackingEvent = { ...base, eventId: `${prefix}:${exchange}:${id}:${w.impId}:${type}`, type, priceMicros: 0, costMicros: 0, occurredAtMs: at(), exchangeWin, ...extra };
          t.notices.push(n);
          if (rnd() < 0.15) t.dupNotices.push(n);
        };
        if (winNotice === 'nurl') {
          notice('WIN', true, priced);
          if (rnd() < 0.9) notice('BILLING', false, priced);
        } else {
          if (rnd() < 0.5) notice('WIN', false, priced);
          notice('BILLING', true, priced);
        }
        if (rnd() < 0.9) notice('IMPRESSION', false);
        if (rnd() < 0.25) notice('CLICK', false);
        if (rnd() < 0.08) notice('CONVERSION', false);
      } else if (fate < 0.85) {
        const l: LossNotice = {
          eventId: `${prefix}:${exchange}:${id}:${w.impId}:loss`, requestId: base.requestId, impId: w.impId, campaignId: w.campaignId, creativeId: w.creativeId, advertiserId: 'adv', dayKey: 'd',
          exchange, lossReason: pick([-1, 102, 103]), priceMicros: int(3_000_000), test, dealId: base.dealId, privacyBasis, currency, auctionAtMs: receivedAtMs, occurredAtMs: at(), ingestNodeId: 'edge-1',
        };
        t.losses.push(l);
        if (rnd() < 0.2) t.dupLosses.push(l);
      }
    }
  };
  for (let i = 0; i < 700; i++) {
    const exchange = pick(EXCHANGES);
    request(`${prefix}-r${i}`, exchange);
    // The same request id from the other exchange is another request (requestKey(exchange, id)).
    if (i % 25 === 0) request(`${prefix}-r${i}`, EXCHANGES.find((e) => e !== exchange)!);
  }
  return t;
}

/** One counted fact: where it belongs (the view dimensions) and what it adds. */
interface Fact {
  campaign: string;
  creative: string;
  deal: string;
  test: boolean;
  basis: string;
  currency: string;
  atMs: number;
  add: Partial<Record<Counter, number>>;
}
const COUNTERS = [
  'requests', 'bids', 'submitted', 'wins', 'losses', 'win_cost_micros', 'spend_micros', 'reported_spend_micros', 'clearing_price_micros', 'submitted_price_micros', 'impressions', 'clicks', 'conversions',
] as const;
type Counter = (typeof COUNTERS)[number];

/** What the test itself says each produced record counts (each original once; the copies nothing). */
function factsOf(t: Traffic): Fact[] {
  const facts: Fact[] = [];
  for (const o of t.outcomes) {
    const req = { test: o.test, basis: o.privacyBasis!, currency: o.currency!, atMs: o.receivedAtMs };
    facts.push({ campaign: '*', creative: '', deal: '', ...req, add: { requests: 1, bids: o.bids.length, submitted: o.wins.length } });
    for (const b of o.bids) facts.push({ campaign: b.campaignId, creative: b.creativeId, deal: b.dealId!, ...req, add: { bids: 1 } });
    for (const w of o.wins) facts.push({ campaign: w.campaignId, creative: w.creativeId, deal: w.dealId!, ...req, add: { submitted: 1, win_cost_micros: w.costMicros, submitted_price_micros: w.clearingPriceMicros } });
  }
  for (const n of t.notices) {
    const add: Fact['add'] = {};
    if (n.exchangeWin) Object.assign(add, { wins: 1, clearing_price_micros: n.priceMicros });
    if (n.type === 'BILLING') Object.assign(add, { spend_micros: n.costMicros, reported_spend_micros: Math.floor(n.reportedPriceMicros! / 1000) });
    if (n.type === 'IMPRESSION') add.impressions = 1;
    if (n.type === 'CLICK') add.clicks = 1;
    if (n.type === 'CONVERSION') add.conversions = 1;
    if (Object.keys(add).length > 0) facts.push({ campaign: n.campaignId, creative: n.creativeId, deal: n.dealId!, test: n.test!, basis: n.privacyBasis!, currency: n.currency!, atMs: n.occurredAtMs, add });
  }
  for (const l of t.losses) facts.push({ campaign: l.campaignId, creative: l.creativeId, deal: l.dealId, test: l.test, basis: l.privacyBasis, currency: l.currency, atMs: l.occurredAtMs, add: { losses: 1 } });
  return facts;
}

const windowOf = (ms: number): number => Math.floor(ms / MIN) * MIN;
const dayOf = (ms: number): string => new Date(windowOf(ms)).toISOString().slice(0, 10);

interface Group {
  sums: Record<Counter, number>;
  /** Distinct creatives, deals (not ''), campaigns of the group's campaign facts. */
  creatives: Set<string>;
  deals: Set<string>;
  campaigns: Set<string>;
  /** Sums over the all-request ('*') facts only, and over the campaign facts only. */
  star: Record<Counter, number>;
  camp: Record<Counter, number>;
}
const zeros = (): Record<Counter, number> => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;

function group(facts: readonly Fact[], keep: (f: Fact) => boolean, keyOf: (f: Fact) => string): Map<string, Group> {
  const out = new Map<string, Group>();
  for (const f of facts) {
    if (!keep(f)) continue;
    const k = keyOf(f);
    let g = out.get(k);
    if (!g) out.set(k, (g = { sums: zeros(), creatives: new Set(), deals: new Set(), campaigns: new Set(), star: zeros(), camp: zeros() }));
    for (const [c, v] of Object.entries(f.add) as Array<[Counter, number]>) {
      g.sums[c] += v;
      (f.campaign === '*' ? g.star : g.camp)[c] += v;
    }
    if (f.campaign !== '*') {
      g.creatives.add(f.creative);
      g.campaigns.add(f.campaign);
      if (f.deal !== '') g.deals.add(f.deal);
    }
  }
  return out;
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);
const units = (x: number | null): number | null => (x === null ? null : x / 1_000_000);

/** The usual money and ratio columns from a set of sums, as the views name them. */
function metrics(s: Record<Counter, number>): Record<string, number | null> {
  return {
    bids: s.bids, submitted: s.submitted, wins: s.wins, win_rate: ratio(s.wins, s.submitted), losses: s.losses,
    win_cost_micros: s.win_cost_micros, win_cost: units(s.win_cost_micros), spend_micros: s.spend_micros, spend: units(s.spend_micros),
    clearing_price_micros: s.clearing_price_micros, avg_clearing_cpm_micros: ratio(s.clearing_price_micros, s.wins), avg_clearing_cpm: units(ratio(s.clearing_price_micros, s.wins)),
    avg_submitted_cpm_micros: ratio(s.submitted_price_micros, s.submitted),
    impressions: s.impressions, clicks: s.clicks, ctr: ratio(s.clicks, s.impressions),
    cpm_micros: ratio(s.spend_micros * 1000, s.impressions), cpm: units(ratio(s.spend_micros * 1000, s.impressions)),
    cpc_micros: ratio(s.spend_micros, s.clicks), cpc: units(ratio(s.spend_micros, s.clicks)), conversions: s.conversions,
  };
}

const only = (o: Record<string, unknown>, cols: readonly string[]): Record<string, unknown> => Object.fromEntries(cols.map((c) => [c, o[c]]));
const iso = (ms: number): string => new Date(ms).toISOString();
const dayIso = (day: string): string => `${day}T00:00:00.000Z`;

/** A view value as a comparable: numbers from bigint/numeric text, dates as ISO strings. */
function norm(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}
const close = (a: unknown, b: unknown): boolean =>
  typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)) : a === b;

/** Every row of the view equals the expected row of its key, column by column; no row missing or extra. */
function compareView(view: string, rows: ReadonlyArray<Record<string, unknown>>, keyCols: readonly string[], expected: Map<string, Record<string, unknown>>): void {
  const seen = new Set<string>();
  for (const raw of rows) {
    const row = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, norm(v)]));
    const key = keyCols.map((c) => String(row[c])).join('|');
    const want = expected.get(key);
    assert.ok(want, `${view}: unexpected row ${key}`);
    assert.ok(!seen.has(key), `${view}: two rows for ${key}`);
    seen.add(key);
    assert.deepEqual(Object.keys(row).sort(), Object.keys(want).sort(), `${view}: every column is checked`);
    for (const c of Object.keys(want)) assert.ok(close(row[c], want[c]), `${view} ${key} ${c}: view ${String(row[c])}, expected ${String(want[c])}`);
  }
  assert.deepEqual([...expected.keys()].filter((k) => !seen.has(k)), [], `${view}: rows missing`);
}

test('reconciliation: every analyst view column equals independent totals of a mixed traffic run through the real aggregate and sink', async (t) => {
  const db = await freshSchema(t, 'recon');
  const run = randomUUID().slice(0, 8);
  const prefix = `rc-${run}`;
  const T = { o: `rc-o-${run}`, t: `rc-t-${run}`, l: `rc-l-${run}`, w: `rc-w-${run}` };
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'reconcile-test', log: createLogger('test', 'silent') });
  const admin = kafka.admin();
  await admin.connect();
  t.after(async () => {
    await admin.deleteTopics({ topics: Object.values(T) }).catch(() => undefined);
    await admin.disconnect();
  });
  await ensureTopics(admin, Object.values(T).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })));
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  await codec.register(subjectFor(T.o), loadSchema('auction-outcome.avsc'));
  await codec.register(subjectFor(T.t), loadSchema('tracking-event.avsc'));
  await codec.register(subjectFor(T.l), loadSchema('loss-notice.avsc'));

  const traffic = makeTraffic(prefix, Date.now(), 20261130);
  const producer = kafka.producer({ 'linger.ms': 5 });
  await producer.connect();
  const send = async (topic: string, values: ReadonlyArray<{ requestId: string }>, key: (v: { requestId: string }) => string) => {
    for (let i = 0; i < values.length; i += 250) {
      await producer.send({ topic, messages: values.slice(i, i + 250).map((v) => ({ key: key(v), value: codec.encode(subjectFor(topic), v) })) });
    }
  };
  const outcomeKey = (v: { requestId: string }) => `${(v as AuctionOutcome).exchange}:${v.requestId}`;
  await send(T.o, traffic.outcomes, outcomeKey);
  await send(T.t, traffic.notices, (v) => v.requestId);
  await send(T.l, traffic.losses, (v) => v.requestId);
  await send(T.o, traffic.dupOutcomes, outcomeKey);
  await send(T.t, traffic.dupNotices, (v) => v.requestId);
  await send(T.l, traffic.dupLosses, (v) => v.requestId);
  await producer.disconnect();
  assert.ok(traffic.dupOutcomes.length > 10 && traffic.dupNotices.length > 50 && traffic.dupLosses.length > 10, 'the run really has duplicates of each kind');

  const aggregate = await spawnService('processors/aggregate/main.ts', 'PROCESSOR_HTTP_PORT', {
    AGGREGATE_NAME: `rc-agg-${run}`, AGGREGATE_OUTCOMES: T.o, AGGREGATE_TRACKING: T.t, AGGREGATE_LOSSES: T.l, AGGREGATE_OUTPUT: T.w, PROCESSOR_INSTANCE_ID: 'a', PROCESSOR_MAX_BATCH: '150',
  });
  t.after(() => aggregate.stop());
  const sink = await spawnService('sink/main.ts', 'SINK_HTTP_PORT', { SINK_INPUT: T.w, SINK_GROUP: `rc-sink-${run}`, POSTGRES_URL: db.url, SINK_MAX_BATCH: '300', TOPIC_PARTITIONS: '3' });
  t.after(() => sink.stop());
  assert.ok(await waitDrained(admin, `rtb-rc-agg-${run}`, [T.o, T.t, T.l], 120_000), 'the aggregate consumed its three inputs');
  assert.ok(await sinkDrained(admin, db.sql, cfg.kafkaBrokers, T.w, `rc-sink-${run}`, 120_000), 'the sink applied every partial sum');

  const facts = factsOf(traffic);
  const live = (f: Fact) => !f.test;
  const campaignFact = (f: Fact) => f.campaign !== '*';
  const read = (view: string) => db.sql.unsafe<Array<Record<string, unknown>>>(`select * from ${view}`);

  // campaign_window_metrics: live, per campaign, creative, deal and window.
  const cw = new Map<string, Record<string, unknown>>();
  for (const [k, g] of group(facts, (f) => live(f) && campaignFact(f), (f) => [f.campaign, f.creative, f.deal, windowOf(f.atMs)].join('|'))) {
    const [campaign, creative, deal, w] = k.split('|');
    const start = Number(w);
    cw.set([campaign, creative, deal, start].join('|'), {
      campaign_id: campaign, creative_id: creative, deal_id: deal, window_start: iso(start), window_end: iso(start + MIN), window_day: dayIso(dayOf(start)), window_start_ms: start, window_ms: MIN,
      ...metrics(g.sums),
    });
  }
  compareView('campaign_window_metrics', await read('campaign_window_metrics'), ['campaign_id', 'creative_id', 'deal_id', 'window_start_ms'], cw);

  // campaign_daily_metrics and deal_daily_metrics: live, per campaign (and deal) and UTC day.
  const cd = new Map<string, Record<string, unknown>>();
  for (const [k, g] of group(facts, (f) => live(f) && campaignFact(f), (f) => [f.campaign, dayOf(f.atMs)].join('|'))) {
    const [campaign, day] = k.split('|');
    cd.set([campaign, dayIso(day!)].join('|'), { campaign_id: campaign, day: dayIso(day!), window_ms: MIN, creatives: g.creatives.size, deals: g.deals.size, ...metrics(g.sums) });
  }
  compareView('campaign_daily_metrics', await read('campaign_daily_metrics'), ['campaign_id', 'day'], cd);
  const dd = new Map<string, Record<string, unknown>>();
  for (const [k, g] of group(facts, (f) => live(f) && campaignFact(f), (f) => [f.campaign, f.deal, dayOf(f.atMs)].join('|'))) {
    const [campaign, deal, day] = k.split('|');
    dd.set([campaign, deal, dayIso(day!)].join('|'), { campaign_id: campaign, deal_id: deal, day: dayIso(day!), window_ms: MIN, creatives: g.creatives.size, ...metrics(g.sums) });
  }
  compareView('deal_daily_metrics', await read('deal_daily_metrics'), ['campaign_id', 'deal_id', 'day'], dd);
  assert.ok([...dd.values()].filter((r) => r.deal_id !== '' && Number(r.spend_micros) > 0).length >= 4, 'deals really won and spent');

  // window_totals: live, per window; requests, bids, submitted from the all-request facts, the rest from the campaigns'.
  const wt = new Map<string, Record<string, unknown>>();
  for (const [k, g] of group(facts, live, (f) => String(windowOf(f.atMs)))) {
    const start = Number(k);
    const m = metrics(g.camp);
    wt.set(k, {
      window_start_ms: start, window_ms: MIN, window_start: iso(start), requests: g.star.requests, bids: g.star.bids, submitted: g.star.submitted, wins: g.camp.wins,
      bids_per_request: ratio(g.star.bids, g.star.requests), wins_per_request: ratio(g.camp.wins, g.star.requests), win_rate: ratio(g.camp.wins, g.star.submitted), losses: g.camp.losses,
      campaigns: g.campaigns.size, campaign_bids: g.camp.bids, ...only(m, ['win_cost_micros', 'win_cost', 'spend_micros', 'spend', 'impressions', 'clicks', 'conversions']),
    });
  }
  compareView('window_totals', await read('window_totals'), ['window_start_ms'], wt);

  // traffic_daily_metrics: ALL traffic per day, test flag, privacy basis and currency.
  const td = new Map<string, Record<string, unknown>>();
  for (const [k, g] of group(facts, () => true, (f) => [dayOf(f.atMs), f.test, f.basis, f.currency].join('|'))) {
    const [day, testFlag, basis, currency] = k.split('|');
    const c = g.camp;
    td.set([dayIso(day!), testFlag, basis, currency].join('|'), {
      day: dayIso(day!), window_ms: MIN, test: testFlag === 'true', privacy_basis: basis, currency, requests: g.star.requests, bids: g.star.bids, submitted: g.star.submitted, wins: c.wins,
      bids_per_request: ratio(g.star.bids, g.star.requests), win_rate: ratio(c.wins, g.star.submitted), losses: c.losses, spend_micros: c.spend_micros, spend: units(c.spend_micros),
      reported_spend_micros: c.reported_spend_micros, reported_spend: units(c.reported_spend_micros),
      clearing_price_micros: c.clearing_price_micros, avg_clearing_cpm_micros: ratio(c.clearing_price_micros, c.wins), avg_clearing_cpm: units(ratio(c.clearing_price_micros, c.wins)),
      impressions: c.impressions, clicks: c.clicks, ctr: ratio(c.clicks, c.impressions), cpm: units(ratio(c.spend_micros * 1000, c.impressions)), conversions: c.conversions,
    });
  }
  compareView('traffic_daily_metrics', await read('traffic_daily_metrics'), ['day', 'test', 'privacy_basis', 'currency'], td);
  const bases = new Set([...td.values()].filter((r) => Number(r.requests) > 0).map((r) => r.privacy_basis));
  assert.equal(bases.size, BASES.length, 'requests under every privacy basis');

  // test_campaign_daily_metrics: test traffic only, per campaign, deal and day.
  const tc = new Map<string, Record<string, unknown>>();
  for (const [k, g] of group(facts, (f) => f.test && campaignFact(f), (f) => [f.campaign, f.deal, dayOf(f.atMs)].join('|'))) {
    const [campaign, deal, day] = k.split('|');
    tc.set([campaign, deal, dayIso(day!)].join('|'), {
      campaign_id: campaign, deal_id: deal, day: dayIso(day!), window_ms: MIN,
      ...only(metrics(g.sums), ['bids', 'submitted', 'wins', 'win_rate', 'losses', 'spend_micros', 'spend', 'impressions', 'clicks', 'conversions']),
    });
  }
  compareView('test_campaign_daily_metrics', await read('test_campaign_daily_metrics'), ['campaign_id', 'deal_id', 'day'], tc);
  assert.ok([...tc.values()].some((r) => Number(r.spend_micros) > 0), 'test traffic really spent (and is only here)');
});
