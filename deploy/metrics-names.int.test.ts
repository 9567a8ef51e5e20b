/**
 * Dashboards and alerts name only metrics that exist: every service of deploy/services.ts is started on the
 * real local stack (topics, consumer groups and a Postgres schema of this run's own, so the running
 * pipeline is not disturbed), each /metrics is scraped, and every metric named in an expr of
 * deploy/grafana/dashboards/*.json or deploy/prometheus/alerts.yml must be exported by some service.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';
import { projectServices, type ProjectService } from './services.js';
import { spawnService, type ServiceProcess } from '../processors/testing/spawn-service.js';
import { createLogger } from '../processors/runtime/logger.js';
import { ensureTopics } from '../processors/runtime/kafka.js';
import { freshSchema } from '../processors/runtime/fresh-schema.js';
import { RunTopics } from '../bench/lib/run-topics.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DASHBOARDS = path.join(here, 'grafana/dashboards');
const ALERTS = path.join(here, 'prometheus/alerts.yml');
const DATASOURCES = path.join(here, 'grafana/provisioning/datasources/prometheus.yml');
/** Series Prometheus makes itself for every target rather than scraping them. */
const SYNTHETIC = new Set(['up']);

// ---------------------------------------------------------------------------------------------------
// PromQL: the metric names an expression selects.

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);

/** Metric names in a PromQL expression: label matchers, ranges, label lists, strings, functions, operators and Grafana variables left out. */
export function metricNamesInExpr(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/gi, ' ')
    .replace(/@\s*[0-9.]+/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+)|([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/gi)) {
    const [, num, ident, call] = m;
    if (num !== undefined || ident === undefined || call !== undefined) continue;
    const lower = ident.toLowerCase();
    if (AGGREGATIONS.has(lower) || KEYWORDS.has(lower)) continue;
    names.add(ident);
  }
  return [...names];
}

/**
 * Series names a /metrics page exports: samples, and every family declared by # TYPE even before its
 * first observation (a labelled counter has no sample until then). A histogram exports only
 * <name>_bucket, _sum and _count (no series is called <name>); a summary <name>, _sum and _count.
 */
export function exportedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.add(name + suffix);
      else if (kind === 'summary') for (const suffix of ['', '_sum', '_count']) out.add(name + suffix);
      else out.add(name);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample) out.add(sample[1]!);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// What the dashboards and the alert rules name.

interface Expr { where: string; expr: string }

/** Every `expr` string anywhere in a dashboard (panels, rows' panels, targets). */
function exprsOf(node: unknown, where: string, out: Expr[]): Expr[] {
  if (Array.isArray(node)) node.forEach((n, i) => exprsOf(n, `${where}[${i}]`, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const label = typeof o.title === 'string' ? `${where} "${o.title}"` : where;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'expr' && typeof v === 'string') out.push({ where: label, expr: v });
      else exprsOf(v, `${label}.${k}`, out);
    }
  }
  return out;
}

interface Panel { type: string; title: string; datasource?: { uid?: string }; targets?: Array<{ expr?: string; datasource?: { uid?: string } }>; panels?: Panel[] }
const dashboardFiles = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();
const dashboards = dashboardFiles.map((f) => ({ file: f, json: JSON.parse(readFileSync(path.join(DASHBOARDS, f), 'utf8')) as { uid: string; title: string; panels: Panel[] } }));
const dashboardExprs = dashboards.flatMap((d) => exprsOf(d.json, `${d.file}`, []));
const rules = (parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string; expr: string }> }> }).groups.flatMap((g) => g.rules);
const alertExprs: Expr[] = rules.map((r) => ({ where: `alerts.yml ${r.alert ?? r.record}`, expr: r.expr }));
const allPanels = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

// ---------------------------------------------------------------------------------------------------
// The services, each isolated from the running pipeline.

const run = randomBytes(4).toString('hex');
const T = {
  req: `metrics-names-${run}-req`, enr: `metrics-names-${run}-enr`, bids: `metrics-names-${run}-bids`, out: `metrics-names-${run}-out`,
  tracking: `metrics-names-${run}-tracking`, loss: `metrics-names-${run}-loss`, wc: `metrics-names-${run}-window-counts`, camps: `metrics-names-${run}-campaigns`,
};
const name = (svc: string): string => `mn-${run}-${svc}`;
const proc = { PROCESSOR_INSTANCE_ID: 'metrics-names', PROCESSOR_HTTP_HOST: '127.0.0.1' };

function envFor(svc: ProjectService, pgUrl: string): Record<string, string> {
  const common = { TOPIC_PARTITIONS: '2' };
  const own: Record<string, Record<string, string>> = {
    campaigns: { CAMPAIGNS_HOST: '127.0.0.1', POSTGRES_URL: pgUrl },
    enrich: { ...proc, ENRICH_NAME: name('enrich'), ENRICH_INPUT: T.req, ENRICH_OUTPUT: T.enr },
    bid: { ...proc, BID_NAME: name('bid'), BID_INPUT: T.enr, BID_OUTPUT: T.bids, BID_CAMPAIGNS_TOPIC: T.camps },
    auction: { ...proc, AUCTION_NAME: name('auction'), AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out },
    settle: { ...proc, SETTLE_NAME: name('settle'), SETTLE_INPUT: T.tracking, SETTLE_LOSS_INPUT: T.loss, SETTLE_PENDING_INDEX: `metrics-names:${run}:pending-campaigns` },
    aggregate: { ...proc, AGGREGATE_NAME: name('aggregate'), AGGREGATE_OUTCOMES: T.out, AGGREGATE_TRACKING: T.tracking, AGGREGATE_OUTPUT: T.wc },
    sink: { SINK_INPUT: T.wc, SINK_GROUP: `metrics-names-${run}-sink`, SINK_HTTP_HOST: '127.0.0.1', POSTGRES_URL: pgUrl },
    ingest: { INGEST_HOST: '127.0.0.1', INGEST_TOPIC: T.req, INGEST_OUTCOMES_TOPIC: T.out, INGEST_TRACKING_TOPIC: T.tracking, INGEST_LOSS_TOPIC: T.loss, INGEST_OPENRTB_MODE: 'sync', INGEST_WORKERS: '1', INGEST_NODE_ID: `metrics-names-${run}`, INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'), INGEST_EXCHANGES: JSON.stringify([{ id: 'metrics-names', keys: [randomBytes(24).toString('base64url')] }]) },
  };
  const env = own[svc.name];
  assert.ok(env, `deploy/metrics-names.int.test.ts has no isolated environment for service ${svc.name}: add one (its own topics, group and Postgres schema)`);
  const known = new Set(Object.values(svc.specs).map((s) => s.env));
  for (const k of Object.keys(env)) assert.ok(known.has(k), `${svc.name}: ${k} is not a variable it reads (deploy/services.ts specs)`);
  // The campaigns service refuses to start without a bootstrap operator token (where its config has one).
  const token: Record<string, string> = known.has('CAMPAIGNS_OPERATOR_TOKEN') ? { CAMPAIGNS_OPERATOR_TOKEN: `rtbk_${randomBytes(32).toString('base64url')}`, CAMPAIGNS_OPERATOR_TOKEN_FILE: '' } : {};
  return { ...common, ...env, ...token };
}

const portVarOf = (svc: ProjectService): string => {
  const v = svc.specs[svc.port ?? 'httpPort']?.env;
  assert.ok(v, `${svc.name}: no HTTP port variable in its specs`);
  return v;
};

// ---------------------------------------------------------------------------------------------------

test('the PromQL name extractor keeps metric names and drops functions, labels, ranges and keywords', () => {
  assert.deepEqual(
    metricNamesInExpr('histogram_quantile(0.99, sum by (le, route) (rate(ingest_request_duration_seconds_bucket{route="/openrtb2/bid", status=~"5.."}[$__rate_interval])))'),
    ['ingest_request_duration_seconds_bucket'],
  );
  assert.deepEqual(
    metricNamesInExpr('sum by (processor) (a_total) > 1e3 and on (processor) group_left(x) sum without (partition) (delta(b_records[10m])) > 0 or vector(0) unless c offset 10m'),
    ['a_total', 'b_records', 'c'],
  );
  assert.deepEqual(metricNamesInExpr('(sum(rate(x_total[5m])) or vector(0)) == bool 0'), ['x_total']);
  const page = '# HELP h_seconds x\n# TYPE h_seconds histogram\n# HELP c_total x\n# TYPE c_total counter\ng{a="1"} 3\n';
  assert.deepEqual([...exportedNames(page)].sort(), ['c_total', 'g', 'h_seconds_bucket', 'h_seconds_count', 'h_seconds_sum']);
});

test('dashboards: every panel queries the provisioned Prometheus and names metrics', () => {
  const uid = (parse(readFileSync(DATASOURCES, 'utf8')) as { datasources: Array<{ uid?: string; type: string }> }).datasources.find((d) => d.type === 'prometheus')?.uid;
  assert.ok(uid, 'the provisioned Prometheus datasource has a uid');
  assert.ok(dashboards.length > 0, 'deploy/grafana/dashboards has dashboards');
  for (const d of dashboards) {
    const panels = allPanels(d.json.panels).filter((p) => p.type !== 'row');
    assert.ok(panels.length > 0, `${d.file}: panels`);
    for (const p of panels) {
      assert.equal(p.datasource?.uid, uid, `${d.file} "${p.title}": datasource uid`);
      const exprs = (p.targets ?? []).map((t) => t.expr ?? '');
      assert.ok(exprs.length > 0, `${d.file} "${p.title}": no query`);
      for (const e of exprs) assert.ok(metricNamesInExpr(e).length > 0, `${d.file} "${p.title}": ${e} names no metric`);
    }
  }
});

describe('against every service of deploy/services.ts, started on the local stack', () => {
  const log = createLogger('metrics-names-test', 'warn');
  const topics = new RunTopics(log, `metrics-names-${run}`);
  const cleanups: Array<() => Promise<void>> = [];
  const started: Array<{ svc: ProjectService; proc: ServiceProcess }> = [];
  /** Exported series names per service, from one scrape after all are ready. */
  const scraped = new Map<string, { text: string; names: Set<string> }>();

  before(async () => {
    await topics.connect();
    for (const t of Object.values(T)) topics.track('topic', t);
    for (const prefix of [`rtb-mn-${run}-`, `metrics-names-${run}-`, `rtb-edge-metrics-names-${run}-`, `table-${T.camps}-`]) topics.trackGroupPrefix(prefix);
    // bid follows a compacted campaigns topic of its own (empty: no campaign bids).
    await ensureTopics(topics.admin, [{ topic: T.camps, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
    const db = await freshSchema({ after: (fn) => void cleanups.push(fn) }, 'metrics_names');
    const results = await Promise.allSettled(
      projectServices.map(async (svc) => {
        const p = await spawnService(svc.entry, portVarOf(svc), envFor(svc, db.url), 120_000);
        started.push({ svc, proc: p });
      }),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${projectServices[i]!.name}: ${(r.reason as Error).message}`] : []));
    assert.deepEqual(failed, [], 'every service starts and becomes ready');
    for (const { svc, proc: p } of started) {
      const res = await fetch(`${p.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(res.status, 200, `${svc.name} /metrics`);
      const text = await res.text();
      scraped.set(svc.name, { text, names: exportedNames(text) });
    }
  });

  after(async () => {
    await Promise.all(started.map(({ proc: p }) => p.stop()));
    await topics.cleanup();
    for (const fn of cleanups) await fn();
  });

  test('every service was scraped and exports its own metrics, labelled with its name', () => {
    const own: Record<string, string> = {
      campaigns: 'campaigns_api_requests_total', enrich: 'enrich_breaker_state', bid: 'bid_decisions_total', auction: 'auction_reservations_total',
      settle: 'settle_reservations_total', aggregate: 'aggregate_late_records_total', sink: 'sink_consumer_lag_records', ingest: 'ingest_requests_total',
    };
    assert.deepEqual([...scraped.keys()].sort(), projectServices.map((s) => s.name).sort());
    for (const [svc, { text, names }] of scraped) {
      assert.ok(names.has('process_cpu_seconds_total'), `${svc}: Node's default metrics`);
      assert.match(text, new RegExp(`service="${svc}"`), `${svc}: series carry service="${svc}"`);
      if (own[svc]) assert.ok(names.has(own[svc]), `${svc} exports ${own[svc]}`);
    }
  });

  test('every metric named by a dashboard panel or an alert rule is exported by a running service', () => {
    const exported = new Set([...scraped.values()].flatMap((s) => [...s.names]));
    const named = new Map<string, string[]>();
    for (const { where, expr } of [...dashboardExprs, ...alertExprs]) {
      const names = metricNamesInExpr(expr);
      assert.ok(names.length > 0, `${where}: ${expr} names no metric`);
      for (const n of names) named.set(n, [...(named.get(n) ?? []), where]);
    }
    const missing = [...named].filter(([n]) => !exported.has(n) && !SYNTHETIC.has(n)).map(([n, where]) => `${n} (${[...new Set(where)].join('; ')})`);
    assert.deepEqual(missing, [], 'metrics named in dashboards or alerts that no service exports');

    // The other direction: the extraction found what the files are known to use, in scrapes of real size.
    const dash = new Set(dashboardExprs.flatMap((e) => metricNamesInExpr(e.expr)));
    const alerts = new Set(alertExprs.flatMap((e) => metricNamesInExpr(e.expr)));
    for (const n of ['ingest_requests_total', 'ingest_request_duration_seconds_bucket', 'processor_consumer_lag_records', 'processor_batch_duration_seconds_bucket',
      'processor_dead_letters_total', 'enrich_breaker_state', 'auction_reservations_total', 'settle_reservations_total', 'sink_consumer_lag_records', 'sink_rows_written_total']) {
      assert.ok(dash.has(n), `the dashboards use ${n}`);
    }
    for (const n of ['ingest_requests_total', 'ingest_sync_timeouts', 'processor_consumer_lag_records', 'processor_dead_letters_total', 'sink_consumer_lag_records', 'enrich_breaker_state', 'auction_reservations_total']) {
      assert.ok(alerts.has(n), `the alert rules use ${n}`);
    }
    assert.ok(exported.size > 50, `${exported.size} exported names`);
  });
});
