/** Scenario: synchronous OpenRTB latency at fixed rates against the async edge as the baseline (bench/README.md, sync.ts). */
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOPICS } from '../schemas/topics.js';
import { loadIngestConfig } from '../ingest/config.js';
import { SEED_FLAGS, seedCatalogue, seedLoadFlags } from './lib/catalogue.js';
import { createLogger } from '../processors/runtime/logger.js';
import { DeliveryProducer } from '../processors/runtime/delivery-producer.js';
import { kafkaSecurityProperties } from '../processors/runtime/kafka.js';
import { hopLags } from './lib/lag.js';
import { BATCH_SERIES, batchDelta, metricDeltas, scrapeMetrics } from './lib/metrics-scrape.js';
import { cpu, int, list, num, numArg, type Flag } from './lib/options.js';
import { Schedule } from './lib/open-loop.js';
import { percentiles, resultHead, scenario, type Percentiles } from './lib/results.js';
import { stackConfig } from './lib/run-topics.js';
import { runLoad } from './lib/services.js';
import { decisionStages, edgeSpec, groupOf, pipelineTopics } from './lib/stages.js';
import { renderSync, syncNotes, syncSummary, syncSvg, syncTargetLines, type ModeRun } from './lib/sync-report.js';

const { s, log, run, topics, services, guard, finish, main } = scenario('sync', {
  rates: list(1, '250,500,1000,1500,2000'), duration: num(1, '60'), tmax: num(1, '100'), warmupSec: num(0, '10'), warmup: num(0, '1'),
  connections: { def: 'auto', parse: (name, raw) => (raw === 'auto' ? null : numArg(name, raw, 1)) } satisfies Flag<number | null>, timeout: num(1, '1000'),
  partitions: int(1, '12'), pause: num(0, '2'), edgeCpu: cpu('0'), loadCpu: cpu('1'), processorCpu: cpu('none'), concurrency: int(1), ...SEED_FLAGS,
  readyTimeout: num(5, '90'),
});
const ingest = loadIngestConfig();
const T = pipelineTopics(`bench-sync-${run}`, { areq: 'async-req', probe: 'ack-probe' });
const loadFlags = ['--tmax', String(s.tmax), ...seedLoadFlags(s)];
/** Enough connections that waiting for one never adds latency. */
const connectionsFor = (rate: number): number => s.connections ?? Math.max(32, Math.ceil(rate * ((s.tmax + 50) / 1000) * 1.5));
const SYNC_SERIES = ['ingest_sync_timeouts', 'ingest_sync_late_outcomes'];
/** Per measured sync rate, the sequence numbers answered 204. */
const noBidSeqs = new Map<number, Set<number>>();

/** How responsive the broker is meanwhile: one record every 50 ms from the edge's producer class (idempotent, acks=all, no linger); the stop returns ack ms. */
async function brokerProbe(): Promise<() => Promise<Percentiles | null>> {
  const opts = { brokers: stackConfig.kafkaBrokers, clientId: `bench-sync-${run}-probe`, log: createLogger('probe', 'warn'), pollIntervalMs: 1 };
  const producer = await DeliveryProducer.connect({ ...opts, config: { 'enable.idempotence': true, acks: -1, 'linger.ms': 0, ...kafkaSecurityProperties(stackConfig) } });
  const acks: number[] = [];
  const schedule = new Schedule(20, Infinity, (i, at) => void producer.produce(T.probe, String(i), Buffer.from('probe')).then(
    () => void acks.push(Math.round((performance.now() - at) * 10) / 10), () => undefined));
  return async () => (schedule.stop(), await producer.disconnect(), percentiles(acks));
}

async function measure(mode: 'sync' | 'async', rate: number, durationSec: number, warmupSec: number, idPrefix: string, measured = false): Promise<ModeRun> {
  const edge = services.get(`edge-${mode}`);
  const connections = connectionsFor(rate);
  const dead = services.dead();
  if (dead) return { mode, rate, connections, error: dead };
  const stages = mode === 'sync' ? (['enrich', 'bid', 'auction'] as const) : [];
  const scrape = () => Promise.all([scrapeMetrics(edge.url, SYNC_SERIES), ...stages.map((st) => scrapeMetrics(services.get(st).url, BATCH_SERIES))]);
  const before = await scrape();
  const probe = await brokerProbe();
  const idsFile = path.join(os.tmpdir(), `bench-sync-${run}-${idPrefix}.json`);
  const idFlags = mode === 'sync' && measured ? ['--deadline', String(s.tmax), '--ids-out', idsFile] : [];
  const extra = [...loadFlags, '--id-prefix', idPrefix, ...idFlags];
  const load = { url: `${edge.url}/openrtb2/bid`, rate, durationSec, warmupSec, connections, timeoutMs: s.timeout, cpu: s.loadCpu, extra };
  const { result, error, cpu, wallSec } = await runLoad(load, services.cpuSubjects());
  const out: ModeRun = { mode, rate, connections, ...(result ? { result } : {}), ...(error ? { error } : {}), cpu };
  try {
    if (result && idFlags.length) noBidSeqs.set(rate, new Set((JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, number[]>)['204']));
  } finally {
    rmSync(idsFile, { force: true });
  }
  out.ackProbeMs = await probe();
  if (mode === 'sync') {
    const after = await scrape();
    const d = metricDeltas(SYNC_SERIES, before[0], after[0]);
    [out.tmaxExpired, out.lateOutcomes] = [d.ingest_sync_timeouts ?? null, d.ingest_sync_late_outcomes ?? null];
    out.batches = stages.map((st, i) => batchDelta(st, before[i + 1]!, after[i + 1]!, wallSec));
  }
  log.info({ mode, rate, p50: out.result?.latencyMs.p50, p99: out.result?.latencyMs.p99, status: out.result?.statusCounts, error: out.error }, 'run done');
  await new Promise((r) => setTimeout(r, s.pause * 1000));
  return out;
}

main(async () => {
  const head = resultHead({
    ...s, connections: s.connections ?? 'auto: max(32, rate x (tmax + 50 ms) x 1.5)', processorCpu: s.processorCpu ?? 'none',
    concurrency: s.concurrency ?? 'runner default', run, tmaxMarginMs: ingest.tmaxMarginMs, loadFlags, topics: T, catalogueTopic: TOPICS.campaigns,
  });
  const perRate = 2 * (s.duration + s.warmup + s.timeout / 1000 + s.pause + 45);
  const dog = guard((600 + s.warmupSec + s.rates.length * perRate) * 1000);
  dog.step('seed');
  const seed = await seedCatalogue(s, true);
  dog.step('create topics');
  await topics.connect();
  try {
    const schemas = { [T.req]: 'bid-request', [T.enr]: 'bid-request', [T.bids]: 'bid-set', [T.out]: 'auction-outcome', [T.areq]: 'bid-request' };
    await topics.createAll(schemas, s.partitions);
    await topics.create(T.probe, 1);
    dog.step('start services');
    for (const st of ['enrich', 'bid', 'auction']) topics.track('group', groupOf(`bench-sync-${run}-${st}`));
    await services.startAll(decisionStages(`bench-sync-${run}`, T, { partitions: s.partitions, concurrency: s.concurrency, cpu: s.processorCpu }));
    topics.trackGroupPrefix(`rtb-edge-bench-sync-${run}-`); // the sync edge's outcome listener (ingest/outcome-listener.ts)
    for (const [mode, topic] of [['sync', T.req], ['async', T.areq]] as const) {
      await services.start(`edge-${mode}`, edgeSpec({ mode, topic, outcomes: T.out, nodeId: `bench-sync-${run}-${mode}`, partitions: s.partitions, cpu: s.edgeCpu }));
    }
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
    const errors = runs.filter((r) => r.error).map((r) => `${r.mode} ${r.rate}: ${r.error}`);
    await finish(report, renderSync(report), { summary, targets: syncTargetLines(summary), errors }, syncSvg(report));
    if (errors.length) process.exitCode = 1;
  } finally {
    await dog.cleanup();
  }
});
