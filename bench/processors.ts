/**
 * Scenario: records/s of each processor (enrich, bid, auction) as ONE instance on one core, against the
 * pass-through processor on the same runner and the same input in the same run. The seed catalogue is
 * loaded first (bid follows the `campaigns` topic); the inputs are per-run topics: BidRequests made by the
 * edge's own parser from bench bodies, then enrich's and bid's real outputs copied on. The pass-through
 * runs with the delivery the stage logged at start (exactly-once or at-least-once). On the first input a
 * plain consume -> produce loop on the same client (lib/client-loop.ts) runs too: the runner's own cost.
 * Results go to bench/results/<YYYY-MM-DD>-processors.md and .json (summary: see lib/processors-report.ts).
 *
 *   node --import tsx bench/processors.ts [--records 20000] [--repeat 1] [--partitions 12] [--cpu 1]
 *     [--max-batch 500] [--concurrency N] [--prefix bench-] [--campaigns 300] [--users 10000] [--skip-seed] [--poll-ms 50]
 *     [--stage-timeout 300] [--ready-timeout 90] [--out bench/results]
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PipelineError } from '../schemas/errors.js';
import { createLogger } from '../processors/runtime/logger.js';
import type { RawRecord } from '../processors/runtime/read-topic.js';
import { TOPICS } from '../schemas/topics.js';
import { partitionKey } from '../schemas/bid-request.js';
import { resetCounters, seedCatalogue, seedTraffic } from './lib/catalogue.js';
import { hasTaskset, startService, startTarget, type Target } from './lib/child.js';
import { stackCpuSubjects } from './lib/cpu.js';
import { committedOffsets, watchDrain, type DrainResult } from './lib/drain-watch.js';
import { outputStats } from './lib/output-stats.js';
import { processorsSummary, processorsTargetLines, summarize, writeProcessorsReport, type StageRun } from './lib/processors-report.js';
import { numArg } from './lib/options.js';
import { codeVersion, commandLine, machineInfo } from './lib/report.js';
import { bidRequests } from './lib/request-records.js';
import { RunTopics } from './lib/run-topics.js';
import { startWatchdog } from './lib/watchdog.js';
import { catalogueSize, groupOf, STAGE_ENTRY, stageDelivery, stageEnv, type Delivery, type Stage } from './lib/stages.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const log = pino({ name: 'bench-processors' }, pino.destination({ dest: 2, sync: true }));

const { values: args } = parseArgs({
  strict: true,
  options: {
    records: { type: 'string', default: '20000' }, repeat: { type: 'string', default: '1' }, partitions: { type: 'string', default: '12' },
    cpu: { type: 'string', default: '1' }, 'max-batch': { type: 'string' }, concurrency: { type: 'string' }, prefix: { type: 'string', default: 'bench-' },
    campaigns: { type: 'string', default: '300' }, users: { type: 'string', default: '10000' }, 'skip-seed': { type: 'boolean', default: false },
    'poll-ms': { type: 'string', default: '50' }, 'stage-timeout': { type: 'string', default: '300' }, 'ready-timeout': { type: 'string', default: '90' },
    out: { type: 'string', default: path.join(BENCH_DIR, 'results') },
  },
});
const int = (name: keyof typeof args, min: number): number => numArg(name, args[name] as string | undefined, min, true);
const s = {
  records: int('records', 100), repeat: int('repeat', 1), partitions: int('partitions', 1), cpu: int('cpu', 0),
  maxBatch: args['max-batch'] === undefined ? undefined : int('max-batch', 1),
  concurrency: args.concurrency === undefined ? undefined : int('concurrency', 1), prefix: args.prefix, campaigns: int('campaigns', 1),
  users: int('users', 1), pollMs: int('poll-ms', 10), stageTimeoutMs: int('stage-timeout', 10) * 1000, readyTimeoutMs: int('ready-timeout', 5) * 1000,
};
const run = randomBytes(4).toString('hex');
const topics = new RunTopics(createLogger('bench-processors', 'warn'), `bench-processors-${run}`);
const running = new Set<Target>();
const stackSubjects = stackCpuSubjects();

/** The delivery each stage logged at start; its pass-through baseline runs with the same. */
const deliveries = new Map<Stage, Delivery>();

function failedDrain(records: number, error: string): DrainResult {
  return { records, committedAtStart: 0, seconds: 0, recordsPerSec: null, cpuSeconds: null, recordsPerCpuSec: null, machineBusy: null, cpuShares: {}, postgresShare: null, startupSec: 0, error };
}

/**
 * Starts one instance of `stage` on `input` (or, for 'client', the plain client loop) as part of the pair of
 * stage `of`, measures it draining the topic, stops it, and reads its output.
 */
async function measure(stage: StageRun['stage'], input: string, of: Exclude<Stage, 'passthrough'>, rep: number, schema: string): Promise<{ run: StageRun; out: RawRecord[] }> {
  const name = `bench-${run}-${stage}-${of}-${rep}`;
  const group = stage === 'client' ? name : groupOf(name);
  const output = `${input}-${stage}-${rep}`;
  topics.track('group', group);
  // The runner creates its outputs; the client loop does not.
  if (stage === 'client') await topics.create(output, s.partitions, schema);
  else topics.track('topic', output);
  // Bid reads, and the auction writes, the campaigns' spend and frequency counters: start each run from zero.
  if (stage === 'bid' || stage === 'auction') await resetCounters(s.prefix);
  const ends = await topics.ends(input);
  const records = Number([...ends.values()].reduce((a, b) => a + b, 0n));
  const dl0 = await topics.deadLetterCount();
  log.info({ stage, input, output, group }, 'starting stage');
  const startedAt = performance.now();
  let drain: DrainResult;
  let text = '';
  let target: Target | undefined;
  try {
    if (records === 0) throw new PipelineError('INVALID_RECORD', `input ${input} is empty: the stage before produced nothing`);
    if (stage === 'client') {
      // No HTTP server to wait for: the drain clock starts at its first commit anyway.
      const argv = ['--input', input, '--output', output, '--group', group, '--max-batch', String(s.maxBatch ?? 500), '--concurrency', String(s.concurrency ?? 8)];
      target = startTarget(`${process.execPath} --import tsx bench/lib/client-loop.ts ${argv.join(' ')}`, { cpu: s.cpu, cwd: ROOT });
    } else {
      const delivery = stage === 'passthrough' ? deliveries.get(of) : undefined;
      const env = stageEnv(stage, { name, input, output, partitions: s.partitions, maxBatch: s.maxBatch, concurrency: s.concurrency, schema, delivery, logLevel: 'info' });
      target = (await startService(STAGE_ENTRY[stage], 'PROCESSOR_HTTP_PORT', env, { cpu: s.cpu, cwd: ROOT, readyTimeoutMs: s.readyTimeoutMs })).target;
    }
    const t = target;
    running.add(t);
    let exit: string | undefined;
    void t.exited.then((code) => (exit = `${stage} exited (${code}) during the run: ${t.output().slice(-1500)}`));
    drain = await watchDrain({
      records, progress: committedOffsets(topics.admin, group, input, ends), subjects: { processor: { pgid: t.pid }, ...stackSubjects },
      startedAt, pollMs: s.pollMs, timeoutMs: s.stageTimeoutMs, failed: () => exit, moreHint: 'use more --records',
    });
  } catch (err) {
    drain = failedDrain(records, err instanceof Error ? err.message : String(err));
  } finally {
    text = target?.output() ?? '';
    await target?.stop();
    if (target) running.delete(target);
  }
  const out = await topics.read(output).catch(() => []);
  const delivery = stage === 'client' ? 'at-least-once' : stageDelivery(text);
  if (stage !== 'passthrough' && stage !== 'client' && delivery) deliveries.set(stage, delivery);
  const result: StageRun = {
    stage, rep, input, group, drain, delivery, output: out.length ? await outputStats(stage === 'client' ? 'passthrough' : stage, out, topics.codec) : null,
    deadLetters: Number((await topics.deadLetterCount()) - dl0), ...(stage === 'bid' ? { catalogue: catalogueSize(text) } : {}),
  };
  log.info({ stage, input, recordsPerSec: drain.recordsPerSec, cpuSeconds: drain.cpuSeconds, error: drain.error }, 'stage done');
  return { run: result, out };
}

/**
 * Runs `stage` and the pass-through (and, with `client`, the plain client loop) on the same input, `repeat`
 * times, alternating the order; the stage goes first in the first repetition, so its delivery is known.
 */
async function pair(stage: Exclude<Stage, 'passthrough'>, input: string, schema: string, runs: StageRun[], client = false): Promise<RawRecord[]> {
  let first: RawRecord[] = [];
  for (let rep = 0; rep < s.repeat; rep++) {
    const order: Array<StageRun['stage']> = [stage, 'passthrough', ...(client ? (['client'] as const) : [])];
    for (const st of rep % 2 === 0 ? order : order.reverse()) {
      const m = await measure(st, input, stage, rep, schema);
      runs.push(m.run);
      if (st === stage && rep === 0) first = m.out;
    }
  }
  return first;
}

function notes(runs: readonly StageRun[], pinned: boolean): string[] {
  const n: string[] = [];
  if (!pinned) n.push('taskset is not available: the processors were not pinned, so "one core" is not enforced.');
  for (const r of runs) {
    const label = `${r.stage} #${r.rep + 1} on ${r.input}`;
    const err = r.error ?? r.drain.error;
    if (err) n.push(`${label} failed: ${err.split('\n')[0]}`);
    if (r.output && r.output.records !== r.drain.records) n.push(`${label}: ${r.output.records} output records for ${r.drain.records} input records.`);
    if (r.output && r.output.distinct !== r.output.records) n.push(`${label}: ${r.output.records - r.output.distinct} duplicate request ids in the output.`);
    if (r.deadLetters > 0) n.push(`${label}: the dead-letter topic gained ${r.deadLetters} records during the run (topic-wide).`);
    if ((r.drain.machineBusy ?? 0) > 0.9) n.push(`${label}: the machine was ${Math.round((r.drain.machineBusy ?? 0) * 100)}% busy: the rate is bounded by the shared cores, not only by the processor.`);
  }
  return n;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const machine = machineInfo(hasTaskset());
  const code = codeVersion(ROOT);
  const stop = (): void => void Promise.all([...running].map((t) => t.stop())).finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Each stage run is bounded (ready + drain timeouts); this bounds the whole scenario.
  const maxMs = 600_000 + 6 * s.repeat * (s.readyTimeoutMs + s.stageTimeoutMs + 120_000);
  const dog = startWatchdog(maxMs, log, () => Promise.all([...running].map((t) => t.stop())).then(() => topics.cleanup()));
  dog.step('seed');
  const seed = args['skip-seed'] ? ['skipped (--skip-seed)'] : await seedCatalogue(ROOT, { prefix: s.prefix, campaigns: s.campaigns, users: s.users });
  const runs: StageRun[] = [];
  await topics.connect();
  try {
    dog.step('fill input');
    const req = `bench-proc-${run}-req`;
    await topics.create(req, s.partitions, 'bid-request.avsc');
    await topics.fill(req, bidRequests(s.records, `bench-proc-${run}`, seedTraffic(s, 120)), partitionKey);
    dog.step('stages');
    const enriched = await pair('enrich', req, 'bid-request.avsc', runs, true);
    const bidIn = `bench-proc-${run}-bidin`;
    await topics.create(bidIn, s.partitions, 'bid-request.avsc');
    await topics.write(bidIn, enriched);
    const bidSets = await pair('bid', bidIn, 'bid-request.avsc', runs);
    const aucIn = `bench-proc-${run}-aucin`;
    await topics.create(aucIn, s.partitions, 'bid-set.avsc');
    await topics.write(aucIn, bidSets);
    await pair('auction', aucIn, 'bid-set.avsc', runs);
    const pairs = [summarize('enrich', req, runs), summarize('bid', bidIn, runs), summarize('auction', aucIn, runs)];
    const summary = processorsSummary(pairs, runs);
    const command = commandLine();
    const files = await writeProcessorsReport(args.out, {
      summary, date, machine, command, settings: { ...s, maxBatch: s.maxBatch ?? 'runner default', concurrency: s.concurrency ?? 'runner default', code, run, catalogueTopic: TOPICS.campaigns }, seed, pairs, runs, notes: notes(runs, machine.pinned),
    });
    process.stdout.write(`${JSON.stringify({ files, summary, targets: processorsTargetLines(summary) })}\n`);
    if (runs.some((r) => r.drain.error)) process.exitCode = 1;
  } finally {
    dog.step('cleanup');
    await Promise.all([...running].map((t) => t.stop()));
    await topics.cleanup();
    dog.stop();
  }
}

main().catch((err: unknown) => {
  log.error({ err }, 'processors scenario failed');
  process.exitCode = 2;
});
