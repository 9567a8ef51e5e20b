/**
 * Scenario: the async edge with every service of deploy/services.ts, on topics, groups and a Postgres schema of the run's
 * own, at rates rising until Postgres falls behind (bench/README.md, e2e.ts, also for what is shared with the stack).
 */
import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import { freshSchema } from '../processors/runtime/fresh-schema.js';
import { seenKey } from '../processors/aggregate/dedup.js';
import { outcomeEventId } from '../processors/aggregate/aggregate.js';
import { resetCounters, SEED_FLAGS, seedCatalogue, seedLoadFlags, unlinkMatching } from './lib/catalogue.js';
import { e2eNotes, e2eSummary, e2eSvg, e2eTargetLines, renderE2e, type E2eLimits, type E2eRateRun, type E2eReport } from './lib/e2e-report.js';
import { lagByGroup, lagSnapshot, netLag, PartIndex, sampleLag, visibleLags, type GroupTopics } from './lib/lag.js';
import { metricDeltas, scrapeMetrics } from './lib/metrics-scrape.js';
import { cpu, errorText, int, list, num } from './lib/options.js';
import { loadAverage, resultHead, scenario } from './lib/results.js';
import { stackConfig } from './lib/run-topics.js';
import { runLoad } from './lib/services.js';
import { decisionStages, edgeSpec, groupOf, pipelineTopics } from './lib/stages.js';

const WINDOW_MS = 60_000;
const { s, log, run, topics, services, guard, finish, main } = scenario('e2e', {
  rates: list(1, '1000,2000,3000,5000,7500,10000', true), duration: num(1, '60'), warmupSec: num(0, '10'), drainLimit: num(0, '5'), lagLimit: num(1, '5000'),
  drainTimeout: num(1, '120'), connections: int(1, '256'), timeout: num(1, '2000'), partitions: int(1, '12'), loadCpu: cpu('none'), ...SEED_FLAGS,
  readyTimeout: num(5, '120'),
});
const limits: E2eLimits = { drainSec: s.drainLimit, lagP99Ms: s.lagLimit, acceptedShare: 0.99 };
const T = pipelineTopics(`bench-e2e-${run}`, { tracking: 'tracking', loss: 'loss-notices', wc: 'window-counts' });
const name = (svc: string): string => `e2e-${run}-${svc}`;
const sinkGroup = `bench-e2e-${run}-sink`;
const pendingIndex = `bench:e2e:${run}:pending-campaigns`;
const groups: GroupTopics[] = [
  { group: groupOf(name('enrich')), topics: [T.req] }, { group: groupOf(name('bid')), topics: [T.enr] }, { group: groupOf(name('auction')), topics: [T.bids] },
  { group: groupOf(name('aggregate')), topics: [T.out, T.tracking, T.loss] }, { group: groupOf(name('settle')), topics: [T.tracking, T.loss] }, { group: sinkGroup, topics: [T.wc] },
];
const dropSchema: Array<() => Promise<void>> = [];
const loadFlags = seedLoadFlags(s);

async function startAll(pgUrl: string): Promise<void> {
  const common = { TOPIC_PARTITIONS: String(s.partitions) };
  const proc = (entry: string, env: Record<string, string>) =>
    ({ entry, portVar: 'PROCESSOR_HTTP_PORT', env: { ...common, PROCESSOR_INSTANCE_ID: 'bench', PROCESSOR_HTTP_HOST: '127.0.0.1', ...env } });
  const aggregate = { AGGREGATE_NAME: name('aggregate'), AGGREGATE_OUTCOMES: T.out, AGGREGATE_TRACKING: T.tracking, AGGREGATE_LOSSES: T.loss, AGGREGATE_OUTPUT: T.wc };
  // A throw-away operator token: the campaigns API must have one to start, and the bench never calls it.
  const pg = { POSTGRES_URL: pgUrl };
  const campaigns = { ...common, CAMPAIGNS_HOST: '127.0.0.1', ...pg, CAMPAIGNS_OPERATOR_TOKEN: `rtbk_${randomBytes(32).toString('base64url')}` };
  for (const g of groups) topics.track('group', g.group);
  await services.startAll({
    sink: { entry: 'sink/main.ts', portVar: 'SINK_HTTP_PORT', env: { ...common, SINK_INPUT: T.wc, SINK_GROUP: sinkGroup, SINK_HTTP_HOST: '127.0.0.1', ...pg } },
    aggregate: proc('processors/aggregate/main.ts', { ...aggregate, AGGREGATE_WINDOW_MS: String(WINDOW_MS) }),
    settle: proc('processors/settle/main.ts', { SETTLE_INPUT: T.tracking, SETTLE_LOSS_INPUT: T.loss, SETTLE_NAME: name('settle'), SETTLE_PENDING_INDEX: pendingIndex }),
    ...decisionStages(`e2e-${run}`, T, { partitions: s.partitions }),
    campaigns: { entry: 'processors/campaigns/main.ts', portVar: 'CAMPAIGNS_PORT', env: campaigns },
  });
  const env = { INGEST_TRACKING_TOPIC: T.tracking, INGEST_LOSS_TOPIC: T.loss };
  await services.start('edge', edgeSpec({ mode: 'async', topic: T.req, outcomes: T.out, nodeId: `bench-e2e-${run}`, partitions: s.partitions, env }));
}

const ACCEPTED = 'ingest_requests_total{status="202"}';
/** Sum of `requests` over the all-request rows (campaign '*'); null when unreadable. */
const allRequests = async (sql: postgres.Sql): Promise<number | null> =>
  sql<Array<{ n: string }>>`select coalesce(sum(requests), 0)::text as n from window_counts where campaign_id = '*'`.then((r) => Number(r[0]!.n), () => null);
const edgeAccepted = () => scrapeMetrics(services.get('edge').url, [ACCEPTED]);
const published = async (): Promise<number> => (await topics.admin.fetchTopicOffsets(T.req)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);

/** Polls until Postgres counts every request on the request topic; seconds it took, or null after `timeoutMs`. */
async function drained(sql: postgres.Sql, timeoutMs: number): Promise<number | null> {
  for (const t0 = performance.now(); performance.now() - t0 < timeoutMs; await new Promise((r) => setTimeout(r, 200))) {
    if (((await allRequests(sql)) ?? 0) >= (await published())) return Math.round(performance.now() - t0) / 1000;
  }
  return null;
}

async function rate(sql: postgres.Sql, offeredRps: number, durationSec: number, idPrefix: string): Promise<E2eRateRun> {
  const out: E2eRateRun = {
    offeredRps, idPrefix, startedAtMs: Date.now(), load: null, edgeAccepted: null, drainSec: null, endLagRecords: null, endLagByGroup: {}, lagTimeline: [], cpu: {},
    lag: null,
  };
  const dead = services.dead();
  if (dead) return { ...out, error: dead };
  const accepted0 = await edgeAccepted();
  const sampler = sampleLag(topics.admin, groups);
  out.startedAtMs = Date.now();
  const url = `${services.get('edge').url}/openrtb2/bid`;
  const extra = [...loadFlags, '--id-prefix', idPrefix];
  const load = { url, rate: offeredRps, durationSec, warmupSec: 1, connections: s.connections, timeoutMs: s.timeout, cpu: s.loadCpu, extra };
  const { result, error, cpu } = await runLoad(load, services.cpuSubjects());
  Object.assign(out, { load: result ?? null, cpu }, error ? { error } : {});
  const end = await lagSnapshot(topics.admin, groups);
  out.drainSec = await drained(sql, s.drainTimeout * 1000);
  out.lagTimeline = await sampler.stop();
  out.endLagByGroup = lagByGroup(end);
  out.endLagRecords = netLag(end, out.drainSec === null ? null : await lagSnapshot(topics.admin, groups));
  out.edgeAccepted = metricDeltas([ACCEPTED], accepted0, await edgeAccepted(), true)[ACCEPTED] ?? null; // no 202 yet: no series
  const { drainSec, endLagRecords: endLag } = out;
  log.info({ offeredRps, accepted: out.load?.acceptedRps, edgeP99: out.load?.latencyMs.p99, endLag, drainSec, error }, 'rate done');
  return out;
}

main(async () => {
  const head = resultHead({ ...s, loadCpu: s.loadCpu ?? 'none', run, topics: T, sinkGroup, windowMs: WINDOW_MS, loadFlags });
  const cleanup: string[] = [];
  const perRate = s.duration + 1 + s.timeout / 1000 + s.drainTimeout + 30;
  const dog = guard((900 + s.warmupSec + s.rates.length * perRate) * 1000, async () => {
    await services.stopAll();
    for (const drop of dropSchema) await drop().catch((err: unknown) => cleanup.push(`dropping the schema failed: ${errorText(err)}`));
    const keys = await unlinkMatching(stackConfig.redisUrl, [`${seenKey(outcomeEventId(`${run}-`, 'dev'))}*`, pendingIndex]).catch(() => null);
    const counters = await resetCounters(s.prefix);
    cleanup.push(`schema dropped; ${keys ?? 'n/a'} Redis de-duplication keys of the run's requests deleted; ${counters} counter keys of ${s.prefix}cmp-* reset`);
    await topics.cleanup();
  });
  dog.step('seed');
  const seed = await seedCatalogue(s, true);
  await topics.connect();
  const pg = await freshSchema({ after: (fn) => void dropSchema.push(fn) }, `bench_e2e_${run}`);
  const report: E2eReport = {
    summary: { sustainedRps: null, exact: false, lagP99Ms: null, rates: [] }, ...head, loadAvgEnd: [], settings: { ...head.settings, schema: pg.schema },
    limits, processes: {}, seed, warmup: null, runs: [],
    totals: { edgeAccepted: null, requestTopicRecords: null, postgresRequests: null, drained: false }, cleanup, notes: [],
  };
  await dog.steps(async () => {
    dog.step('create topics');
    const schemas = { req: 'bid-request', enr: 'bid-request', bids: 'bid-set', out: 'auction-outcome', tracking: 'tracking-event', loss: 'loss-notice', wc: 'window-count' } as const;
    await topics.createAll(Object.fromEntries(Object.entries(T).map(([k, topic]) => [topic, schemas[k as keyof typeof T]])), s.partitions);
    dog.step('start services');
    await startAll(pg.url);
    report.processes = services.commands();
    dog.step('warm-up');
    if (s.warmupSec > 0) report.warmup = await rate(pg.sql, s.rates[0]!, s.warmupSec, `${run}-w`);
    for (const offered of s.rates) {
      dog.step(`rate ${offered}`);
      const r = await rate(pg.sql, offered, s.duration, `${run}-r${offered}`);
      report.runs.push(r);
      if (r.error || r.drainSec === null || r.drainSec > limits.drainSec) {
        const why = r.error ? `it failed (${r.error.split('\n')[0]})`
          : r.drainSec === null ? `Postgres had not caught up ${s.drainTimeout} s after the load`
          : `Postgres caught up only ${r.drainSec} s after the load (limit ${limits.drainSec} s)`;
        report.notes.push(`Stopped rising after ${offered} req/s: ${why}.`);
        break;
      }
    }
    dog.step('final drain');
    const final = await drained(pg.sql, s.drainTimeout * 1000);
    const accepted = (await edgeAccepted())[ACCEPTED] ?? null;
    const totals = { edgeAccepted: accepted, requestTopicRecords: await published(), postgresRequests: await allRequests(pg.sql) };
    report.totals = { ...totals, drained: final !== null };
    const dead = services.dead();
    if (dead) report.notes.push(`A service died during the run: ${dead.split('\n')[0]}`);
    dog.step('receipt -> visible lag');
    const all = [...(report.warmup ? [report.warmup] : []), ...report.runs];
    const runs = all.map((r) => ({ idPrefix: r.idPrefix, startMs: r.startedAtMs }));
    const lags = await visibleLags(topics, T.out, await PartIndex.load(pg.sql, T.out), runs, WINDOW_MS);
    all.forEach((r, i) => (r.lag = lags[i]!));
  }, report.notes);
  report.summary = e2eSummary(report.runs, report.totals, limits);
  report.loadAvgEnd = loadAverage();
  report.notes.push(...e2eNotes(report));
  await finish(report, renderE2e(report), { summary: report.summary, targets: e2eTargetLines(report.summary) }, e2eSvg(report));
});
