/**
 * Scenario: synchronous OpenRTB latency at fixed rates. Starts enrich, bid (following the `campaigns`
 * topic, seed catalogue) and auction on topics of this run, an edge in sync mode on them and, as the
 * baseline, an edge in async mode (202 after the Kafka ack); warms up; then for each rate runs the same
 * open-loop load (bench/load.ts, its own process) against the async edge and then the sync edge. After
 * the runs the topics are read back for the per-stage lag and, with the ids the load answered 204, the bids
 * lost to the deadline. Results: bench/results/<date>-sync.md/.json/.svg (summary.rates: see lib/sync-report.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createLogger } from '../processors/runtime/logger.js';
import { TOPICS } from '../schemas/topics.js';
import { loadIngestConfig } from '../ingest/config.js';
import { resetCounters, seedCatalogue, seedLoadFlags } from './lib/catalogue.js';
import { cpuShares, snapshotCpu, stackCpuSubjects } from './lib/cpu.js';
import { hopLags, openLoopProducer } from './lib/lag.js';
import { BATCH_SERIES, batchDelta, scrapeMetrics } from './lib/metrics-scrape.js';
import { bool, cli, cpu, errorText, int, list, num, numArg, str, type Flag } from './lib/options.js';
import { RESULTS_DIR, resultHead, writeResults } from './lib/results.js';
import { RunTopics } from './lib/run-topics.js';
import { guard, runLoad, Services } from './lib/services.js';
import { decisionStages, edgeSpec, groupOf } from './lib/stages.js';
import { renderSync, syncNotes, syncSummary, syncSvg, syncTargetLines, type ModeRun } from './lib/sync-report.js';

const log = pino({ name: 'bench-sync' }, pino.destination({ dest: 2, sync: true }));
const s = cli('bench/sync.ts', {
  rates: list(1, '250,500,1000,1500,2000'), duration: num(1, '60'), tmax: num(1, '100'), warmupSec: num(0, '10'), warmup: num(0, '1'),
  connections: { def: 'auto', parse: (name, raw) => (raw === 'auto' ? null : numArg(name, raw, 1)) } satisfies Flag<number | null>, timeout: num(1, '1000'),
  partitions: int(1, '12'), pause: num(0, '2'), edgeCpu: cpu('0'), loadCpu: cpu('1'), processorCpu: cpu('none'), concurrency: int(1), prefix: str('bench-'),
  campaigns: int(1, '300'), users: int(1, '10000'), skipSeed: bool(), readyTimeout: num(5, '90'), out: str(RESULTS_DIR),
});
const ingest = loadIngestConfig();
const run = randomBytes(4).toString('hex');
const T = {
  req: `bench-sync-${run}-req`, enr: `bench-sync-${run}-enr`, bids: `bench-sync-${run}-bids`, out: `bench-sync-${run}-out`,
  areq: `bench-sync-${run}-async-req`, probe: `bench-sync-${run}-ack-probe`,
};
const topics = new RunTopics(createLogger('bench-sync', 'warn'), `bench-sync-${run}`);
const services = new Services({ readyTimeoutMs: s.readyTimeout * 1000, log });
const loadFlags = ['--tmax', String(s.tmax), ...seedLoadFlags(s)];
/** Enough connections that waiting for one never adds latency: rate x (tmax + slack) in flight, with headroom. */
const connectionsFor = (rate: number): number => s.connections ?? Math.max(32, Math.ceil(rate * ((s.tmax + 50) / 1000) * 1.5));

async function startAll(): Promise<void> {
  for (const st of ['enrich', 'bid', 'auction']) topics.track('group', groupOf(`bench-sync-${run}-${st}`));
  await services.startAll(decisionStages(`bench-sync-${run}`, T, { partitions: s.partitions, concurrency: s.concurrency, cpu: s.processorCpu }));
  topics.trackGroupPrefix(`rtb-edge-bench-sync-${run}-`); // the sync edge's outcome listener (ingest/outcome-listener.ts)
  for (const [mode, topic] of [['sync', T.req], ['async', T.areq]] as const) {
    await services.start(`edge-${mode}`, edgeSpec({ mode, topic, outcomes: T.out, nodeId: `bench-sync-${run}-${mode}`, partitions: s.partitions, cpu: s.edgeCpu }));
  }
}

const SYNC_SERIES = ['ingest_sync_timeouts', 'ingest_sync_late_outcomes'];

/** Per measured sync rate, the load's sequence numbers answered 204 (request id `<idPrefix>-<seq>`). */
const noBidSeqs = new Map<number, Set<number>>();

async function measure(mode: 'sync' | 'async', rate: number, durationSec: number, warmupSec: number, idPrefix: string, measured = false): Promise<ModeRun> {
  const edge = services.get(`edge-${mode}`);
  const connections = connectionsFor(rate);
  const dead = services.dead();
  if (dead) return { mode, rate, connections, error: dead };
  const stages = mode === 'sync' ? (['enrich', 'bid', 'auction'] as const) : [];
  const scrape = (): Promise<Array<Record<string, number | null>>> =>
    Promise.all([scrapeMetrics(edge.url, SYNC_SERIES), ...stages.map((st) => scrapeMetrics(services.get(st).url, BATCH_SERIES))]);
  const before = await scrape();
  const subjects = { ...services.cpuSubjects(), ...stackCpuSubjects() };
  // How responsive the broker is meanwhile: one record every 50 ms, produced like the edge produces.
  const message = (): { key: null; value: Buffer } => ({ key: null, value: Buffer.from('probe') });
  const probe = openLoopProducer(topics.kafka, { topic: T.probe, rate: 20, total: Infinity, linger: 0, compression: 'none', message });
  await probe.started;
  const cpu0 = snapshotCpu(subjects);
  const out: ModeRun = { mode, rate, connections };
  const idsFile = path.join(os.tmpdir(), `bench-sync-${run}-${idPrefix}.json`);
  const idFlags = mode === 'sync' && measured ? ['--deadline', String(s.tmax), '--ids-out', idsFile] : [];
  try {
    const extra = [...loadFlags, '--id-prefix', idPrefix, ...idFlags];
    out.result = await runLoad({ url: `${edge.url}/openrtb2/bid`, rate, durationSec, warmupSec, connections, timeoutMs: s.timeout, cpu: s.loadCpu, extra });
    if (idFlags.length) noBidSeqs.set(rate, new Set((JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, number[]>)['204']));
  } catch (err) {
    out.error = errorText(err);
  } finally {
    rmSync(idsFile, { force: true });
  }
  const cpu1 = snapshotCpu(subjects);
  out.cpu = cpuShares(cpu0, cpu1);
  out.ackProbeMs = (await probe.stop()).ackMs;
  if (mode === 'sync') {
    const after = await scrape();
    const delta = (k: string): number | null => (after[0]![k] != null && before[0]![k] != null ? after[0]![k]! - before[0]![k]! : null);
    out.tmaxExpired = delta('ingest_sync_timeouts');
    out.lateOutcomes = delta('ingest_sync_late_outcomes');
    out.batches = stages.map((st, i) => batchDelta(st, before[i + 1]!, after[i + 1]!, (cpu1.at - cpu0.at) / 1000));
  }
  log.info({ mode, rate, p50: out.result?.latencyMs.p50, p99: out.result?.latencyMs.p99, status: out.result?.statusCounts, error: out.error }, 'run done');
  await new Promise((r) => setTimeout(r, s.pause * 1000));
  return out;
}

async function main(): Promise<void> {
  const head = resultHead({
    ...s, connections: s.connections ?? 'auto: max(32, rate x (tmax + 50 ms) x 1.5)', processorCpu: s.processorCpu ?? 'none',
    concurrency: s.concurrency ?? 'runner default',
    run, tmaxMarginMs: ingest.tmaxMarginMs, loadFlags, topics: T, catalogueTopic: TOPICS.campaigns,
  });
  // Every step is bounded on its own; this bounds the whole run (start-up, each rate's two runs, the lag read).
  const perRate = 2 * (s.duration + s.warmup + s.timeout / 1000 + s.pause + 45);
  const dog = guard((600 + s.warmupSec + s.rates.length * perRate) * 1000, log, () => services.stopAll().then(() => topics.cleanup()));
  dog.step('seed');
  const seed = await seedCatalogue(s);
  seed.push(`reset ${await resetCounters(s.prefix)} counter keys of ${s.prefix}cmp-* campaigns in Redis`);
  dog.step('create topics');
  await topics.connect();
  try {
    for (const [k, schema] of [['req', 'bid-request'], ['enr', 'bid-request'], ['bids', 'bid-set'], ['out', 'auction-outcome'], ['areq', 'bid-request']] as const) {
      await topics.create(T[k], s.partitions, `${schema}.avsc`);
    }
    await topics.create(T.probe, 1, 'bid-request.avsc');
    dog.step('start services');
    await startAll();
    const processes = services.commands();
    dog.step('warm-up');
    const first = s.rates[0]!;
    const warmup = [await measure('sync', first, s.warmupSec || 1, 0, `warm-s-${run}`), await measure('async', first, 3, 0, `warm-a-${run}`)];
    const runs: ModeRun[] = [];
    for (const rate of s.rates) {
      dog.step(`rate ${rate}`);
      runs.push(await measure('async', rate, s.duration, s.warmup, `a${rate}-${run}`));
      runs.push(await measure('sync', rate, s.duration, s.warmup, `s${rate}-${run}`, true));
    }
    const dead = services.dead();
    await services.stopAll();
    dog.step('stage lag');
    const lagRuns = s.rates.map((rate) => ({ rate, idPrefix: `s${rate}-${run}`, warmupCount: Math.round(rate * s.warmup), noBid: noBidSeqs.get(rate) }));
    const lags = await hopLags(topics, T, lagRuns, { tmaxMs: ingest.defaultTmaxMs, marginMs: ingest.tmaxMarginMs });
    const summary = syncSummary(runs, lags, s.tmax);
    const report = { summary, ...head, processes, seed, warmup, runs, lags, notes: syncNotes(runs, lags, { head, dead, tmaxMs: s.tmax }) };
    const files = await writeResults(s.out, 'sync', report, renderSync(report), syncSvg(report));
    const errors = runs.filter((r) => r.error).map((r) => `${r.mode} ${r.rate}: ${r.error}`);
    process.stdout.write(`${JSON.stringify({ files, summary, targets: syncTargetLines(summary), errors })}\n`);
    if (runs.some((r) => r.error)) process.exitCode = 1;
  } finally {
    await dog.cleanup();
  }
}

main().catch((err: unknown) => {
  log.error({ err }, 'sync scenario failed');
  process.exitCode = 2;
});
