/**
 * Scenario: the analytics half of the pipeline. On topics, consumer groups and campaign ids of this run:
 *   1. events/s through ONE aggregate instance over pre-filled outcomes + notices, next to the pass-through
 *      processor over the same outcomes (same runner, no logic) in the same run;
 *   2. records/s and window_counts rows/s of the sink applying the aggregate's output to Postgres;
 *   3. end-to-end delay (outcome produced -> its bids visible in window_counts) at fixed rates, open loop.
 * Then takes the run's parts back out of Postgres (also from the shared '*' rows), deletes its ledger,
 * sink_offsets and Redis de-duplication keys, topics, groups and subjects. Results go to
 * bench/results/<YYYY-MM-DD>-aggregate-sink.md and .json.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { pino } from 'pino';
import { PipelineError } from '../schemas/errors.js';
import { createLogger } from '../processors/runtime/logger.js';
import { loadConfig, postgresSpecs } from '../schemas/config.js';
import { postgresTls } from '../processors/runtime/postgres.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import type { TrackingEvent } from '../schemas/tracking-event.js';
import { WindowSums } from '../processors/aggregate/window.js';
import { FIELDS, makeTraffic, totals } from '../processors/aggregate/traffic-fixture.js';
import { cpuShares, postgresCpu, snapshotCpu, stackCpuSubjects } from './lib/cpu.js';
import { BATCH_SERIES, batchDelta, batchSeries, scrapeMetrics } from './lib/metrics-scrape.js';
import { loadAverage, median, ratio, RESULTS_DIR, resultHead, writeResults } from './lib/results.js';
import { RunTopics, stackConfig } from './lib/run-topics.js';
import { groupOf, STAGE_ENTRY, stageEnv } from './lib/stages.js';
import { guard, Services } from './lib/services.js';
import { cli, cpuArg, flag, listArg, numArg } from './lib/options.js';
import { groupLagProgress, ledgerByPartition, sinkDrainResult, sinkProgress, sinkSample, sinkTargets, watchDrain } from './lib/drain.js';
import { fixedRateDelay } from './lib/lag.js';
import { cleanupRun } from './lib/sink-cleanup.js';
import { aggregateSinkNotes, renderAggregateSink, type AggregateSinkReport, type Exactness, type ThroughputRun } from './lib/aggregate-sink-report.js';

const USAGE = `
node --import tsx bench/aggregate-sink.ts [--events 20000] [--repeat 3] [--rates 50,200] [--duration 15] [--partitions 12]
  [--cpu 1|none] [--max-batch N] [--sink-max-batch N] [--poll-ms 50] [--pg-poll-ms 100] [--settle 20]
  [--ready-timeout 60] [--drain-timeout 150] [--max-seconds 420] [--out bench/results]`;
const log = pino({ name: 'bench-aggregate-sink' }, pino.destination({ dest: 2, sync: true }));
const s = cli(USAGE, {
  events: flag('20000'), rates: flag('50,200'), duration: flag('15'), partitions: flag('12'), cpu: flag('1'), 'max-batch': flag(), 'sink-max-batch': flag(),
  repeat: flag('3'), 'poll-ms': flag('50'), 'pg-poll-ms': flag('100'), settle: flag('20'), 'ready-timeout': flag('60'), 'drain-timeout': flag('150'), 'max-seconds': flag('420'), out: flag(RESULTS_DIR),
}, (a) => {
  const int = (name: string, raw: string | undefined, min: number): number => numArg(name, raw, min, true);
  return {
    events: int('events', a.events, 2000), rates: listArg('rates', a.rates, 1, true), durationSec: int('duration', a.duration, 2),
    repeat: int('repeat', a.repeat, 1), partitions: int('partitions', a.partitions, 1), cpu: cpuArg('cpu', a.cpu),
    maxBatch: a['max-batch'] === undefined ? undefined : int('max-batch', a['max-batch'], 1),
    sinkMaxBatch: a['sink-max-batch'] === undefined ? undefined : int('sink-max-batch', a['sink-max-batch'], 1),
    pollMs: int('poll-ms', a['poll-ms'], 10), pgPollMs: int('pg-poll-ms', a['pg-poll-ms'], 10), settleMs: int('settle', a.settle, 1) * 1000,
    readyTimeoutMs: int('ready-timeout', a['ready-timeout'], 5) * 1000, drainTimeoutMs: int('drain-timeout', a['drain-timeout'], 10) * 1000,
    maxSeconds: int('max-seconds', a['max-seconds'], 60), out: a.out,
  };
});

const run = randomBytes(4).toString('hex');
const campPrefix = `bas-${run}`;
const T = { o: `bench-as-${run}-outcomes`, t: `bench-as-${run}-tracking`, w: `bench-as-${run}-window-counts`, copy: `bench-as-${run}-outcomes-copy`, copyT: `bench-as-${run}-tracking-copy` };
const names = { passthrough: `bench-as-${run}-pt`, aggregate: `bench-as-${run}-agg` };
const sinkGroup = `bench-as-${run}-sink`;
const pg = loadConfig(postgresSpecs);
const sql = postgres(pg.postgresUrl, { max: 2, onnotice: () => undefined, ...postgresTls(pg) });
const topics = new RunTopics(createLogger('bench-aggregate-sink', 'warn'), `bench-aggregate-sink-${run}`);
const services = new Services({ readyTimeoutMs: s.readyTimeoutMs, log });
const stackSubjects = stackCpuSubjects();
const EXTRA_SERIES = ['processor_records_out_total', 'aggregate_duplicate_notices_total', 'aggregate_late_records_total', 'processor_dead_letters_total'] as const;

/**
 * Deletes the sink's consumer group, retrying while the broker still counts a member (ERR_NON_EMPTY_GROUP:
 * seen right after a SIGTERM'd sink exited, until its session timed out).
 */
async function deleteSinkGroup(timeoutMs = 25_000): Promise<string> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await topics.admin.deleteGroups([sinkGroup]);
      return `deleted after ${attempt} attempt(s), ${((Date.now() - started) / 1000).toFixed(1)} s after the sink's process group was gone`;
    } catch (err) {
      const detail = JSON.stringify((err as { groups?: unknown }).groups ?? (err as Error).message);
      if (!detail.includes('NON_EMPTY') || Date.now() - started > timeoutMs) return `not deleted (${detail.slice(0, 200)})`;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** The pre-filled traffic: `calls` x makeTraffic (2000 outcomes each) with distinct prefixes and seeds. */
function traffic(now: number): { outcomes: AuctionOutcome[]; notices: TrackingEvent[]; calls: number } {
  const calls = Math.ceil(s.events / 2000);
  const outcomes: AuctionOutcome[] = [];
  const notices: TrackingEvent[] = [];
  for (let j = 0; j < calls; j++) {
    const t = makeTraffic(`${campPrefix}-k${j}`, now, j + 1);
    outcomes.push(...t.outcomes);
    notices.push(...t.notices);
  }
  const kept = outcomes.slice(0, s.events);
  const ids = new Set(kept.map((o) => o.requestId));
  return { outcomes: kept, notices: notices.filter((n) => ids.has(n.requestId)), calls };
}

/** One processor instance draining pre-filled `inputs`, then stopped. */
async function measureProcessor(label: ThroughputRun['label'], rep: number, inputs: string[], env: Record<string, string>, entry: string, group: string): Promise<ThroughputRun> {
  topics.track('group', group);
  const dl0 = await topics.deadLetterCount();
  const startedAt = performance.now();
  const name = `${label} #${rep + 1}`;
  try {
    const svc = await services.start(name, { entry, portVar: 'PROCESSOR_HTTP_PORT', env, cpu: s.cpu });
    const { perTopic, records, progress } = await groupLagProgress(topics.admin, group, inputs);
    // Metric deltas run from the first poll that saw progress (a batch committed before it falls outside) to the last.
    const { samples, ...watched } = await watchDrain({
      records, progress, subjects: { processor: { pgid: svc.target.pid }, ...stackSubjects }, startedAt, pollMs: s.pollMs, postgres: true,
      timeoutMs: s.drainTimeoutMs, failed: svc.failed, sample: () => scrapeMetrics(svc.url, [...BATCH_SERIES, ...EXTRA_SERIES]), moreHint: 'use more events',
    });
    await services.stop(name);
    const drain = { perTopic, ...watched };
    const [before, after] = [samples?.first ?? {}, samples?.last ?? {}];
    const extra = Object.fromEntries(EXTRA_SERIES.map((k) => [k, after[k] != null ? after[k]! - (before[k] ?? 0) : null]));
    return { label, rep, group, topics: inputs, drain, batches: batchDelta(label, before, after, drain.seconds), extra, deadLetters: Number((await topics.deadLetterCount()) - dl0), ...(drain.error ? { error: drain.error } : {}) };
  } catch (err) {
    return { label, rep, group, topics: inputs, drain: null, batches: null, extra: {}, deadLetters: 0, error: err instanceof Error ? err.message : String(err) };
  }
}

async function exactness(outcomes: readonly AuctionOutcome[], notices: readonly TrackingEvent[]): Promise<Exactness> {
  const expected = new WindowSums(60_000);
  for (const o of outcomes) expected.addOutcome(o);
  for (const n of notices) expected.addTracking(n);
  const want = new Map([...totals(expected.toRecords({ topic: 'x', partition: 0, firstOffset: '0', lastOffset: '0' }))].filter(([k]) => k.startsWith(`${campPrefix}-k`)));
  const rows = await sql<Array<Record<string, string>>>`
    select campaign_id, creative_id, window_start_ms::text, requests::text, bids::text, wins::text, win_cost_micros::text, spend_micros::text,
           clearing_price_micros::text, impressions::text, clicks::text, conversions::text
    from window_counts where campaign_id like ${`${campPrefix}-k%`} and window_ms = 60000`;
  const got = totals(rows.map((r) => ({
    campaignId: r.campaign_id!, creativeId: r.creative_id!, windowStartMs: Number(r.window_start_ms), windowMs: 60_000,
    requests: Number(r.requests), bids: Number(r.bids), wins: Number(r.wins), winCostMicros: Number(r.win_cost_micros), spendMicros: Number(r.spend_micros),
    clearingPriceMicros: Number(r.clearing_price_micros), impressions: Number(r.impressions), clicks: Number(r.clicks), conversions: Number(r.conversions),
    sourceTopic: '', sourcePartition: 0, firstOffset: 0, lastOffset: 0,
  })));
  const mismatches: string[] = [];
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!g) mismatches.push(`${k} missing`);
    else for (const fld of FIELDS) if (g[fld] !== w[fld]) mismatches.push(`${k} ${fld} ${g[fld]} != ${w[fld]}`);
  }
  for (const k of got.keys()) if (!want.has(k)) mismatches.push(`${k} unexpected`);
  return { expectedKeys: want.size, gotKeys: got.size, mismatches };
}

async function sharedRequests(): Promise<number | null> {
  const rows = await sql<Array<{ n: string }>>`select coalesce(sum(requests), 0)::text as n from window_counts where campaign_id = '*'`.catch(() => null);
  return rows?.[0] ? Number(rows[0].n) : null;
}

async function main(): Promise<void> {
  const report: AggregateSinkReport = {
    ...resultHead({ ...s, cpu: s.cpu ?? 'none', maxBatch: s.maxBatch ?? 'runner default (500)', sinkMaxBatch: s.sinkMaxBatch ?? 'sink default (2000)', run, campaignPrefix: campPrefix, topics: T, sinkGroup }),
    loadAvgEnd: [], traffic: { outcomes: 0, notices: 0, calls: 0, campaigns: 0, windowCountsRecords: null }, sharedRows: { before: await sharedRequests(), after: null },
    stops: services.stops, sinkGroupDeletion: 'not attempted', throughput: [], medians: null,
    ratio: { eventsPerSec: null, eventsPerCpuSec: null, sameEventsPerSec: null, sameEventsPerCpuSec: null }, sink: null, exactness: null, e2e: [], cleanup: null, notes: [],
  };
  const dog = guard(s.maxSeconds * 1000, log, async () => {
    await services.stopAll(); // every process group gone: cleaning Postgres under a sink still finishing would be unsafe
    report.cleanup = await cleanupRun(sql, stackConfig.redisUrl, { topic: T.w, group: sinkGroup, partitions: s.partitions, campaignPrefix: campPrefix, eventIdPrefix: `e-${campPrefix}-` });
    report.sharedRows.after = await sharedRequests();
    report.sinkGroupDeletion = await deleteSinkGroup();
    log.info({ sinkGroupDeletion: report.sinkGroupDeletion, cleanup: report.cleanup }, 'postgres, redis and the sink group cleaned');
    await topics.cleanup();
    await sql.end({ timeout: 5 }).catch(() => undefined);
  });
  await topics.connect();
  await dog.steps(async () => {
    dog.step('fill');
    for (const [topic, schema] of [[T.o, 'auction-outcome'], [T.t, 'tracking-event'], [T.w, 'window-count'], [T.copy, 'auction-outcome'], [T.copyT, 'tracking-event']]) {
      await topics.create(topic!, s.partitions, `${schema}.avsc`);
    }
    const { outcomes, notices, calls } = traffic(Date.now());
    report.traffic = { outcomes: outcomes.length, notices: notices.length, calls, campaigns: calls * 5, windowCountsRecords: null };
    await topics.fill(T.o, outcomes, (o) => o.requestId);
    await topics.fill(T.t, notices, (n) => n.requestId);
    log.info({ outcomes: outcomes.length, notices: notices.length }, 'inputs filled');

    // Each repetition: the pass-through over each input and the aggregate, alternating which goes first, each its own group.
    // Repetition 0's aggregate writes the window-counts topic the sink reads; later ones write topics of their own.
    const aggEnv = (rep: number, output: string): Record<string, string> => ({
      TOPIC_PARTITIONS: String(s.partitions), PROCESSOR_INSTANCE_ID: 'bench', PROCESSOR_HTTP_HOST: '127.0.0.1', ...(s.maxBatch ? { PROCESSOR_MAX_BATCH: String(s.maxBatch) } : {}),
      AGGREGATE_NAME: `${names.aggregate}-${rep}`, AGGREGATE_OUTCOMES: T.o, AGGREGATE_TRACKING: T.t, AGGREGATE_OUTPUT: output,
    });
    const passthrough = (label: ThroughputRun['label'], rep: number, input: string, output: string, schema: string): Promise<ThroughputRun> => {
      const name = `${names.passthrough}${label === 'passthrough' ? '' : '-t'}-${rep}`;
      const env = stageEnv('passthrough', { name, input, output, partitions: s.partitions, maxBatch: s.maxBatch, schema });
      return measureProcessor(label, rep, [input], env, STAGE_ENTRY.passthrough, groupOf(name));
    };
    for (let rep = 0; rep < s.repeat; rep++) {
      const order = ['passthrough', 'passthrough-tracking', 'aggregate'] as const;
      for (const which of rep % 2 === 0 ? order : [...order].reverse()) {
        dog.step(`${which} #${rep + 1}`);
        let m: ThroughputRun;
        if (which === 'passthrough') m = await passthrough(which, rep, T.o, T.copy, 'auction-outcome.avsc');
        else if (which === 'passthrough-tracking') m = await passthrough(which, rep, T.t, T.copyT, 'tracking-event.avsc');
        else {
          const output = rep === 0 ? T.w : `${T.w}-rep${rep}`;
          if (rep > 0) await topics.create(output, s.partitions, 'window-count.avsc');
          m = await measureProcessor('aggregate', rep, [T.o, T.t], aggEnv(rep, output), 'processors/aggregate/main.ts', groupOf(`${names.aggregate}-${rep}`));
        }
        report.throughput.push(m);
        log.info({ which, rep, eventsPerSec: m.drain?.recordsPerSec, error: m.error }, 'measured');
      }
    }
    const med = (label: string, k: 'recordsPerSec' | 'recordsPerCpuSec'): number | null => median(report.throughput.filter((t) => t.label === label && !t.error && t.drain).map((t) => t.drain![k]));
    const m = Object.fromEntries((['passthrough', 'passthrough-tracking', 'aggregate'] as const).map((l) => [l, { eventsPerSec: med(l, 'recordsPerSec'), eventsPerCpuSec: med(l, 'recordsPerCpuSec') }]));
    // The same events through the pass-through: the outcomes at its outcomes rate plus the notices at its notices rate.
    const [no, nt] = [report.traffic.outcomes, report.traffic.notices];
    const blend = (a: number | null | undefined, b: number | null | undefined): number | null => (a && b ? Math.round((no + nt) / (no / a + nt / b)) : null);
    const same = { eventsPerSec: blend(m.passthrough?.eventsPerSec, m['passthrough-tracking']?.eventsPerSec), eventsPerCpuSec: blend(m.passthrough?.eventsPerCpuSec, m['passthrough-tracking']?.eventsPerCpuSec) };
    report.medians = { ...m, 'passthrough-same-events': same } as NonNullable<AggregateSinkReport['medians']>;
    const agg = report.medians.aggregate;
    report.ratio = {
      eventsPerSec: ratio(agg.eventsPerSec, report.medians.passthrough.eventsPerSec), eventsPerCpuSec: ratio(agg.eventsPerCpuSec, report.medians.passthrough.eventsPerCpuSec),
      sameEventsPerSec: ratio(agg.eventsPerSec, same.eventsPerSec), sameEventsPerCpuSec: ratio(agg.eventsPerCpuSec, same.eventsPerCpuSec),
    };
    const agg0 = report.throughput.find((t) => t.label === 'aggregate' && t.rep === 0);
    if (!agg0 || agg0.error) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `aggregate failed, skipping the sink and end-to-end steps: ${agg0?.error}`);
    // Repetition 0's aggregate again (same group: it resumes at the end, idle) for the end-to-end step.
    dog.step('aggregate for the sink and end-to-end steps');
    const aggSvc = await services.start('aggregate', { entry: 'processors/aggregate/main.ts', portVar: 'PROCESSOR_HTTP_PORT', env: aggEnv(0, T.w), cpu: s.cpu });

    dog.step('sink');
    const dl0 = await topics.deadLetterCount();
    const targets = await sinkTargets(topics.admin, T.w);
    const sinkStartedAt = performance.now();
    // Watched from its first instruction, not started after /ready: it consumes before its HTTP server is up and, on a small topic, finishes first.
    const sink = await services.start('sink', {
      entry: 'sink/main.ts', portVar: 'SINK_HTTP_PORT', cpu: s.cpu, ready: 'watch',
      env: { SINK_INPUT: T.w, SINK_GROUP: sinkGroup, SINK_HTTP_HOST: '127.0.0.1', TOPIC_PARTITIONS: String(s.partitions), ...(s.sinkMaxBatch ? { SINK_MAX_BATCH: String(s.sinkMaxBatch) } : {}) },
    });
    const sd = sinkDrainResult(await watchDrain({
      ...sinkProgress(sql, sinkGroup, T.w, targets), sample: sinkSample(sql, T.w, sink.url), postgres: true, moreHint: 'use more events',
      subjects: { processor: { pgid: sink.target.pid }, ...stackSubjects }, startedAt: sinkStartedAt, pollMs: s.pollMs, timeoutMs: s.drainTimeoutMs, failed: sink.failed,
    }), targets);
    report.sink = { ...sd, deadLetters: Number((await topics.deadLetterCount()) - dl0), ledgerPartitions: await ledgerByPartition(sql, T.w) };
    report.traffic.windowCountsRecords = sd.ledgerAtEnd?.parts ?? null;
    log.info({ recordsPerSec: sd.recordsPerSec, rowsTouchedPerSec: sd.rowsTouchedPerSec, error: sd.error }, 'sink done');
    if (sd.error) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `sink failed, skipping the end-to-end step: ${sd.error}`);
    report.exactness = await exactness(outcomes, notices);
    log.info({ keys: report.exactness.gotKeys, mismatches: report.exactness.mismatches.length }, 'exactness checked');

    const subjects = { aggregate: { pgid: aggSvc.target.pid }, sink: { pgid: sink.target.pid }, ...stackSubjects };
    const scrape = async (): Promise<Array<Record<string, number | null>>> => Promise.all([scrapeMetrics(aggSvc.url, batchSeries()), scrapeMetrics(sink.url, batchSeries('sink'))]);
    for (const rate of s.rates) {
      dog.step(`e2e ${rate}/s`);
      const dead = aggSvc.failed() ?? sink.failed();
      if (dead) throw new PipelineError('DEPENDENCY_UNAVAILABLE', dead);
      const [m0, cpu0, pg0] = [await scrape(), snapshotCpu(subjects), postgresCpu()];
      const res = await fixedRateDelay({
        kafka: topics.kafka, codec: topics.codec, sql, topic: T.o, ledgerTopic: T.w, rate, durationSec: s.durationSec, campaignPrefix: `${campPrefix}-e${rate}`,
        pollMs: s.pgPollMs, settleMs: s.settleMs,
      }).catch((err: unknown) => {
        throw new PipelineError('DEPENDENCY_UNAVAILABLE', `end-to-end at ${rate}/s failed: ${(err as Error).message}`);
      });
      const [cpu1, pgSec, m1] = [snapshotCpu(subjects), postgresCpu().minus(pg0), await scrape()];
      const wall = (cpu1.at - cpu0.at) / 1000;
      const batches = { aggregate: batchDelta('aggregate', m0[0]!, m1[0]!, wall), sink: batchDelta('sink', m0[1]!, m1[1]!, wall, 'sink') };
      const postgresShare = pgSec !== null && wall > 0 ? Math.round((pgSec / wall) * 100) / 100 : null;
      report.e2e.push({ ...res, cpuShares: cpuShares(cpu0, cpu1), postgresShare, batches });
      log.info({ rate, delayMs: res.delayMs, visible: res.secondsVisible }, 'e2e rate done');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }, report.notes);
  report.loadAvgEnd = loadAverage();
  report.notes.unshift(...aggregateSinkNotes(report, s.pgPollMs));
  const files = await writeResults(s.out, 'aggregate-sink', report, renderAggregateSink(report));
  const sink = report.sink && 'seconds' in report.sink ? { recordsPerSec: report.sink.recordsPerSec, rowsTouchedPerSec: report.sink.rowsTouchedPerSec } : report.sink;
  process.stdout.write(`${JSON.stringify({ files, ratio: report.ratio, aggregate: report.throughput.map((t) => [t.label, t.drain?.recordsPerSec]), sink, e2e: report.e2e.map((e) => ({ rate: e.rate, delayMs: e.delayMs })) })}\n`);
}

main().catch((err: unknown) => {
  log.error({ err }, 'aggregate-sink scenario failed');
  process.exitCode = 2;
});
