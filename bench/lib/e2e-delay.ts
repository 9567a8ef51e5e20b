/**
 * End-to-end delay, auction outcome produced -> its counts visible in Postgres, at a fixed rate, with the
 * aggregate and the sink running. An open-loop producer writes outcomes on a fixed schedule (event i at
 * t0 + i/rate, whatever happened before; `receivedAtMs` = the wall clock at the send). Each second's
 * events bid for a campaign of their own, `<prefix>-s<second>`, so one number says when that second is
 * complete in Postgres: a poller (every `pollMs`) reads `select campaign_id, sum(bids) from window_counts
 * where campaign_id like '<prefix>-%' group by campaign_id` (intervals jittered around `pollMs`), and the second's delay is from the SCHEDULED
 * time of its last event to the first poll that sees its full bid count (the query's midpoint: the row
 * became visible between the previous poll and this one, so the delay is quantised to the poll interval;
 * `lowerMs` gives the previous poll's time instead, a lower bound).
 */
import type { Kafka } from '../../processors/runtime/kafka.js';
import type { Sql } from '../../schemas/postgres/migrate.js';
import type { AvroCodec } from '../../schemas/codec.js';
import { subjectFor } from '../../schemas/topics.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import { percentiles, type Percentiles } from './results.js';
import { cpuShares, postgresCpu, snapshotCpu, type CpuSubject } from './cpu.js';

import { batchDelta, batchSeries, scrapeMetrics, type BatchStats } from './metrics-scrape.js';

async function scrapeBatches(urls: Readonly<Record<'aggregate' | 'sink', string>>): Promise<Record<'aggregate' | 'sink', Record<string, number | null>>> {
  const [aggregate, sink] = await Promise.all([scrapeMetrics(urls.aggregate, batchSeries('processor')), scrapeMetrics(urls.sink, batchSeries('sink'))]);
  return { aggregate, sink };
}

export interface FixedRateOptions {
  kafka: Kafka;
  codec: AvroCodec;
  sql: Sql;
  topic: string;
  rate: number;
  durationSec: number;
  /** Campaign ids are `<campaignPrefix>-s<second>`; request ids `<campaignPrefix>-<seq>`. */
  campaignPrefix: string;
  pollMs: number;
  /** How long after the last scheduled event to keep polling for seconds not yet complete. */
  settleMs: number;
  subjects: Readonly<Record<string, CpuSubject>>;
  /** The window-counts topic the sink reads: its ledger rows give a poll-independent breakdown. */
  ledgerTopic: string;
  /** Base URLs of the aggregate's and the sink's /metrics, for their batch timings during the run. */
  metricsUrls: Readonly<Record<'aggregate' | 'sink', string>>;
}

export interface FixedRateResult {
  rate: number;
  durationSec: number;
  produced: number;
  sendErrors: number;
  /** How late the producer fired relative to the schedule (ms). */
  sendLagMs: Percentiles | null;
  /** Send -> broker ack (idempotent, acks=all, linger 2 ms, like the edge). */
  ackMs: Percentiles | null;
  secondsTotal: number;
  secondsVisible: number;
  /** Seconds whose bid count went past the expected count (should never happen: counted twice). */
  overcounted: string[];
  /** Seconds never complete within the settle time, with what Postgres held. */
  missing: string[];
  delayMs: Percentiles | null;
  lowerMs: Percentiles | null;
  /**
   * Per second, from the ledger (independent of the poll): last event sent (wall clock) -> the Kafka
   * timestamp of the last window-counts record of that campaign (the aggregate's output, stamped when its
   * transaction produced it) -> the start of the sink transaction that applied it (applied_at = now() of
   * that transaction); `ledger` is the sum, a lower bound of visibility by the commit's duration.
   */
  hops: { aggregate: Percentiles | null; sink: Percentiles | null; ledger: Percentiles | null };
  /** Both services' batches during the run (the sink's include its Postgres transaction; the aggregate's its Kafka transaction). */
  batches: Record<'aggregate' | 'sink', BatchStats>;
  polls: number;
  meanPollQueryMs: number | null;
  cpuShares: Record<string, number | null>;
  postgresShare: number | null;
  error?: string;
}

function outcome(prefix: string, seq: number, campaign: string, nowMs: number): AuctionOutcome {
  const clearing = 1_000_000 + (seq % 1000) * 1000;
  return {
    requestId: `${prefix}-${seq}`, userId: null, at: 2, test: false, receivedAtMs: nowMs, decidedAtMs: nowMs, impCount: 1,
    bids: [{ impId: '1', campaignId: campaign, creativeId: `${campaign}-cr`, priceMicros: clearing + 1 }],
    wins: [{
      impId: '1', campaignId: campaign, advertiserId: 'bench', creativeId: `${campaign}-cr`, bidPriceMicros: clearing + 1, clearingPriceMicros: clearing,
      costMicros: Math.floor(clearing / 1000), adomain: [], w: 300, h: 250, dayKey: 'd', title: '', imageUrl: '', landingUrl: '',
    }],
    noBidReason: null, nbr: null,
  };
}

const r1 = (v: number): number => Math.round(v * 10) / 10;

export async function runFixedRate(o: FixedRateOptions): Promise<FixedRateResult> {
  if (!Number.isInteger(o.rate) || o.rate < 1) throw new Error(`rate must be a positive integer, got ${o.rate}`);
  const total = o.rate * o.durationSec;
  const subject = subjectFor(o.topic);
  const producer = o.kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 2, 'compression.codec': 'lz4' });
  await producer.connect();
  const like = `${o.campaignPrefix}-s%`;
  const campaignOf = (s: number): string => `${o.campaignPrefix}-s${s}`;
  const seconds = o.durationSec;
  const t0 = performance.now() + 300;
  const sched = (i: number): number => t0 + (i * 1000) / o.rate;
  const lastOf = (s: number): number => sched((s + 1) * o.rate - 1);
  const sendLag: number[] = [];
  const acks: number[] = [];
  const lastSentEpoch = new Map<number, number>();
  let sendErrors = 0;
  let firstError: string | undefined;
  const pending = new Set<Promise<void>>();
  const seenAt = new Map<number, { at: number; prev: number }>();
  const over = new Map<number, number>();
  let latest = new Map<string, number>();
  let polls = 0;
  let pollQueryMs = 0;
  const m0 = await scrapeBatches(o.metricsUrls);
  const cpu0 = snapshotCpu(o.subjects);
  const pg0 = postgresCpu();

  // The poller runs from the first send until every second is complete or the settle time ran out.
  const pollUntil = sched(total - 1) + o.settleMs;
  const poller = (async () => {
    let prev = performance.now();
    while (seenAt.size < seconds && performance.now() < pollUntil) {
      const sentAt = performance.now();
      const rows = await o.sql<Array<{ campaign_id: string; bids: string }>>`
        select campaign_id, sum(bids)::text as bids from window_counts where campaign_id like ${like} group by campaign_id`;
      const done = performance.now();
      const at = (sentAt + done) / 2;
      polls++;
      pollQueryMs += done - sentAt;
      latest = new Map(rows.map((r) => [r.campaign_id, Number(r.bids)]));
      for (let s = 0; s < seconds; s++) {
        if (seenAt.has(s)) continue;
        const bids = latest.get(campaignOf(s)) ?? 0;
        if (bids > o.rate) over.set(s, bids);
        // Only once its last event was due: a partial second cannot reach the full count anyway.
        if (bids >= o.rate && sentAt >= lastOf(s)) seenAt.set(s, { at, prev });
      }
      prev = at;
      // Intervals uniform in [0.5, 1.5] x pollMs (mean pollMs): a fixed 100 ms period is phase-locked to the
      // 1-second campaigns, so every second would be sampled at the same offset after its last event.
      const interval = o.pollMs * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, Math.max(0, interval - (performance.now() - sentAt))));
    }
  })();

  // The open-loop producer: every wake-up sends all events that are due, never waiting for acks.
  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && sched(next) <= now) {
      const i = next++;
      const s = Math.floor(i / o.rate);
      const lag = performance.now() - sched(i);
      sendLag.push(r1(lag));
      const sentAt = performance.now();
      const nowMs = Date.now();
      if (i % o.rate === o.rate - 1) lastSentEpoch.set(s, nowMs);
      const value = o.codec.encode(subject, outcome(o.campaignPrefix, i, campaignOf(s), nowMs));
      const p = producer.send({ topic: o.topic, messages: [{ key: `${o.campaignPrefix}-${i}`, value }] }).then(
        () => void acks.push(r1(performance.now() - sentAt)),
        (err: unknown) => {
          sendErrors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        },
      );
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    const wait = next < total ? Math.max(0, sched(next) - performance.now()) : 0;
    await new Promise((r) => setTimeout(r, Math.min(wait, 20)));
  }
  await Promise.all(pending);
  await producer.disconnect().catch(() => undefined);
  await poller;
  const cpu1 = snapshotCpu(o.subjects);
  const m1 = await scrapeBatches(o.metricsUrls);
  const pgSec = postgresCpu().minus(pg0);
  const wall = (cpu1.at - cpu0.at) / 1000;

  const delays: number[] = [];
  const lowers: number[] = [];
  for (const [s, { at, prev }] of seenAt) {
    delays.push(r1(at - lastOf(s)));
    lowers.push(r1(Math.max(0, prev - lastOf(s))));
  }
  const hops = { aggregate: [] as number[], sink: [] as number[], ledger: [] as number[] };
  const ledger = await o.sql<Array<{ campaign_id: string; wc_ts: string; applied_ms: string }>>`
    select campaign_id, max(wc_timestamp_ms)::text as wc_ts, (extract(epoch from max(applied_at)) * 1000)::text as applied_ms
    from window_count_parts where wc_topic = ${o.ledgerTopic} and campaign_id like ${like} group by campaign_id`;
  for (const row of ledger) {
    const sec = Number(/-s(\d+)$/.exec(row.campaign_id)?.[1]);
    const sent = lastSentEpoch.get(sec);
    if (sent === undefined || !seenAt.has(sec)) continue;
    const wc = Number(row.wc_ts);
    const applied = Number(row.applied_ms);
    hops.aggregate.push(r1(wc - sent));
    hops.sink.push(r1(applied - wc));
    hops.ledger.push(r1(applied - sent));
  }
  const missing: string[] = [];
  for (let s = 0; s < seconds; s++) if (!seenAt.has(s)) missing.push(`${campaignOf(s)}: ${latest.get(campaignOf(s)) ?? 0}/${o.rate} bids`);
  return {
    rate: o.rate, durationSec: o.durationSec, produced: acks.length, sendErrors,
    sendLagMs: percentiles(sendLag), ackMs: percentiles(acks),
    secondsTotal: seconds, secondsVisible: seenAt.size,
    overcounted: [...over].map(([s, b]) => `${campaignOf(s)}: ${b}/${o.rate} bids`), missing,
    delayMs: percentiles(delays), lowerMs: percentiles(lowers),
    hops: { aggregate: percentiles(hops.aggregate), sink: percentiles(hops.sink), ledger: percentiles(hops.ledger) },
    batches: { aggregate: batchDelta('aggregate', m0.aggregate, m1.aggregate, wall), sink: batchDelta('sink', m0.sink, m1.sink, wall, 'sink') },
    polls, meanPollQueryMs: polls ? r1(pollQueryMs / polls) : null,
    cpuShares: cpuShares(cpu0, cpu1), postgresShare: pgSec !== null && wall > 0 ? Math.round((pgSec / wall) * 100) / 100 : null,
    ...(firstError ? { error: `${sendErrors} sends failed, first: ${firstError}` } : {}),
  };
}
