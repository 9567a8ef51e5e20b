/** Scenario: records/s of enrich, bid and auction, one instance on one core, against the pass-through on the same input (bench/README.md). */
import type { RawRecord } from '../processors/runtime/read-topic.js';
import { TOPICS } from '../schemas/topics.js';
import { partitionKey } from '../schemas/bid-request.js';
import { SIZES } from '../processors/campaigns/seed-catalogue.js';
import { bidRequests, resetCounters, SEED_FLAGS, seedCatalogue } from './lib/catalogue.js';
import { drainService, failedDrain, groupLagProgress } from './lib/drain.js';
import { outputStats } from './lib/output-stats.js';
import { processorsNotes, processorsSummary, processorsTargetLines, renderProcessors, summarize, type StageRun } from './lib/processors-report.js';
import { int } from './lib/options.js';
import { resultHead, scenario } from './lib/results.js';
import type { ServiceSpec } from './lib/services.js';
import { catalogueSize, groupOf, stageEntry, stageDelivery, stageEnv, type Delivery, type Stage } from './lib/stages.js';

const { s, log, run, topics, services, guard, finish, main } = scenario('processors', {
  records: int(100, '20000'), repeat: int(1, '1'), partitions: int(1, '12'), cpu: int(0, '1'), maxBatch: int(1), concurrency: int(1), ...SEED_FLAGS,
  pollMs: int(10, '50'), stageTimeout: int(10, '300'), readyTimeout: int(5, '90'),
});

/** The delivery each stage logged; its pass-through runs with the same. */
const deliveries = new Map<Stage, Delivery>();

async function measure(stage: StageRun['stage'], input: string, of: Exclude<Stage, 'passthrough'>, rep: number, schema: string) {
  const name = `bench-${run}-${stage}-${of}-${rep}`;
  const group = stage === 'client' ? name : groupOf(name);
  const output = `${input}-${stage}-${rep}`;
  topics.track('group', group);
  // The runner creates its outputs; the client loop does not.
  if (stage === 'client') await topics.create(output, s.partitions, schema);
  else topics.track('topic', output);
  // Bid reads, and the auction writes, the campaigns' spend and frequency counters: start each run from zero.
  if (stage === 'bid' || stage === 'auction') await resetCounters(s.prefix);
  const { records, progress } = await groupLagProgress(topics.admin, group, [input]);
  const dl0 = await topics.deadLetterCount();
  log.info({ stage, input, output, group }, 'starting stage');
  // The client loop has no HTTP server to wait for: the drain clock starts at its first commit anyway.
  const argv = ['--input', input, '--output', output, '--group', group, '--max-batch', s.maxBatch ?? 500, '--concurrency', s.concurrency ?? 8];
  const delivery = stage === 'passthrough' ? deliveries.get(of) : undefined;
  const spec: ServiceSpec = stage === 'client'
    ? { command: () => `${process.execPath} --import tsx bench/lib/client-loop.ts ${argv.join(' ')}`, cpu: s.cpu, ready: 'none' }
    : {
      entry: stageEntry(stage), portVar: 'PROCESSOR_HTTP_PORT', cpu: s.cpu,
      env: stageEnv(stage, { name, input, output, partitions: s.partitions, maxBatch: s.maxBatch, concurrency: s.concurrency, schema, delivery, logLevel: 'info' }),
    };
  const { drain, output: text } = records === 0
    ? { drain: failedDrain(records, `input ${input} is empty: the stage before produced nothing`), output: '' }
    : await drainService(services, name, spec, { records, progress, pollMs: s.pollMs, timeoutMs: s.stageTimeout * 1000, moreHint: 'use more --records' });
  const out = await topics.read(output).catch(() => []);
  const logged = stage === 'client' ? 'at-least-once' : stageDelivery(text);
  if (stage !== 'passthrough' && stage !== 'client' && logged) deliveries.set(stage, logged);
  const result: StageRun = {
    stage, rep, input, group, drain, delivery: logged, output: out.length ? await outputStats(stage === 'client' ? 'passthrough' : stage, out, topics.codec) : null,
    deadLetters: (await topics.deadLetterCount()) - dl0, ...(stage === 'bid' ? { catalogue: catalogueSize(text) } : {}),
  };
  log.info({ stage, input, recordsPerSec: drain.recordsPerSec, cpuSeconds: drain.cpuSeconds, error: drain.error }, 'stage done');
  return { run: result, out };
}

/** `stage`, the pass-through (and the client loop) on one input, `repeat` times, alternating (the stage first: its delivery is then known). */
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

/** A stage's output copied with a plain producer: no commit markers, so "drained" is exact. */
async function copyTo(topic: string, schema: string, records: readonly RawRecord[]): Promise<string> {
  await topics.create(topic, s.partitions, schema);
  await topics.write(topic, records);
  return topic;
}

main(async () => {
  const head = resultHead({ ...s, maxBatch: s.maxBatch ?? 'runner default', concurrency: s.concurrency ?? 'runner default', run, catalogueTopic: TOPICS.campaigns });
  const dog = guard(600_000 + 6 * s.repeat * ((s.readyTimeout + s.stageTimeout) * 1000 + 120_000));
  dog.step('seed');
  const seed = await seedCatalogue(s);
  const runs: StageRun[] = [];
  await topics.connect();
  try {
    dog.step('fill input');
    const req = `bench-proc-${run}-req`;
    await topics.create(req, s.partitions, 'bid-request.avsc');
    await topics.fill(req, bidRequests(s.records, `bench-proc-${run}`, { userPrefix: s.prefix, users: s.users, sizes: SIZES, tmax: 120 }), partitionKey);
    dog.step('stages');
    const enriched = await pair('enrich', req, 'bid-request.avsc', runs, true);
    const bidIn = await copyTo(`bench-proc-${run}-bidin`, 'bid-request.avsc', enriched);
    const aucIn = await copyTo(`bench-proc-${run}-aucin`, 'bid-set.avsc', await pair('bid', bidIn, 'bid-request.avsc', runs));
    await pair('auction', aucIn, 'bid-set.avsc', runs);
    const pairs = [summarize('enrich', req, runs), summarize('bid', bidIn, runs), summarize('auction', aucIn, runs)];
    const report = { summary: processorsSummary(pairs, runs), ...head, seed, pairs, runs, notes: processorsNotes(runs, head) };
    await finish(report, renderProcessors(report), { summary: report.summary, targets: processorsTargetLines(report.summary) });
    if (runs.some((r) => r.drain.error)) process.exitCode = 1;
  } finally {
    await dog.cleanup();
  }
});
