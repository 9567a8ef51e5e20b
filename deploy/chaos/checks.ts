/**
 * The chaos run's checks, as pure functions of what was observed: what the load generator sent and was
 * answered, what Kafka holds (read_committed), and what Postgres counts. Modelled on Kafka's own
 * transactions system test (hard bounces, then input set == output set):
 *  - every request the edge acknowledged (202, or 200 with a bid) is on the request topic, and nothing
 *    is there that the load did not send;
 *  - every request on the topic has an auction outcome, and Postgres counts each request once, per window;
 *  - bids, wins and win cost per campaign, creative and window in Postgres equal those of the first
 *    outcome copy of each request (the aggregate de-duplicates by request id);
 *  - every 200 answer named the winner Postgres counts;
 *  - every notice the edge acknowledged is on the tracking topic; spend and impressions in Postgres equal
 *    the distinct notices there (a notice sent twice is counted once), and repeats were sent, so that
 *    counting once was tested.
 * The expected side is computed here from the inputs, independently of the aggregate's code.
 */
import type { Fate } from './load.js';

export interface SentRequest {
  id: string;
  kind: 'async' | 'sync';
  fate: Fate | undefined;
}

export interface SentNotice {
  eventId: string;
  type: string;
  copy: number;
  fate: Fate | undefined;
}

export interface TopicRequest {
  id: string;
  receivedAtMs: number;
}

export interface TopicOutcome {
  partition: number;
  offset: bigint;
  requestId: string;
  receivedAtMs: number;
  bids: Array<{ campaignId: string; creativeId: string }>;
  wins: Array<{ campaignId: string; creativeId: string; costMicros: number; clearingPriceMicros: number }>;
}

export interface TopicNotice {
  partition: number;
  offset: bigint;
  eventId: string;
  type: string;
  campaignId: string;
  creativeId: string;
  costMicros: number;
  occurredAtMs: number;
}

/** A window_counts row (bigints as numbers: this run's totals are far below 2^53). */
export interface CountRow {
  campaignId: string;
  creativeId: string;
  windowStartMs: number;
  requests: number;
  bids: number;
  wins: number;
  winCostMicros: number;
  clearingPriceMicros: number;
  spendMicros: number;
  impressions: number;
}

export interface Observed {
  windowMs: number;
  requests: SentRequest[];
  /** Winner named by each 200 answer, by request id. */
  winners: Map<string, string>;
  notices: SentNotice[];
  requestTopic: TopicRequest[];
  outcomes: TopicOutcome[];
  tracking: TopicNotice[];
  rows: CountRow[];
}

export interface Check {
  name: string;
  expected: number;
  found: number;
  ok: boolean;
  /** Keys that differ (windows, campaigns), ids missing, or what the numbers include. */
  detail: string;
}

type Counter = 'requests' | 'bids' | 'wins' | 'winCostMicros' | 'clearingPriceMicros' | 'spendMicros' | 'impressions';
type Sums = Map<string, Record<Counter, number>>;

const isAcked = (f: Fate | undefined): boolean => f === 202 || f === 200;
const isNoticeAcked = (f: Fate | undefined): boolean => f === 204 || f === 200;
const keyOf = (campaignId: string, creativeId: string, windowStartMs: number): string => `${campaignId}/${creativeId}@${windowStartMs}`;
const zero = (): Record<Counter, number> => ({ requests: 0, bids: 0, wins: 0, winCostMicros: 0, clearingPriceMicros: 0, spendMicros: 0, impressions: 0 });

function add(sums: Sums, key: string, delta: Partial<Record<Counter, number>>): void {
  let e = sums.get(key);
  if (!e) sums.set(key, (e = zero()));
  for (const [k, v] of Object.entries(delta) as Array<[Counter, number]>) e[k] += v;
}

/** The first record of each id in log order (partition, then offset): what a first-seen de-duplication keeps. */
export function firstById<T extends { partition: number; offset: bigint }>(records: readonly T[], id: (r: T) => string): Map<string, T> {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const first = new Map<string, T>();
  for (const r of sorted) if (!first.has(id(r))) first.set(id(r), r);
  return first;
}

/** Compares one counter per key; `found` and `expected` are its totals, `ok` requires every key to match. */
function compareKeyed(name: string, counters: Counter[], expected: Sums, found: Sums, note: string): Check {
  const keys = new Set([...expected.keys(), ...found.keys()]);
  const diffs: string[] = [];
  let e = 0;
  let f = 0;
  // Totals over the campaigns' rows: the all-request rows (campaign '*') repeat their bids and wins.
  const allStar = [...keys].every((k) => k.startsWith('*/'));
  for (const key of [...keys].sort()) {
    const a = expected.get(key) ?? zero();
    const b = found.get(key) ?? zero();
    if (allStar || !key.startsWith('*/')) {
      e += a[counters[0]!];
      f += b[counters[0]!];
    }
    const bad = counters.filter((c) => a[c] !== b[c]);
    if (bad.length > 0) diffs.push(`${key}: ${bad.map((c) => `${c} ${a[c]} expected, ${b[c]} found`).join(', ')}`);
  }
  const compared = [...keys].filter((k) => counters.some((c) => (expected.get(k)?.[c] ?? 0) !== 0 || (found.get(k)?.[c] ?? 0) !== 0)).length;
  return {
    name, expected: e, found: f, ok: diffs.length === 0,
    detail: diffs.length === 0 ? `${compared} keys (campaign/creative@window) equal${note}` : `${diffs.length} of ${compared} keys differ: ${diffs.slice(0, 8).join('; ')}${diffs.length > 8 ? '; ...' : ''}`,
  };
}

const sample = (ids: Iterable<string>, n = 5): string => [...ids].slice(0, n).join(', ');

export function runChecks(o: Observed): Check[] {
  const checks: Check[] = [];
  const win = (ms: number): number => Math.floor(ms / o.windowMs) * o.windowMs;
  const sent = new Set(o.requests.map((r) => r.id));
  const topicIds = new Map<string, number>();
  for (const r of o.requestTopic) if (!topicIds.has(r.id)) topicIds.set(r.id, r.receivedAtMs);

  // 1. acknowledged => in Kafka; in Kafka => sent.
  const acked = o.requests.filter((r) => isAcked(r.fate));
  const ackedMissing = acked.filter((r) => !topicIds.has(r.id)).map((r) => r.id);
  checks.push({
    name: 'requests acknowledged (202, 200) are on the request topic', expected: acked.length, found: acked.length - ackedMissing.length, ok: ackedMissing.length === 0,
    detail: ackedMissing.length === 0 ? `${o.requests.filter((r) => r.fate === 202).length} answered 202, ${o.requests.filter((r) => r.fate === 200).length} answered 200` : `missing: ${sample(ackedMissing)}`,
  });
  const phantoms = [...topicIds.keys()].filter((id) => !sent.has(id));
  const duplicates = o.requestTopic.length - topicIds.size;
  const ackedIds = new Set(acked.map((r) => r.id));
  const unacked = [...topicIds.keys()].filter((id) => sent.has(id) && !ackedIds.has(id));
  checks.push({
    name: 'requests on the topic were sent by the load, once', expected: o.requestTopic.length, found: topicIds.size - phantoms.length, ok: phantoms.length === 0 && duplicates === 0,
    detail: phantoms.length > 0 ? `not sent by the load: ${sample(phantoms)}` : duplicates > 0 ? `${duplicates} ids written more than once` : `${unacked.length} of them not acknowledged (edge killed or Kafka down before the answer, timeouts, 204 no-bid)`,
  });

  // 2. every request has an outcome; no outcome without a request.
  const first = firstById(o.outcomes, (r) => r.requestId);
  const noOutcome = [...topicIds.keys()].filter((id) => !first.has(id));
  const strayOutcomes = [...first.keys()].filter((id) => !topicIds.has(id));
  checks.push({
    name: 'requests on the topic have an auction outcome', expected: topicIds.size, found: topicIds.size - noOutcome.length, ok: noOutcome.length === 0 && strayOutcomes.length === 0,
    detail: noOutcome.length > 0 ? `no outcome: ${sample(noOutcome)}` : strayOutcomes.length > 0 ? `outcomes of unknown requests: ${sample(strayOutcomes)}` : `${o.outcomes.length - first.size} re-emitted outcome copies on the topic`,
  });

  // 3. Postgres against Kafka, per window.
  const expected: Sums = new Map();
  for (const [, at] of topicIds) add(expected, keyOf('*', '', win(at)), { requests: 1 });
  for (const out of first.values()) {
    const w = win(out.receivedAtMs);
    add(expected, keyOf('*', '', w), { bids: out.bids.length, wins: out.wins.length });
    for (const b of out.bids) add(expected, keyOf(b.campaignId, b.creativeId, w), { bids: 1 });
    for (const x of out.wins) add(expected, keyOf(x.campaignId, x.creativeId, w), { wins: 1, winCostMicros: x.costMicros, clearingPriceMicros: x.clearingPriceMicros });
  }
  const firstNotices = firstById(o.tracking, (r) => r.eventId);
  for (const n of firstNotices.values()) {
    const k = keyOf(n.campaignId, n.creativeId, win(n.occurredAtMs));
    if (n.type === 'BILLING') add(expected, k, { spendMicros: n.costMicros });
    if (n.type === 'IMPRESSION') add(expected, k, { impressions: 1 });
  }
  const found: Sums = new Map();
  for (const r of o.rows) {
    add(found, keyOf(r.campaignId, r.creativeId, r.windowStartMs), {
      requests: r.requests, bids: r.bids, wins: r.wins, winCostMicros: r.winCostMicros, clearingPriceMicros: r.clearingPriceMicros, spendMicros: r.spendMicros, impressions: r.impressions,
    });
  }
  const only = (sums: Sums, all: boolean): Sums => new Map([...sums].filter(([k]) => k.startsWith('*/') === all));
  checks.push(compareKeyed('requests per window: Postgres = distinct ids on the topic', ['requests'], only(expected, true), only(found, true), ''));
  checks.push(compareKeyed('bids per campaign and window: Postgres = first outcomes', ['bids'], expected, found, ' (all-request rows included)'));
  checks.push(compareKeyed('wins and cost per campaign and window: Postgres = first outcomes', ['wins', 'winCostMicros', 'clearingPriceMicros'], expected, found, ' (wins, cost and clearing price micros)'));

  // 4. the answered winner is the counted one.
  const wrong = [...o.winners].filter(([id, cid]) => first.get(id)?.wins[0]?.campaignId !== cid).map(([id]) => id);
  checks.push({
    name: '200 answers name the winner Postgres counts', expected: o.winners.size, found: o.winners.size - wrong.length, ok: wrong.length === 0,
    detail: wrong.length === 0 ? 'the first outcome copy is the one answered' : `differ: ${sample(wrong)}`,
  });

  // 5. notices.
  const topicEvents = new Set(o.tracking.map((t) => t.eventId));
  const ackedNotices = new Set(o.notices.filter((n) => isNoticeAcked(n.fate)).map((n) => n.eventId));
  const noticeMissing = [...ackedNotices].filter((id) => !topicEvents.has(id));
  checks.push({
    name: 'notices acknowledged (204, 200) are on the tracking topic', expected: ackedNotices.size, found: ackedNotices.size - noticeMissing.length, ok: noticeMissing.length === 0,
    detail: noticeMissing.length === 0 ? `${o.notices.length} notices sent (${o.notices.filter((n) => n.copy > 1).length} repeats)` : `missing: ${sample(noticeMissing)}`,
  });
  const sentEvents = new Set(o.notices.map((n) => n.eventId));
  const strayEvents = [...topicEvents].filter((id) => !sentEvents.has(id));
  const records = new Map<string, number>();
  for (const t of o.tracking) records.set(t.eventId, (records.get(t.eventId) ?? 0) + 1);
  const repeatedOnTopic = [...records.values()].filter((n) => n > 1).length;
  checks.push(compareKeyed(`spend per campaign and window: Postgres = distinct billing notices (${[...firstNotices.values()].filter((n) => n.type === 'BILLING').length} of ${o.tracking.filter((t) => t.type === 'BILLING').length} records)`,
    ['spendMicros'], only(expected, false), only(found, false), ''));
  checks.push(compareKeyed(`impressions per campaign and window: Postgres = distinct pixels (${[...firstNotices.values()].filter((n) => n.type === 'IMPRESSION').length} of ${o.tracking.filter((t) => t.type === 'IMPRESSION').length} records)`,
    ['impressions'], only(expected, false), only(found, false), ''));
  checks.push({
    name: 'repeated notices reached Kafka (so counting once was tested), none unknown', expected: 1, found: repeatedOnTopic, ok: repeatedOnTopic >= 1 && strayEvents.length === 0,
    detail: strayEvents.length > 0 ? `events the load never sent: ${sample(strayEvents)}` : `${repeatedOnTopic} event ids on the topic more than once; expected at least 1`,
  });
  return checks;
}
