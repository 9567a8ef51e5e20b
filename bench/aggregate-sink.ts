/**
 * Scenario: the analytics half of the pipeline. On topics, consumer groups and campaign ids of this run:
 *   1. events/s through ONE aggregate instance over pre-filled outcomes + notices, next to the pass-through
 *      processor over the same outcomes (same runner, no logic) in the same run;
 *   2. records/s and window_counts rows/s of the sink applying the aggregate's output to Postgres;
 *   3. end-to-end delay (outcome produced -> its bids visible in window_counts) at fixed rates, open loop.
 * Then takes the run's parts back out of Postgres (also from the shared '*' rows), deletes its ledger,
 * sink_offsets and Redis de-duplication keys, topics, groups and subjects. Results go to
 * bench/results/<YYYY-MM-DD>-aggregate-sink.md and .json.
 *
 *   node --import tsx bench/aggregate-sink.ts [--events 20000] [--repeat 3] [--rates 50,200] [--duration 15] [--partitions 12]
 *     [--cpu 1|none] [--max-batch N] [--sink-max-batch N] [--poll-ms 50] [--pg-poll-ms 100] [--settle 20]
 *     [--ready-timeout 60] [--drain-timeout 150] [--max-seconds 420]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
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
import { freePort, hasTaskset, startService, startTarget, waitReady, type Service } from './lib/child.js';
import { stackCpuSubjects, type CpuSubject } from './lib/cpu.js';
import { BATCH_SERIES, batchDelta, scrapeMetrics } from './lib/metrics-scrape.js';
import { codeVersion, commandLine, machineInfo, percent as pct } from './lib/report.js';
import { RunTopics, stackConfig } from './lib/run-topics.js';
import { groupOf, STAGE_ENTRY, stageEnv } from './lib/stages.js';
import { startWatchdog } from './lib/watchdog.js';
import { numArg } from './lib/options.js';
import { groupLagProgress, watchDrain, type GroupDrainResult } from './lib/drain-watch.js';
import { ledgerByPartition, sinkTargets, watchSinkDrain } from './lib/sink-drain.js';
import { runFixedRate, type FixedRateResult } from './lib/e2e-delay.js';
import { cleanupRun, type CleanupResult } from './lib/sink-cleanup.js';
import { median } from './lib/processors-report.js';
import { writeAggregateSinkReport, type AggregateSinkReport, type Exactness, type ThroughputRun } from './lib/aggregate-sink-report.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const log = pino({ name: 'bench-aggregate-sink' }, pino.destination({ dest: 2, sync: true }));

const { values: a } = parseArgs({
  strict: true,
  options: {
    events: { type: 'string', default: '20000' }, rates: { type: 'string', default: '50,200' }, duration: { type: 'string', default: '15' },
    partitions: { type: 'string', default: '12' }, cpu: { type: 'string', default: '1' }, 'max-batch': { type: 'string' }, 'sink-max-batch': { type: 'string' },
    repeat: { type: 'string', default: '3' }, 'poll-ms': { type: 'string', default: '50' }, 'pg-poll-ms': { type: 'string', default: '100' }, settle: { type: 'string', default: '20' },
    'ready-timeout': { type: 'string', default: '60' }, 'drain-timeout': { type: 'string', default: '150' }, 'max-seconds': { type: 'string', default: '420' },
  },
});
const int = (name: string, raw: string | undefined, min: number): number => numArg(name, raw, min, true);
const s = {
  events: int('events', a.events, 2000), rates: a.rates.split(',').map((r) => int('rates', r, 1)), durationSec: int('duration', a.duration, 2),
  repeat: int('repeat', a.repeat, 1), partitions: int('partitions', a.partitions, 1), cpu: a.cpu === 'none' ? undefined : int('cpu', a.cpu, 0),
  maxBatch: a['max-batch'] === undefined ? undefined : int('max-batch', a['max-batch'], 1),
  sinkMaxBatch: a['sink-max-batch'] === undefined ? undefined : int('sink-max-batch', a['sink-max-batch'], 1),
  pollMs: int('poll-ms', a['poll-ms'], 10), pgPollMs: int('pg-poll-ms', a['pg-poll-ms'], 10), settleMs: int('settle', a.settle, 1) * 1000,
  readyTimeoutMs: int('ready-timeout', a['ready-timeout'], 5) * 1000, drainTimeoutMs: int('drain-timeout', a['drain-timeout'], 10) * 1000,
  maxSeconds: int('max-seconds', a['max-seconds'], 60),
};

const run = randomBytes(4).toString('hex');
const campPrefix = `bas-${run}`;
const T = { o: `bench-as-${run}-outcomes`, t: `bench-as-${run}-tracking`, w: `bench-as-${run}-window-counts`, copy: `bench-as-${run}-outcomes-copy`, copyT: `bench-as-${run}-tracking-copy` };
const names = { passthrough: `bench-as-${run}-pt`, aggregate: `bench-as-${run}-agg` };
const sinkGroup = `bench-as-${run}-sink`;
const pg = loadConfig(postgresSpecs);
const sql = postgres(pg.postgresUrl, { max: 2, onnotice: () => undefined, ...postgresTls(pg) });
const topics = new RunTopics(createLogger('bench-aggregate-sink', 'warn'), `bench-aggregate-sink-${run}`);
const running = new Map<string, Service>();
const stackSubjects = stackCpuSubjects();
const EXTRA_SERIES = ['processor_records_out_total', 'aggregate_duplicate_notices_total', 'aggregate_late_records_total', 'processor_dead_letters_total'] as const;

/** Fails after `ms` instead of waiting for the watchdog (a producer that never gets its acks retries for minutes). */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new PipelineError('DEPENDENCY_UNAVAILABLE', `${what} did not finish within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function start(label: string, entry: string, portVar: string, env: Record<string, string>): Promise<Service> {
  log.info({ label, entry }, 'starting');
  const svc = await startService(entry, portVar, env, { cpu: s.cpu, cwd: ROOT, readyTimeoutMs: s.readyTimeoutMs });
  running.set(label, svc);
  return svc;
}

/**
 * Starts a service WITHOUT waiting for /ready first, so a measurement can watch it from its first instruction:
 * the sink starts consuming before its HTTP server is up and, on a small topic, finishes before /ready answers.
 */
async function startWatched(label: string, entry: string, portVar: string, env: Record<string, string>): Promise<{ svc: Service; notReady: () => string | undefined }> {
  log.info({ label, entry }, 'starting (watched from the start)');
  const port = await freePort();
  const command = `${process.execPath} --import tsx ${entry}`;
  const target = startTarget(command, { cpu: s.cpu, cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env, [portVar]: String(port) } });
  const svc: Service = { target, url: `http://127.0.0.1:${port}`, command };
  running.set(label, svc);
  let failure: string | undefined;
  waitReady(target, `${svc.url}/ready`, s.readyTimeoutMs).catch((err: unknown) => (failure = `${label} never ready: ${(err as Error).message}`));
  return { svc, notReady: () => failure };
}

function exitWatch(label: string, svc: Service): () => string | undefined {
  let exit: string | undefined;
  void svc.target.exited.then((code) => (exit = `${label} exited (${code}) during the run: ${svc.target.output().slice(-1500)}`));
  return () => exit;
}

/** How long each stopped service's whole process group took to disappear after SIGTERM (null: SIGKILLed after 35 s). */
const stops: Array<{ label: string; goneAfterMs: number | null }> = [];

async function stopService(label: string, svc: Service): Promise<void> {
  const t0 = performance.now();
  // stop() waits for the whole group: cleaning Postgres under a sink still finishing would be unsafe.
  const graceful = await svc.target.stop();
  stops.push({ label, goneAfterMs: graceful ? Math.round(performance.now() - t0) : null });
  running.delete(label);
}

async function stopAll(): Promise<void> {
  await Promise.all([...running].map(([label, svc]) => stopService(label, svc)));
}

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
  let before: Record<string, number | null> = {};
  try {
    const svc = await start(`${label} #${rep + 1}`, entry, 'PROCESSOR_HTTP_PORT', env);
    const series = [...BATCH_SERIES, ...EXTRA_SERIES];
    const { perTopic, records, progress } = await groupLagProgress(topics.admin, group, inputs);
    const drain: GroupDrainResult = {
      perTopic,
      ...(await watchDrain({
        records, progress, subjects: { processor: { pgid: svc.target.pid }, ...stackSubjects }, startedAt, pollMs: s.pollMs, postgres: true,
        timeoutMs: s.drainTimeoutMs, failed: exitWatch(label, svc), onFirst: async () => void (before = await scrapeMetrics(svc.url, series)),
        moreHint: 'use more events',
      })),
    };
    const after = await scrapeMetrics(svc.url, series);
    await stopService(`${label} #${rep + 1}`, svc);
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

function notes(r: AggregateSinkReport): string[] {
  const n: string[] = [];
  if (!r.machine.pinned) n.push('taskset is not available: nothing was pinned.');
  if (r.machine.loadAvg[0]! > r.machine.nproc) n.push(`The 1-minute load average at the start (${r.machine.loadAvg[0]}) exceeded the ${r.machine.nproc} cores: other work competed for the CPU; compare the ratio, not absolute rates.`);
  for (const t of r.throughput) {
    const d = t.drain;
    if ((d?.machineBusy ?? 0) > 0.9) n.push(`${t.label} #${t.rep + 1}: the machine was ${pct(d?.machineBusy)} busy during the measurement: the rate is bounded by the shared cores.`);
    if (t.deadLetters > 0) n.push(`${t.label} #${t.rep + 1}: the dead-letter topic gained ${t.deadLetters} records during the run (topic-wide).`);
    for (const k of ['aggregate_duplicate_notices_total', 'aggregate_late_records_total'] as const) if ((t.extra[k] ?? 0) > 0) n.push(`${t.label} #${t.rep + 1}: ${k} rose by ${t.extra[k]} (the inputs hold no duplicates or late notices).`);
  }
  const sk = r.sink && 'seconds' in r.sink ? r.sink : null;
  if (sk && (sk.machineBusy ?? 0) > 0.9) n.push(`sink: the machine was ${pct(sk.machineBusy)} busy during the measurement.`);
  if (sk && sk.metrics.sink_rows_written_total != null && sk.ledgerAtEnd && sk.ledgerAtStart) {
    const ledger = sk.ledgerAtEnd.touched - sk.ledgerAtStart.touched;
    if (Math.abs(ledger - sk.metrics.sink_rows_written_total) > Math.max(5, ledger * 0.05)) n.push(`sink: rows touched per the ledger (${ledger}) and sink_rows_written_total (${sk.metrics.sink_rows_written_total}) differ by more than 5% over the window (the metric scrape and the ledger count are taken a few ms apart).`);
  }
  if (r.exactness && r.exactness.mismatches.length > 0) n.push(`Postgres totals differ from the inputs' totals on ${r.exactness.mismatches.length} keys.`);
  const killed = r.stops.filter((e) => e.goneAfterMs === null);
  if (killed.length) n.push(`Services still running 35 s after SIGTERM (then SIGKILLed): ${killed.map((e) => e.label).join(', ')}.`);
  if (!r.sinkGroupDeletion.startsWith('deleted after 1 ')) n.push(`Sink consumer group: ${r.sinkGroupDeletion}.`);
  if (r.sharedRows.before !== null && r.sharedRows.after !== null && r.sharedRows.before !== r.sharedRows.after) {
    n.push(`The shared '*' rows' requests went from ${r.sharedRows.before} to ${r.sharedRows.after} across the run: either something else wrote to window_counts meanwhile or the take-back missed parts.`);
  }
  for (const e of r.e2e) {
    if (e.delayMs && e.delayMs.p50 <= s.pgPollMs) n.push(`${e.rate}/s: the median delay (${e.delayMs.p50} ms) is within one poll interval (${s.pgPollMs} ms): below that the figure mostly reflects where the poll fell, not the pipeline (true delay lies between the lower bound and the figure).`);
    if (e.sendLagMs && e.sendLagMs.p99 > 20) n.push(`${e.rate}/s: the producer fired up to ${e.sendLagMs.max} ms late (p99 ${e.sendLagMs.p99} ms): the bench process was starved; delays are still from the scheduled times.`);
    if ((e.cpuShares.machine ?? 0) > 0.9) n.push(`${e.rate}/s: the machine was ${pct(e.cpuShares.machine)} busy during the run.`);
  }
  return n;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const machine = machineInfo(hasTaskset());
  const code = codeVersion(ROOT);
  const command = commandLine();
  let cleanup: CleanupResult | null = null;
  let cleaned = false;
  let sharedAfter: number | null = null;
  let sinkGroupDeletion = 'not attempted';
  const doCleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await stopAll();
    cleanup = await cleanupRun(sql, stackConfig.redisUrl, { topic: T.w, group: sinkGroup, partitions: s.partitions, campaignPrefix: campPrefix, eventIdPrefix: `e-${campPrefix}-` });
    sharedAfter = await sharedRequests();
    sinkGroupDeletion = await deleteSinkGroup();
    log.info({ sinkGroupDeletion }, 'sink group');
    log.info({ cleanup }, 'postgres and redis cleaned');
    await topics.cleanup();
    await sql.end({ timeout: 5 }).catch(() => undefined);
  };
  const onSignal = (): void => void doCleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const dog = startWatchdog(s.maxSeconds * 1000, log, doCleanup);
  const report: AggregateSinkReport = {
    date, machine, loadAvgEnd: [], command,
    settings: { ...s, cpu: s.cpu ?? 'none', maxBatch: s.maxBatch ?? 'runner default (500)', sinkMaxBatch: s.sinkMaxBatch ?? 'sink default (2000)', code, run, campaignPrefix: campPrefix, topics: T, sinkGroup },
    traffic: { outcomes: 0, notices: 0, calls: 0, campaigns: 0, windowCountsRecords: null },
    sharedRows: { before: await sharedRequests(), after: null },
    stops: [], sinkGroupDeletion: '',
    throughput: [], medians: null, ratio: { eventsPerSec: null, eventsPerCpuSec: null, sameEventsPerSec: null, sameEventsPerCpuSec: null }, sink: null, exactness: null, e2e: [], cleanup: null, notes: [],
  };
  await topics.connect();
  try {
    dog.step('fill');
    await topics.create(T.o, s.partitions, 'auction-outcome.avsc');
    await topics.create(T.t, s.partitions, 'tracking-event.avsc');
    await topics.create(T.w, s.partitions, 'window-count.avsc');
    await topics.create(T.copy, s.partitions, 'auction-outcome.avsc');
    await topics.create(T.copyT, s.partitions, 'tracking-event.avsc');
    const { outcomes, notices, calls } = traffic(Date.now());
    report.traffic = { outcomes: outcomes.length, notices: notices.length, calls, campaigns: calls * 5, windowCountsRecords: null };
    await bounded(topics.fill(T.o, outcomes, (o) => o.requestId), 90_000, `filling ${T.o}`);
    await bounded(topics.fill(T.t, notices, (n) => n.requestId), 90_000, `filling ${T.t}`);
    log.info({ outcomes: outcomes.length, notices: notices.length }, 'inputs filled');

    const common = { TOPIC_PARTITIONS: String(s.partitions), PROCESSOR_INSTANCE_ID: 'bench', PROCESSOR_HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...(s.maxBatch ? { PROCESSOR_MAX_BATCH: String(s.maxBatch) } : {}) };
    // Each repetition: the pass-through and the aggregate, alternating which goes first, each its own group.
    // Repetition 0's aggregate writes the window-counts topic the sink reads; later ones write topics of their own.
    const aggEnv = (rep: number, output: string): Record<string, string> =>
      ({ ...common, AGGREGATE_NAME: `${names.aggregate}-${rep}`, AGGREGATE_OUTCOMES: T.o, AGGREGATE_TRACKING: T.t, AGGREGATE_OUTPUT: output });
    for (let rep = 0; rep < s.repeat; rep++) {
      const order = ['passthrough', 'passthrough-tracking', 'aggregate'] as const;
      for (const which of rep % 2 === 0 ? order : [...order].reverse()) {
        dog.step(`${which} #${rep + 1}`);
        let m: ThroughputRun;
        if (which === 'passthrough') {
          const name = `${names.passthrough}-${rep}`;
          m = await measureProcessor('passthrough', rep, [T.o],
            stageEnv('passthrough', { name, input: T.o, output: T.copy, partitions: s.partitions, maxBatch: s.maxBatch, schema: 'auction-outcome.avsc' }),
            STAGE_ENTRY.passthrough, groupOf(name));
        } else if (which === 'passthrough-tracking') {
          const name = `${names.passthrough}-t-${rep}`;
          m = await measureProcessor('passthrough-tracking', rep, [T.t],
            stageEnv('passthrough', { name, input: T.t, output: T.copyT, partitions: s.partitions, maxBatch: s.maxBatch, schema: 'tracking-event.avsc' }),
            STAGE_ENTRY.passthrough, groupOf(name));
        } else {
          const output = rep === 0 ? T.w : `${T.w}-rep${rep}`;
          if (rep > 0) await topics.create(output, s.partitions, 'window-count.avsc');
          m = await measureProcessor('aggregate', rep, [T.o, T.t], aggEnv(rep, output), 'processors/aggregate/main.ts', groupOf(`${names.aggregate}-${rep}`));
        }
        report.throughput.push(m);
        log.info({ which, rep, eventsPerSec: m.drain?.recordsPerSec, error: m.error }, 'measured');
      }
    }
    const med = (label: string, f: (d: GroupDrainResult) => number | null): number | null =>
      median(report.throughput.filter((t) => t.label === label && !t.error && t.drain).map((t) => f(t.drain!)));
    const r3 = (x: number | null, y: number | null): number | null => (x != null && y ? Math.round((x / y) * 1000) / 1000 : null);
    const m = {
      passthrough: { eventsPerSec: med('passthrough', (d) => d.recordsPerSec), eventsPerCpuSec: med('passthrough', (d) => d.recordsPerCpuSec) },
      'passthrough-tracking': { eventsPerSec: med('passthrough-tracking', (d) => d.recordsPerSec), eventsPerCpuSec: med('passthrough-tracking', (d) => d.recordsPerCpuSec) },
      aggregate: { eventsPerSec: med('aggregate', (d) => d.recordsPerSec), eventsPerCpuSec: med('aggregate', (d) => d.recordsPerCpuSec) },
    };
    // The same events through the pass-through: the outcomes at its outcomes rate plus the notices at its notices rate.
    const [no, nt] = [report.traffic.outcomes, report.traffic.notices];
    const blend = (a: number | null, b: number | null): number | null => (a && b ? Math.round((no + nt) / (no / a + nt / b)) : null);
    report.medians = { ...m, 'passthrough-same-events': {
      eventsPerSec: blend(m.passthrough.eventsPerSec, m['passthrough-tracking'].eventsPerSec),
      eventsPerCpuSec: blend(m.passthrough.eventsPerCpuSec, m['passthrough-tracking'].eventsPerCpuSec),
    } };
    report.ratio = {
      eventsPerSec: r3(m.aggregate.eventsPerSec, m.passthrough.eventsPerSec),
      eventsPerCpuSec: r3(m.aggregate.eventsPerCpuSec, m.passthrough.eventsPerCpuSec),
      sameEventsPerSec: r3(m.aggregate.eventsPerSec, report.medians['passthrough-same-events'].eventsPerSec),
      sameEventsPerCpuSec: r3(m.aggregate.eventsPerCpuSec, report.medians['passthrough-same-events'].eventsPerCpuSec),
    };
    const agg0 = report.throughput.find((t) => t.label === 'aggregate' && t.rep === 0);
    if (!agg0 || agg0.error) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `aggregate failed, skipping the sink and end-to-end steps: ${agg0?.error}`);
    // Repetition 0's aggregate again (same group: it resumes at the end, idle) for the end-to-end step.
    dog.step('aggregate for the sink and end-to-end steps');
    const aggSvc = await start('aggregate', 'processors/aggregate/main.ts', 'PROCESSOR_HTTP_PORT', aggEnv(0, T.w));

    dog.step('sink');
    const dl0 = await topics.deadLetterCount();
    const targets = await sinkTargets(topics.admin, stackConfig.kafkaBrokers, T.w);
    const sinkStartedAt = performance.now();
    const { svc: sink, notReady } = await startWatched('sink', 'sink/main.ts', 'SINK_HTTP_PORT', {
      SINK_INPUT: T.w, SINK_GROUP: sinkGroup, SINK_HTTP_HOST: '127.0.0.1', TOPIC_PARTITIONS: String(s.partitions), LOG_LEVEL: 'warn',
      ...(s.sinkMaxBatch ? { SINK_MAX_BATCH: String(s.sinkMaxBatch) } : {}),
    });
    const sinkExited = exitWatch('sink', sink);
    const sinkFailed = (): string | undefined => sinkExited() ?? notReady();
    const sd = await watchSinkDrain({
      sql, admin: topics.admin, brokers: stackConfig.kafkaBrokers, group: sinkGroup, topic: T.w, metricsUrl: sink.url,
      subjects: { processor: { pgid: sink.target.pid }, ...stackSubjects }, startedAt: sinkStartedAt, pollMs: s.pollMs, timeoutMs: s.drainTimeoutMs, failed: sinkFailed,
    }, targets);
    report.sink = { ...sd, deadLetters: Number((await topics.deadLetterCount()) - dl0), ledgerPartitions: await ledgerByPartition(sql, T.w) };
    report.traffic.windowCountsRecords = sd.ledgerAtEnd?.parts ?? null;
    log.info({ recordsPerSec: sd.recordsPerSec, rowsTouchedPerSec: sd.rowsTouchedPerSec, error: sd.error }, 'sink done');
    if (sd.error) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `sink failed, skipping the end-to-end step: ${sd.error}`);
    report.exactness = await exactness(outcomes, notices);
    log.info({ keys: report.exactness.gotKeys, mismatches: report.exactness.mismatches.length }, 'exactness checked');

    const e2eSubjects: Record<string, CpuSubject> = { aggregate: { pgid: aggSvc.target.pid }, sink: { pgid: sink.target.pid }, ...stackSubjects };
    const aggFailed = exitWatch('aggregate', aggSvc);
    for (const rate of s.rates) {
      dog.step(`e2e ${rate}/s`);
      const dead = aggFailed() ?? sinkFailed();
      if (dead) throw new PipelineError('DEPENDENCY_UNAVAILABLE', dead);
      let res: FixedRateResult;
      try {
        res = await runFixedRate({
          kafka: topics.kafka, codec: topics.codec, sql, topic: T.o, rate, durationSec: s.durationSec, campaignPrefix: `${campPrefix}-e${rate}`,
          pollMs: s.pgPollMs, settleMs: s.settleMs, subjects: e2eSubjects, ledgerTopic: T.w,
          metricsUrls: { aggregate: aggSvc.url, sink: sink.url },
        });
      } catch (err) {
        throw new PipelineError('DEPENDENCY_UNAVAILABLE', `end-to-end at ${rate}/s failed: ${(err as Error).message}`);
      }
      report.e2e.push(res);
      log.info({ rate, delayMs: res.delayMs, visible: res.secondsVisible }, 'e2e rate done');
      await new Promise((r) => setTimeout(r, 2000));
    }
  } catch (err) {
    report.notes.push(`Run stopped early: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    log.error({ err }, 'scenario step failed');
    process.exitCode = 1;
  } finally {
    dog.step('cleanup');
    await doCleanup();
    dog.stop();
  }
  report.cleanup = cleanup;
  report.sharedRows.after = sharedAfter;
  report.stops = stops;
  report.sinkGroupDeletion = sinkGroupDeletion;
  report.loadAvgEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  report.notes.unshift(...notes(report));
  const files = await writeAggregateSinkReport(path.join(BENCH_DIR, 'results'), report);
  process.stdout.write(`${JSON.stringify({ files, ratio: report.ratio, aggregate: report.throughput.map((t) => [t.label, t.drain?.recordsPerSec]), sink: report.sink && 'seconds' in report.sink ? { recordsPerSec: report.sink.recordsPerSec, rowsTouchedPerSec: report.sink.rowsTouchedPerSec } : report.sink, e2e: report.e2e.map((e) => ({ rate: e.rate, delayMs: e.delayMs })) })}\n`);
}

main().catch((err: unknown) => {
  log.error({ err }, 'aggregate-sink scenario failed');
  process.exitCode = 2;
});
