/**
 * Scenario: synchronous OpenRTB latency at fixed rates. Starts enrich, bid (following the `campaigns`
 * topic, seed catalogue) and auction on topics of this run, an edge in sync mode on them and, as the
 * baseline, an edge in async mode (202 after the Kafka ack); warms up; then for each rate runs the same
 * open-loop load (bench/load.ts, its own process) against the async edge and then the sync edge. After
 * the runs the topics are read back for the per-stage lag and, with the ids the load answered 204, the bids
 * lost to the deadline. Results: bench/results/<date>-sync.md/.json/.svg (summary.rates: see lib/sync-report.ts).
 *
 *   node --import tsx bench/sync.ts [--rates 250,500,1000,1500,2000] [--duration 60] [--tmax 100] [--warmup-sec 10] [--out bench/results]
 *     [--warmup 1] [--connections auto] [--timeout 1000] [--partitions 12] [--pause 2] [--edge-cpu 0]
 *     [--load-cpu 1] [--processor-cpu none] [--concurrency N] [--prefix bench-] [--campaigns 300] [--users 10000] [--skip-seed]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createLogger } from '../processors/runtime/logger.js';
import { TOPICS } from '../schemas/topics.js';
import { loadIngestConfig } from '../ingest/config.js';
import { resetCounters, seedCatalogue, seedTraffic } from './lib/catalogue.js';
import { hasTaskset } from './lib/child.js';
import { ServiceSet } from './lib/service-set.js';
import { cpuShares, snapshotCpu, stackCpuSubjects, type CpuSubject } from './lib/cpu.js';
import { startAckProbe } from './lib/ack-probe.js';
import { BATCH_SERIES, batchDelta, scrapeMetrics } from './lib/metrics-scrape.js';
import { runLoad } from './lib/load-run.js';
import { codeVersion, commandLine, machineInfo } from './lib/report.js';
import { RunTopics } from './lib/run-topics.js';
import { stageLags } from './lib/stage-lag.js';
import { groupOf, STAGE_ENTRY, stageEnv, type Stage } from './lib/stages.js';
import { syncNotes } from './lib/sync-notes.js';
import { numArg } from './lib/options.js';
import { syncSummary, syncTargetLines, writeSyncReport, type ModeRun } from './lib/sync-report.js';
import { startWatchdog } from './lib/watchdog.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const log = pino({ name: 'bench-sync' }, pino.destination({ dest: 2, sync: true }));
const { values: a } = parseArgs({
  strict: true,
  options: {
    rates: { type: 'string', default: '250,500,1000,1500,2000' }, duration: { type: 'string', default: '60' }, tmax: { type: 'string', default: '100' },
    'warmup-sec': { type: 'string', default: '10' }, warmup: { type: 'string', default: '1' }, connections: { type: 'string', default: 'auto' },
    timeout: { type: 'string', default: '1000' }, partitions: { type: 'string', default: '12' }, pause: { type: 'string', default: '2' },
    'edge-cpu': { type: 'string', default: '0' }, 'load-cpu': { type: 'string', default: '1' }, 'processor-cpu': { type: 'string', default: 'none' },
    prefix: { type: 'string', default: 'bench-' }, campaigns: { type: 'string', default: '300' }, users: { type: 'string', default: '10000' },
    'skip-seed': { type: 'boolean', default: false }, 'ready-timeout': { type: 'string', default: '90' }, concurrency: { type: 'string' },
    out: { type: 'string', default: path.join(BENCH_DIR, 'results') },
  },
});
const cpu = (name: string, raw: string): number | undefined => (raw === 'none' ? undefined : numArg(name, raw, 0));
const s = {
  rates: a.rates.split(',').map((r) => numArg('rates', r, 1)), durationSec: numArg('duration', a.duration, 1), tmax: numArg('tmax', a.tmax, 1),
  warmupSec: numArg('warmup-sec', a['warmup-sec'], 0), warmup: numArg('warmup', a.warmup, 0), connections: a.connections === 'auto' ? null : numArg('connections', a.connections, 1),
  timeoutMs: numArg('timeout', a.timeout, 1), partitions: numArg('partitions', a.partitions, 1), pauseMs: numArg('pause', a.pause, 0) * 1000,
  edgeCpu: cpu('edge-cpu', a['edge-cpu']), loadCpu: cpu('load-cpu', a['load-cpu']), processorCpu: cpu('processor-cpu', a['processor-cpu']),
  prefix: a.prefix, campaigns: numArg('campaigns', a.campaigns, 1), users: numArg('users', a.users, 1), readyTimeoutMs: numArg('ready-timeout', a['ready-timeout'], 5) * 1000,
  concurrency: a.concurrency === undefined ? undefined : numArg('concurrency', a.concurrency, 1),
};
const ingest = loadIngestConfig();
const run = randomBytes(4).toString('hex');
const trackingSecret = randomBytes(32).toString('base64');
const T = {
  req: `bench-sync-${run}-req`, enr: `bench-sync-${run}-enr`, bids: `bench-sync-${run}-bids`, out: `bench-sync-${run}-out`,
  areq: `bench-sync-${run}-async-req`, probe: `bench-sync-${run}-ack-probe`,
};
const topics = new RunTopics(createLogger('bench-sync', 'warn'), `bench-sync-${run}`);
const services = new ServiceSet({ cwd: ROOT, readyTimeoutMs: s.readyTimeoutMs, onStart: (label, entry) => log.info({ label, entry }, 'starting') });
/** The stack's servers share the two cores with the pipeline: their CPU is reported beside it (read from /proc only). */
const stackSubjects = stackCpuSubjects();
const traffic = seedTraffic(s, s.tmax);
const loadFlags = ['--tmax', String(s.tmax), '--user-prefix', s.prefix, '--users', String(s.users), '--sizes', (traffic.sizes ?? []).map(([w, h]) => `${w}x${h}`).join(',')];
/** Enough connections that waiting for one never adds latency: rate x (tmax + slack) in flight, with headroom. */
const connectionsFor = (rate: number): number => s.connections ?? Math.max(32, Math.ceil(rate * ((s.tmax + 50) / 1000) * 1.5));

async function startAll(): Promise<void> {
  const stages: Array<[Stage, string, string]> = [['enrich', T.req, T.enr], ['bid', T.enr, T.bids], ['auction', T.bids, T.out]];
  // allSettled, not all: a failed start must not leave the others starting unseen by the cleanup.
  const started = await Promise.allSettled(stages.map(([st, input, output]) => {
    topics.track('group', groupOf(`bench-sync-${run}-${st}`));
    return services.start(st, STAGE_ENTRY[st], 'PROCESSOR_HTTP_PORT', stageEnv(st, { name: `bench-sync-${run}-${st}`, input, output, partitions: s.partitions, concurrency: s.concurrency, campaignsTopic: TOPICS.campaigns }), s.processorCpu);
  }));
  for (const r of started) if (r.status === 'rejected') throw r.reason;
  const edgeEnv = (mode: 'sync' | 'async', topic: string): Record<string, string> => ({
    INGEST_HOST: '127.0.0.1', INGEST_WORKERS: '1', INGEST_OPENRTB_MODE: mode, INGEST_TOPIC: topic, INGEST_OUTCOMES_TOPIC: T.out,
    INGEST_NODE_ID: `bench-sync-${run}-${mode}`, TOPIC_PARTITIONS: String(s.partitions), LOG_LEVEL: 'warn',
    // A throw-away tracking secret: the edge refuses to start without one of its own.
    INGEST_TRACKING_SECRET: trackingSecret,
  });
  topics.trackGroupPrefix(`rtb-edge-bench-sync-${run}-`); // the sync edge's outcome listener (ingest/outcome-listener.ts)
  await services.start('edge-sync', 'ingest/main.ts', 'INGEST_PORT', edgeEnv('sync', T.req), s.edgeCpu);
  await services.start('edge-async', 'ingest/main.ts', 'INGEST_PORT', edgeEnv('async', T.areq), s.edgeCpu);
}

/** Per measured sync rate, the load's sequence numbers answered 204 (request id `<idPrefix>-<seq>`). */
const noBidSeqs = new Map<number, Set<number>>();

async function measure(mode: 'sync' | 'async', rate: number, durationSec: number, warmupSec: number, idPrefix: string, measured = false): Promise<ModeRun> {
  const edge = services.get(`edge-${mode}`);
  const gauges = ['ingest_sync_timeouts', 'ingest_sync_late_outcomes'];
  const connections = connectionsFor(rate);
  const dead = await services.dead();
  if (dead) return { mode, rate, connections, error: dead };
  const before = await scrapeMetrics(edge.url, gauges);
  const stages = mode === 'sync' ? (['enrich', 'bid', 'auction'] as const) : [];
  const batchesBefore = await Promise.all(stages.map((st) => scrapeMetrics(services.get(st).url, BATCH_SERIES)));
  const subjects: Record<string, CpuSubject> = { ...services.cpuSubjects(), ...stackSubjects };
  const probe = await startAckProbe(topics.kafka, T.probe);
  const cpu0 = snapshotCpu(subjects);
  const t0 = performance.now();
  const out: ModeRun = { mode, rate, connections };
  const idsFile = path.join(os.tmpdir(), `bench-sync-${run}-${idPrefix}.json`);
  const idFlags = mode === 'sync' && measured ? ['--deadline', String(s.tmax), '--ids-out', idsFile] : [];
  try {
    out.result = await runLoad(ROOT, {
      url: `${edge.url}/openrtb2/bid`, rate, durationSec, warmupSec, connections, timeoutMs: s.timeoutMs, cpu: s.loadCpu, extra: [...loadFlags, '--id-prefix', idPrefix, ...idFlags],
    });
    if (idFlags.length) noBidSeqs.set(rate, new Set((JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, number[]>)['204']));
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  } finally {
    rmSync(idsFile, { force: true });
  }
  out.cpu = cpuShares(cpu0, snapshotCpu(subjects));
  out.ackProbeMs = await probe.stop();
  if (mode === 'sync') {
    const after = await scrapeMetrics(edge.url, gauges);
    const delta = (k: string): number | null => (after[k] != null && before[k] != null ? after[k]! - before[k]! : null);
    const batchesAfter = await Promise.all(stages.map((st) => scrapeMetrics(services.get(st).url, BATCH_SERIES)));
    const wallSec = (performance.now() - t0) / 1000;
    const batches = stages.map((st, i) => batchDelta(st, batchesBefore[i]!, batchesAfter[i]!, wallSec));
    Object.assign(out, { tmaxExpired: delta('ingest_sync_timeouts'), lateOutcomes: delta('ingest_sync_late_outcomes'), batches });
  }
  log.info({ mode, rate, p50: out.result?.latencyMs.p50, p99: out.result?.latencyMs.p99, status: out.result?.statusCounts, error: out.error }, 'run done');
  await new Promise((r) => setTimeout(r, s.pauseMs));
  return out;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const machine = machineInfo(hasTaskset());
  const code = codeVersion(ROOT);
  const stopAll = (): Promise<unknown> => services.stopAll();
  const onSignal = (): void => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Every step is bounded on its own; this bounds the whole run (start-up, each rate's two runs, the lag read).
  const maxMs = (600 + s.warmupSec + s.rates.length * 2 * (s.durationSec + s.warmup + s.timeoutMs / 1000 + s.pauseMs / 1000 + 45)) * 1000;
  const dog = startWatchdog(maxMs, log, () => stopAll().then(() => topics.cleanup()));
  dog.step('seed');
  const seed = a['skip-seed'] ? ['skipped (--skip-seed)'] : await seedCatalogue(ROOT, { prefix: s.prefix, campaigns: s.campaigns, users: s.users });
  const reset = await resetCounters(s.prefix);
  dog.step('create topics');
  await topics.connect();
  try {
    await topics.create(T.req, s.partitions, 'bid-request.avsc');
    await topics.create(T.enr, s.partitions, 'bid-request.avsc');
    await topics.create(T.bids, s.partitions, 'bid-set.avsc');
    await topics.create(T.out, s.partitions, 'auction-outcome.avsc');
    await topics.create(T.areq, s.partitions, 'bid-request.avsc');
    await topics.create(T.probe, 1, 'bid-request.avsc');
    dog.step('start services');
    await startAll();
    dog.step('warm-up');
    const first = s.rates[0]!;
    const warmup = [await measure('sync', first, s.warmupSec || 1, 0, `warm-s-${run}`), await measure('async', first, 3, 0, `warm-a-${run}`)];
    const runs: ModeRun[] = [];
    for (const rate of s.rates) {
      dog.step(`rate ${rate}`);
      runs.push(await measure('async', rate, s.durationSec, s.warmup, `a${rate}-${run}`));
      runs.push(await measure('sync', rate, s.durationSec, s.warmup, `s${rate}-${run}`, true));
    }
    const dead = await services.dead();
    await stopAll();
    dog.step('stage lag');
    const lags = await stageLags(topics, T, s.rates.map((rate) => ({ rate, idPrefix: `s${rate}-${run}`, warmupCount: Math.round(rate * s.warmup), noBid: noBidSeqs.get(rate) })), { tmaxMs: ingest.defaultTmaxMs, marginMs: ingest.tmaxMarginMs });
    const summary = syncSummary(runs, lags, s.tmax);
    const command = commandLine();
    const processes = services.commands();
    const files = await writeSyncReport(a.out, {
      summary, date, machine, command, processes, seed: [...seed, `reset ${reset} counter keys of ${s.prefix}cmp-* campaigns in Redis`],
      settings: { ...s, connections: s.connections ?? 'auto: max(32, rate x (tmax + 50 ms) x 1.5)', processorCpu: s.processorCpu ?? 'none', concurrency: s.concurrency ?? 'runner default', code, run, tmaxMarginMs: ingest.tmaxMarginMs, loadFlags, topics: T, catalogueTopic: TOPICS.campaigns },
      warmup, runs, lags, notes: syncNotes(runs, lags, { pinned: machine.pinned, dead, tmaxMs: s.tmax }),
    });
    process.stdout.write(`${JSON.stringify({ files, summary, targets: syncTargetLines(summary), errors: runs.filter((r) => r.error).map((r) => `${r.mode} ${r.rate}: ${r.error}`) })}\n`);
    if (runs.some((r) => r.error)) process.exitCode = 1;
  } finally {
    dog.step('cleanup');
    await stopAll();
    await topics.cleanup();
    dog.stop();
  }
}

main().catch((err: unknown) => {
  log.error({ err }, 'sync scenario failed');
  process.exitCode = 2;
});
