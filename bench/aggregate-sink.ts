/**
 * Scenario: the analytics half, aggregate -> window-counts -> sink -> Postgres, on topics and campaigns of the run's own
 * (bench/README.md); the delay from a bid request to Postgres is e2e.ts's, with every service running.
 */
import { PipelineError } from '../schemas/errors.js';
import { freshSchema } from '../processors/runtime/fresh-schema.js';
import { seenKey } from '../processors/aggregate/dedup.js';
import { makeTraffic } from '../processors/aggregate/traffic-fixture.js';
import { BATCH_SERIES, batchDelta, metricDeltas, scrapeMetrics } from './lib/metrics-scrape.js';
import { loadAverage, median, ratio, resultHead, scenario } from './lib/results.js';
import { stackConfig } from './lib/run-topics.js';
import { groupOf, stageEntry, stageEnv } from './lib/stages.js';
import { cpu, int } from './lib/options.js';
import { drainService, groupLagProgress, sinkDrainResult, sinkProgress, sinkTargets } from './lib/drain.js';
import { unlinkMatching } from './lib/catalogue.js';
import { aggregateSinkNotes, renderAggregateSink, type AggregateSinkReport, type ThroughputRun } from './lib/aggregate-sink-report.js';

const { s, log, run, topics, services, guard, finish, main } = scenario('aggregate-sink', {
  events: int(2000, '20000'), repeat: int(1, '3'), partitions: int(1, '12'), cpu: cpu('1'), maxBatch: int(1), sinkMaxBatch: int(1), pollMs: int(10, '50'),
  readyTimeout: int(5, '60'), drainTimeout: int(10, '150'), maxSeconds: int(60, '420'),
});
const campPrefix = `bas-${run}`;
const T = {
  o: `bench-as-${run}-outcomes`, t: `bench-as-${run}-tracking`, w: `bench-as-${run}-window-counts`, copy: `bench-as-${run}-outcomes-copy`,
  copyT: `bench-as-${run}-tracking-copy`, l: `bench-as-${run}-loss-notices`,
};
const names = { passthrough: `bench-as-${run}-pt`, aggregate: `bench-as-${run}-agg` };
const sinkGroup = `bench-as-${run}-sink`;
const dropSchema: Array<() => Promise<void>> = [];
const EXTRA_SERIES = ['processor_records_out_total', 'aggregate_duplicate_notices_total', 'aggregate_late_records_total', 'processor_dead_letters_total'];
const common = { TOPIC_PARTITIONS: String(s.partitions), PROCESSOR_INSTANCE_ID: 'bench', PROCESSOR_HTTP_HOST: '127.0.0.1' };
const aggEnv = (rep: number, output: string): Record<string, string> => ({
  ...common, ...(s.maxBatch ? { PROCESSOR_MAX_BATCH: String(s.maxBatch) } : {}),
  AGGREGATE_NAME: `${names.aggregate}-${rep}`, AGGREGATE_OUTCOMES: T.o, AGGREGATE_TRACKING: T.t, AGGREGATE_LOSSES: T.l, AGGREGATE_OUTPUT: output,
});

/** The pre-filled traffic: `calls` x makeTraffic (2000 outcomes each). */
function traffic(now: number) {
  const calls = Math.ceil(s.events / 2000);
  const made = Array.from({ length: calls }, (_, j) => makeTraffic(`${campPrefix}-k${j}`, now, j + 1));
  const outcomes = made.flatMap((t) => t.outcomes).slice(0, s.events);
  const ids = new Set(outcomes.map((o) => o.requestId));
  return { outcomes, notices: made.flatMap((t) => t.notices).filter((n) => ids.has(n.requestId)), calls };
}

async function measureProcessor(label: ThroughputRun['label'], rep: number, inputs: string[], env: Record<string, string>, entry: string, group: string) {
  topics.track('group', group);
  const dl0 = await topics.deadLetterCount();
  const { perTopic, records, progress } = await groupLagProgress(topics.admin, group, inputs);
  const { drain: { samples, ...drain } } = await drainService(services, `${label} #${rep + 1}`, { entry, portVar: 'PROCESSOR_HTTP_PORT', env, cpu: s.cpu }, {
    records, progress, pollMs: s.pollMs, postgres: true, timeoutMs: s.drainTimeout * 1000, moreHint: 'use more events',
    sample: (svc) => scrapeMetrics(svc.url, [...BATCH_SERIES, ...EXTRA_SERIES]),
  });
  const [before, after] = [samples?.first ?? {}, samples?.last ?? {}];
  const extra = samples ? metricDeltas(EXTRA_SERIES, before, after, true) : {};
  const deadLetters = (await topics.deadLetterCount()) - dl0;
  const batches = batchDelta(label, before, after, drain.seconds);
  return { label, rep, group, drain: { perTopic, ...drain }, batches, extra, deadLetters } satisfies ThroughputRun;
}

/** Repetitions of the pass-throughs and the aggregate, alternating the order; then the medians and ratios. */
async function throughput(report: AggregateSinkReport, step: (name: string) => void) {
  const passthrough = (label: ThroughputRun['label'], rep: number, input: string, output: string, schema: string) => {
    const name = `${names.passthrough}${label === 'passthrough' ? '' : '-t'}-${rep}`;
    const env = stageEnv('passthrough', { name, input, output, partitions: s.partitions, maxBatch: s.maxBatch, schema });
    return measureProcessor(label, rep, [input], env, stageEntry('passthrough'), groupOf(name));
  };
  for (let rep = 0; rep < s.repeat; rep++) {
    const order = ['passthrough', 'passthrough-tracking', 'aggregate'] as const;
    for (const which of rep % 2 === 0 ? order : [...order].reverse()) {
      step(`${which} #${rep + 1}`);
      // Repetition 0's aggregate writes the window-counts topic the sink reads; later ones write topics of their own.
      const output = rep === 0 ? T.w : `${T.w}-rep${rep}`;
      if (which === 'aggregate' && rep > 0) await topics.create(output, s.partitions, 'window-count.avsc');
      const m = which === 'passthrough' ? await passthrough(which, rep, T.o, T.copy, 'auction-outcome.avsc')
        : which === 'passthrough-tracking' ? await passthrough(which, rep, T.t, T.copyT, 'tracking-event.avsc')
        : await measureProcessor('aggregate', rep, [T.o, T.t], aggEnv(rep, output), 'processors/aggregate/main.ts', groupOf(`${names.aggregate}-${rep}`));
      report.throughput.push(m);
      log.info({ which, rep, eventsPerSec: m.drain.recordsPerSec, error: m.drain.error }, 'measured');
    }
  }
  const med = (label: string, k: 'recordsPerSec' | 'recordsPerCpuSec'): number | null =>
    median(report.throughput.filter((t) => t.label === label).map((t) => t.drain[k]));
  const rates = (l: string) => ({ eventsPerSec: med(l, 'recordsPerSec'), eventsPerCpuSec: med(l, 'recordsPerCpuSec') });
  const [agg, pt, ptt] = [rates('aggregate'), rates('passthrough'), rates('passthrough-tracking')];
  // The same events through the pass-through: the outcomes at its outcomes rate plus the notices at its notices rate.
  const [no, nt] = [report.traffic.outcomes, report.traffic.notices];
  const blend = (a: number | null, b: number | null): number | null => (a && b ? Math.round((no + nt) / (no / a + nt / b)) : null);
  const same = { eventsPerSec: blend(pt.eventsPerSec, ptt.eventsPerSec), eventsPerCpuSec: blend(pt.eventsPerCpuSec, ptt.eventsPerCpuSec) };
  report.medians = { passthrough: pt, 'passthrough-tracking': ptt, aggregate: agg, 'passthrough-same-events': same };
  report.ratio = {
    eventsPerSec: ratio(agg.eventsPerSec, pt.eventsPerSec), eventsPerCpuSec: ratio(agg.eventsPerCpuSec, pt.eventsPerCpuSec),
    sameEventsPerSec: ratio(agg.eventsPerSec, same.eventsPerSec), sameEventsPerCpuSec: ratio(agg.eventsPerCpuSec, same.eventsPerCpuSec),
  };
}

main(async () => {
  const settings = { ...s, cpu: s.cpu ?? 'none', maxBatch: s.maxBatch ?? 'runner default (500)', sinkMaxBatch: s.sinkMaxBatch ?? 'sink default (2000)' };
  const report: AggregateSinkReport = {
    ...resultHead({ ...settings, run, campaignPrefix: campPrefix, topics: T, sinkGroup }), loadAvgEnd: [],
    traffic: { outcomes: 0, notices: 0, calls: 0, campaigns: 0, windowCountsRecords: null }, stops: services.stops, throughput: [], medians: null,
    ratio: { eventsPerSec: null, eventsPerCpuSec: null, sameEventsPerSec: null, sameEventsPerCpuSec: null }, sink: null, cleanup: [], notes: [],
  };
  topics.track('group', sinkGroup);
  const dog = guard(s.maxSeconds * 1000, async () => {
    await services.stopAll(); // every process group gone before its schema is dropped
    for (const drop of dropSchema) await drop().then(() => report.cleanup.push('schema dropped'), (err: unknown) => report.cleanup.push(`dropping the schema failed: ${err}`));
    const keys = await unlinkMatching(stackConfig.redisUrl, [`${seenKey(`e-${campPrefix}-`)}*`]).catch(() => null);
    report.cleanup.push(`${keys ?? 'n/a'} Redis de-duplication keys of the run's events deleted`);
    await topics.cleanup();
  });
  // The sink writes into a Postgres schema of the run's own (migrated, dropped at the end): no shared row is touched.
  const pg = await freshSchema({ after: (fn) => void dropSchema.push(fn) }, `bench_as_${run}`);
  report.settings.schema = pg.schema;
  await topics.connect();
  const failed = (message: string): PipelineError => new PipelineError('DEPENDENCY_UNAVAILABLE', message);
  await dog.steps(async () => {
    dog.step('fill');
    const schemas = { o: 'auction-outcome', t: 'tracking-event', w: 'window-count', copy: 'auction-outcome', copyT: 'tracking-event', l: 'loss-notice' } as const;
    for (const [k, topic] of Object.entries(T)) await topics.create(topic, s.partitions, `${schemas[k as keyof typeof T]}.avsc`);
    const { outcomes, notices, calls } = traffic(Date.now());
    report.traffic = { outcomes: outcomes.length, notices: notices.length, calls, campaigns: calls * 5, windowCountsRecords: null };
    await topics.fill(T.o, outcomes, (o) => o.requestId);
    await topics.fill(T.t, notices, (n) => n.requestId);
    log.info({ outcomes: outcomes.length, notices: notices.length }, 'inputs filled');
    await throughput(report, (name) => dog.step(name));
    const agg0 = report.throughput.find((t) => t.label === 'aggregate' && t.rep === 0);
    if (agg0?.drain.error) throw failed(`aggregate failed, skipping the sink step: ${agg0.drain.error}`);
    dog.step('sink');
    const dl0 = await topics.deadLetterCount();
    const targets = await sinkTargets(topics.admin, T.w);
    // Watched from its first instruction, not started after /ready: it consumes before its HTTP server is up and, on a small topic, finishes first.
    const env = { SINK_INPUT: T.w, SINK_GROUP: sinkGroup, SINK_HTTP_HOST: '127.0.0.1', TOPIC_PARTITIONS: String(s.partitions), POSTGRES_URL: pg.url };
    if (s.sinkMaxBatch) Object.assign(env, { SINK_MAX_BATCH: String(s.sinkMaxBatch) });
    const { drain, svc: sink } = await drainService(services, 'sink', { entry: 'sink/main.ts', portVar: 'SINK_HTTP_PORT', cpu: s.cpu, ready: 'watch', env }, {
      ...sinkProgress(topics.admin, pg.sql, sinkGroup, T.w, targets), postgres: true, moreHint: 'use more events', pollMs: s.pollMs,
      timeoutMs: s.drainTimeout * 1000,
    });
    const sd = sinkDrainResult(drain, targets);
    report.sink = { ...sd, deadLetters: (await topics.deadLetterCount()) - dl0 };
    report.traffic.windowCountsRecords = sd.ledgerAtEnd?.parts ?? null;
    log.info({ recordsPerSec: sd.recordsPerSec, rowsTouchedPerSec: sd.rowsTouchedPerSec, error: sd.error }, 'sink done');
    if (sd.error || !sink) throw failed(`sink failed: ${sd.error}`);
  }, report.notes);
  report.loadAvgEnd = loadAverage();
  report.notes.unshift(...aggregateSinkNotes(report));
  const sink = report.sink && { recordsPerSec: report.sink.recordsPerSec, rowsTouchedPerSec: report.sink.rowsTouchedPerSec };
  const aggregate = report.throughput.map((t) => [t.label, t.drain.recordsPerSec]);
  await finish(report, renderAggregateSink(report), { ratio: report.ratio, aggregate, sink });
});
