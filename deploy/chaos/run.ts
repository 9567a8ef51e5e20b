/**
 * The chaos proof, edge to Postgres (issue 12): the main command (deploy/run-services.ts under its
 * supervisor) on topics, consumer groups and a Postgres schema of the run's own, steady open-loop load
 * at the edge (asynchronous and synchronous requests, win/billing/impression notices, some sent twice),
 * and in turn a `kill -9` of each fault target: a service (the supervisor restarts it) or a stack server
 * (Kafka, Redis, the Postgres postmaster: restarted with deploy/stack/stack.sh). After each fault it waits
 * until the pipeline has recovered, and measures how long that took:
 *   back       the killed service answers /ready again (restarted by the supervisor), or the stack server
 *              is up again (restarted by stack.sh after `outageSec` down);
 *   recovered  every service answers /ready, the edge has answered 202 to a request sent after "back",
 *              and every consumer group (the sink: its Postgres positions) has got past the end offsets
 *              its inputs had at "back", i.e. the backlog of the outage is through to Postgres.
 * Then the load stops, the pipeline drains (group lag 0, the sink's Postgres positions at the data ends),
 * and checks.ts compares what the load was answered, what Kafka holds and what Postgres counts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import postgres from 'postgres';
import { createLogger } from '../../processors/runtime/logger.js';
import { createRedis } from '../../processors/runtime/redis.js';
import { CommittedOffsets, groupLag, waitDrained } from '../../processors/runtime/group-lag.js';
import { topicEnds } from '../../processors/runtime/end-offsets.js';
import { purgeAdvertisers } from '../../processors/campaigns/campaign-cleanup.js';
import { bearer, operatorTokenFile } from '../../processors/campaigns/auth-fixture.js';
import { PENDING_CAMPAIGNS_KEY } from '../../processors/domain/redis-keys.js';
import { outcomeEventId } from '../../processors/aggregate/aggregate.js';
import { seenKey } from '../../processors/aggregate/dedup.js';
import { sinkDrained, sinkPositions } from '../../sink/offsets.js';
import { freshSchema, type FreshSchema } from '../../processors/runtime/fresh-schema.js';
import { RunTopics, stackConfig } from '../../bench/lib/run-topics.js';
import { readTopicFully } from '../../processors/runtime/read-topic.js';
import { unlinkMatching } from '../../bench/lib/catalogue.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { TrackingEvent } from '../../schemas/tracking-event.js';
import type { Admin } from '../../processors/runtime/kafka.js';
import { projectServices, servicePort } from '../services.js';
import { ChaosLoad, type LoadCounts } from './load.js';
import { runChecks, type Check, type CountRow, type SentRequest, type TopicNotice, type TopicOutcome, type TopicRequest } from './checks.js';
import { SupervisedPipeline } from './pipeline.js';
import { chaosStack } from './stack-env.js';
import { STACK_COMPONENTS, killStack, restartStack, stackListening, stackPid, type StackComponent } from './stack-control.js';

export const SERVICE_TARGETS = projectServices.map((s) => s.name);
export const ALL_TARGETS = [...SERVICE_TARGETS, ...STACK_COMPONENTS];
/** Not a fault: the recovery conditions measured with nothing broken, for comparison. */
export const BASELINE = 'baseline';

export interface ChaosOptions {
  root: string;
  /** Fault targets in order: service names (deploy/services.ts) and kafka, redis, postgres. */
  faults: string[];
  asyncRate: number;
  syncRate: number;
  tmaxMs: number;
  /** Per request and notice: given up this long after its scheduled time. */
  requestTimeoutMs: number;
  connections: number;
  /** Steady load before the first fault, after each recovery, and after the last one. */
  warmupSec: number;
  gapSec: number;
  tailSec: number;
  /** How long a killed stack server stays down before stack.sh restarts it. */
  outageSec: number;
  recoverTimeoutMs: number;
  readyTimeoutMs: number;
  drainTimeoutMs: number;
  partitions: number;
  windowMs: number;
  /** RTB_PORT_OFFSET of the run's services; undefined: the first offset whose ports are all free. */
  portOffset?: number;
  logDir: string;
  /** Keep the run's topics, groups and schema (for a look after a failure). */
  keep: boolean;
  /**
   * Bound on the whole run (ms, default none): faults stop being injected, and recovery waits end, early
   * enough to leave `drainTimeoutMs` + 30 s for draining, checking and cleaning up (a test file has 5 minutes).
   */
  budgetMs?: number;
  /** Aborting it (Ctrl-C) ends the faults and the waits and goes to the cleanup, which restarts any stack server left down. */
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface FaultResult {
  target: string;
  kind: 'service' | 'stack' | 'none';
  /** Seconds since the load started. */
  atSec: number;
  pid: number | null;
  backMs: number | null;
  recoveredMs: number | null;
  /** Requests scheduled between the fault and the recovery that were not acknowledged (5xx, errors, timeouts, never sent). */
  edgeFailures: number;
  /** Services the supervisor saw exit meanwhile (besides a killed service itself). */
  exited: string[];
  /** What recovery was waiting for, each time that changed (ms since the fault). */
  waits: Array<{ atMs: number; state: string }>;
  error?: string;
}

export interface ChaosResult {
  ok: boolean;
  run: string;
  settings: Record<string, unknown>;
  faults: FaultResult[];
  checks: Check[];
  load: LoadCounts;
  /** The load generator's event-loop delay (ms): high values mean the generator, not the pipeline, was late. */
  generatorLoopDelayMs: { p50: number; p99: number; max: number } | null;
  durationsMs: Record<string, number>;
  supervisor: string[];
  errors: string[];
  cleanup: string[];
}

/** Set by runChaos from its options: an interrupted run stops waiting and goes to its cleanup. */
let interrupt: AbortSignal | undefined;
const sleep = (ms: number): Promise<void> => new Promise((resolve, reject) => {
  if (interrupt?.aborted) return reject(new Error('interrupted'));
  const t = setTimeout(() => (interrupt?.removeEventListener('abort', stop), resolve()), ms);
  const stop = (): void => (clearTimeout(t), reject(new Error('interrupted')));
  interrupt?.addEventListener('abort', stop, { once: true });
});

/** True when nothing accepts connections on 127.0.0.1:`port` and it can be bound. */
async function portFree(port: number): Promise<boolean> {
  const connects = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
  if (connects) return false;
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** The first port offset (the stack's own shift first: 9092 -> STACK_KAFKA_PORT) whose service ports are all free. */
async function choosePortOffset(): Promise<number> {
  const stackShift = chaosStack.kafka - 9092;
  const candidates = [...new Set([stackShift >= 0 && stackShift <= 50_000 ? stackShift : 10_000, 10_000, 20_000, 30_000, 40_000])];
  for (const offset of candidates) {
    const ports = projectServices.map((s) => servicePort(s, offset, {})!);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return offset;
  }
  throw new Error(`no free set of service ports at offsets ${candidates.join(', ')}`);
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = performance.now();
  interrupt = o.signal;
  const run = `chaos-${randomBytes(4).toString('hex')}`;
  const durationsMs: Record<string, number> = {};
  const errors: string[] = [];
  const cleanup: string[] = [];
  const faults: FaultResult[] = [];
  let checks: Check[] = [];
  let counts: LoadCounts = { async: {}, sync: {}, notices: {} };
  let loopDelay: ChaosResult['generatorLoopDelayMs'] = null;
  const endBy = started + (o.budgetMs ?? Number.POSITIVE_INFINITY);
  const faultsEndBy = endBy - o.drainTimeoutMs - 30_000;
  const say = (line: string): void => o.log(`[chaos ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      durationsMs[name] = Math.round(performance.now() - t);
    }
  };

  for (const f of o.faults) if (!ALL_TARGETS.includes(f) && f !== BASELINE) throw new Error(`unknown fault target ${f}: one of ${ALL_TARGETS.join(', ')}`);
  // Refuse before anything starts if a stack server could not be restarted the same way.
  for (const f of o.faults) if ((STACK_COMPONENTS as readonly string[]).includes(f)) stackPid(f as StackComponent, chaosStack, o.root);
  mkdirSync(o.logDir, { recursive: true });

  const T = {
    req: `${run}-bid-requests`, enr: `${run}-bid-requests-enriched`, bids: `${run}-bids`, out: `${run}-auction-outcomes`,
    trk: `${run}-tracking-events`, loss: `${run}-loss-notices`, wc: `${run}-window-counts`,
  };
  const group = (name: string): string => `rtb-${run}-${name}`;
  const sinkGroup = `${run}-sink`;
  const groups = [
    { group: group('enrich'), topics: [T.req] }, { group: group('bid'), topics: [T.enr] }, { group: group('auction'), topics: [T.bids] },
    { group: group('aggregate'), topics: [T.out, T.trk] }, { group: group('settle'), topics: [T.trk, T.loss] },
  ];
  // Its Kafka client would log every refused connection while the broker is down: the run reports what matters.
  const topics = new RunTopics(createLogger('chaos', 'silent'), run);
  for (const t of Object.values(T)) topics.track('topic', t);
  for (const g of groups) topics.track('group', g.group);
  topics.track('group', sinkGroup);
  topics.trackGroupPrefix(`rtb-edge-${run}`);
  const drops: Array<() => Promise<void>> = [];
  let pg: FreshSchema | null = null;
  let pipeline: SupervisedPipeline | null = null;
  let load: ChaosLoad | null = null;
  const probes: SentRequest[] = [];
  const probeWinners = new Map<string, string>();
  const advertisers = [1, 2].map((n) => `${run}-adv-${n}`);
  const campaignIds = [1, 2, 3, 4].map((n) => `${run}-cmp-${n}`);
  const settings = { ...o, log: undefined, signal: undefined, run, topics: T, sinkGroup, stack: chaosStack, kafkaBrokers: stackConfig.kafkaBrokers };

  try {
    await topics.connect();
    pg = await timed('schema', () => freshSchema({ after: (fn) => void drops.push(fn) }, run.replace('-', '_')));
    const portOffset = o.portOffset ?? (await choosePortOffset());
    settings.portOffset = portOffset;
    // The campaign API's operator token: a fresh one in a temporary file (removed at cleanup).
    const operator = await operatorTokenFile();
    drops.push(() => operator.remove());
    const env: Record<string, string> = {
      ...operator.env,
      POSTGRES_URL: pg.url, LOG_LEVEL: 'info', TOPIC_PARTITIONS: String(o.partitions), PROCESSOR_INSTANCE_ID: run, PROCESSOR_HTTP_HOST: '127.0.0.1',
      CAMPAIGNS_HOST: '127.0.0.1', SINK_HTTP_HOST: '127.0.0.1', INGEST_HOST: '127.0.0.1', INGEST_WORKERS: '1', INGEST_NODE_ID: run, INGEST_OPENRTB_MODE: 'sync',
      INGEST_TOPIC: T.req, INGEST_OUTCOMES_TOPIC: T.out, INGEST_TRACKING_TOPIC: T.trk, INGEST_LOSS_TOPIC: T.loss,
      ENRICH_NAME: `${run}-enrich`, ENRICH_INPUT: T.req, ENRICH_OUTPUT: T.enr,
      BID_NAME: `${run}-bid`, BID_INPUT: T.enr, BID_OUTPUT: T.bids,
      AUCTION_NAME: `${run}-auction`, AUCTION_INPUT: T.bids, AUCTION_OUTPUT: T.out,
      SETTLE_NAME: `${run}-settle`, SETTLE_INPUT: T.trk, SETTLE_LOSS_INPUT: T.loss,
      AGGREGATE_NAME: `${run}-aggregate`, AGGREGATE_OUTCOMES: T.out, AGGREGATE_TRACKING: T.trk, AGGREGATE_OUTPUT: T.wc, AGGREGATE_WINDOW_MS: String(o.windowMs),
      SINK_INPUT: T.wc, SINK_GROUP: sinkGroup,
    };
    pipeline = new SupervisedPipeline({ root: o.root, env, logDir: o.logDir, portOffset, log: (line) => say(`supervisor: ${line}`) });
    const p = pipeline;
    say(`run ${run}: starting the main command (services on ports ${Object.entries(p.ports).map(([k, v]) => `${k} ${v}`).join(', ')}; logs in ${o.logDir})`);
    await timed('start', () => p.start(Math.min(o.readyTimeoutMs, faultsEndBy - performance.now())));
    const edgeUrl = `http://127.0.0.1:${p.ports.ingest}`;
    const api = `http://127.0.0.1:${p.ports.campaigns}`;

    // The catalogue, through the campaign API: published to the shared `campaigns` topic (tombstoned at cleanup).
    await timed('catalogue', async () => {
      const post = async (path: string, body: unknown): Promise<void> => {
        const res = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(operator.token) }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      };
      for (const id of advertisers) await post('/advertisers', { id, name: id });
      for (const [i, id] of campaignIds.entries()) {
        await post('/campaigns', {
          id, advertiserId: advertisers[i % 2], name: id, status: 'active', bidCpmMicros: 1_500_000 + i * 500_000,
          dailyBudgetMicros: 1_000_000_000_000, lifetimeBudgetMicros: 1_000_000_000_000, startMs: Date.now() - 3_600_000, endMs: Date.now() + 6 * 3_600_000,
          timezone: 'UTC', pacing: 'asap', targeting: {},
          creatives: [{ id: `${id}-cr`, title: id, imageUrl: 'https://cdn.example.com/a.png', landingUrl: 'https://brand.example.com/', width: 300, height: 250, adomain: ['brand.example.com'] }],
        });
      }
      // The bidder follows the campaigns topic: probe until a request is answered with a bid.
      const deadline = Date.now() + o.readyTimeoutMs;
      for (let n = 0; ; n++) {
        const id = `${run}-probe-${n}`;
        const res = await fetch(`${edgeUrl}/openrtb2/bid`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000),
          body: JSON.stringify({ id, imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }], site: { domain: 'news.example.com' }, device: { ip: '192.0.2.7' }, user: { id: 'probe' }, tmax: 1000 }),
        }).catch((err: unknown) => err as Error);
        const fate = res instanceof Error ? ('error:probe' as const) : res.status;
        probes.push({ id, kind: 'sync', fate });
        if (!(res instanceof Error) && res.status === 200) {
          probeWinners.set(id, ((await res.json()) as { seatbid: Array<{ bid: Array<{ cid: string }> }> }).seatbid[0]!.bid[0]!.cid);
          break;
        }
        if (!(res instanceof Error)) await res.arrayBuffer();
        if (Date.now() > deadline) throw new Error(`no bid within ${o.readyTimeoutMs} ms of creating the catalogue (last answer ${fate})`);
        await sleep(500);
      }
    });

    load = new ChaosLoad({
      edgeUrl, idPrefix: run, asyncRate: o.asyncRate, syncRate: o.syncRate, tmaxMs: o.tmaxMs, timeoutMs: o.requestTimeoutMs, connections: o.connections,
      notices: { win: 0.5, bill: 0.5, imp: 0.3, duplicate: 0.25 },
    });
    const l = load;
    await l.start();
    say(`load: ${o.asyncRate} req/s POST /bid (202) + ${o.syncRate} req/s POST /openrtb2/bid (sync, tmax ${o.tmaxMs}) + notices`);
    const loadStarted = performance.now();
    await sleep(o.warmupSec * 1000);

    for (const target of o.faults) {
      if (performance.now() + 20_000 > faultsEndBy) {
        faults.push({ target, kind: 'none', atSec: Math.round(l.elapsedMs() / 100) / 10, pid: null, backMs: null, recoveredMs: null, edgeFailures: 0, exited: [], waits: [], error: 'not injected: the run\'s time budget is spent' });
        continue;
      }
      const r = await injectAndRecover(target, { o, p, l, topics, sql: pg.sql, groups, sinkGroup, wc: T.wc, say, endBy: faultsEndBy });
      faults.push(r);
      say(`${target}: ${r.error ? `NOT RECOVERED: ${r.error}` : `back after ${r.backMs} ms, recovered after ${r.recoveredMs} ms`}${r.exited.length ? ` (the supervisor restarted: ${r.exited.join(', ')})` : ''}; waited for ${r.waits.map((w) => `${w.state} @${w.atMs}`).join(', ')}`);
      await sleep(o.gapSec * 1000);
    }
    await sleep(Math.max(0, o.tailSec * 1000 - o.gapSec * 1000));
    await timed('stop load', () => l.stop());
    durationsMs.load = Math.round(performance.now() - loadStarted);
    counts = l.counts();
    countEdgeFailures(l, faults);
    loopDelay = l.loopDelayMs();
    say(`load stopped: async ${JSON.stringify(counts.async)}, sync ${JSON.stringify(counts.sync)}`);

    await timed('drain', async () => {
      const drainEnd = performance.now() + o.drainTimeoutMs;
      for (const g of groups) {
        const committed = new CommittedOffsets(stackConfig.kafkaBrokers, g.group, stackConfig);
        const ok = await waitDrained(topics.admin, g.group, g.topics, drainEnd - performance.now(), committed).finally(() => committed.close());
        if (!ok) throw new Error(`${g.group} not drained within ${o.drainTimeoutMs} ms`);
      }
      if (!(await sinkDrained(topics.admin, pg!.sql, stackConfig.kafkaBrokers, T.wc, sinkGroup, Math.max(1000, drainEnd - performance.now())))) throw new Error(`the sink (${sinkGroup}) not drained within ${o.drainTimeoutMs} ms`);
    });
    say('drained: every group at its ends, the sink\'s Postgres positions at the window-counts data ends');

    const observed = await timed('read', async () => {
      const requestTopic: TopicRequest[] = [];
      const outcomes: TopicOutcome[] = [];
      const tracking: TopicNotice[] = [];
      const complete = async (topic: string, each: (r: { partition: number; offset: string; value: Buffer | null }) => Promise<void>): Promise<void> => {
        const r = await readTopicFully(topics.kafka, topic, { onRecord: each, timeoutMs: 300_000, idleMs: 30_000, idleBeforeFirst: true, markerWaitMs: 1000 });
        if (!r.complete) throw new Error(`${topic}: the read stopped before the end (${r.count} records in ${r.ms} ms): the checks would compare a part`);
      };
      await complete(T.req, async (r) => {
        const v = await topics.codec.decode<BidRequest>(r.value as Buffer);
        requestTopic.push({ id: v.id, receivedAtMs: v.receivedAtMs });
      });
      await complete(T.out, async (r) => {
        const v = await topics.codec.decode<AuctionOutcome>(r.value as Buffer);
        outcomes.push({
          partition: r.partition, offset: BigInt(r.offset), requestId: v.requestId, receivedAtMs: v.receivedAtMs,
          bids: v.bids.map((b) => ({ campaignId: b.campaignId, creativeId: b.creativeId })),
          wins: v.wins.map((w) => ({ campaignId: w.campaignId, creativeId: w.creativeId, costMicros: w.costMicros, clearingPriceMicros: w.clearingPriceMicros })),
        });
      });
      await complete(T.trk, async (r) => {
        const v = await topics.codec.decode<TrackingEvent>(r.value as Buffer);
        tracking.push({ partition: r.partition, offset: BigInt(r.offset), eventId: v.eventId, type: v.type, campaignId: v.campaignId, creativeId: v.creativeId, costMicros: v.costMicros, occurredAtMs: v.occurredAtMs });
      });
      // The outcomes' wins are our auction's picks: the columns submitted and submitted_price_micros since issue 10.
      const rows = await pg!.sql<Array<Record<string, string>>>`
        select campaign_id, creative_id, window_start_ms::text, requests::text, bids::text, submitted::text as wins, win_cost_micros::text,
               submitted_price_micros::text as clearing_price_micros, spend_micros::text, impressions::text
        from window_counts where window_ms = ${o.windowMs}`;
      const countRows: CountRow[] = rows.map((r) => ({
        campaignId: r.campaign_id!, creativeId: r.creative_id!, windowStartMs: Number(r.window_start_ms), requests: Number(r.requests), bids: Number(r.bids),
        wins: Number(r.wins), winCostMicros: Number(r.win_cost_micros), clearingPriceMicros: Number(r.clearing_price_micros), spendMicros: Number(r.spend_micros), impressions: Number(r.impressions),
      }));
      return { requestTopic, outcomes, tracking, rows: countRows };
    });
    const winners = new Map(probeWinners);
    for (const [seq, cid] of l.winners) winners.set(l.idOf('sync', seq), cid);
    checks = runChecks({
      windowMs: o.windowMs, requests: [...probes, ...l.requests().map((r) => ({ id: r.id, kind: r.kind, fate: r.fate }))], winners,
      notices: l.notices.map((n) => ({ eventId: n.eventId, type: n.type, copy: n.copy, fate: n.fate })), ...observed,
    });
    const services = await p.notReady();
    if (services.length > 0) errors.push(`not ready at the end: ${services.join(', ')}`);
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
    say(`failed: ${errors.at(-1)}`);
  } finally {
    await timed('cleanup', async () => {
      if (load) await load.stop().catch(() => undefined);
      // The stack is left running whatever happened (a fault target may have been left down by a failure).
      const down = Object.entries(stackListening(chaosStack)).filter(([, up]) => !up).map(([c]) => c);
      if (down.length > 0) {
        say(`stack components down at the end: ${down.join(', ')}: stack.sh up`);
        await restartStack(o.root, Math.max(60_000, Math.min(300_000, endBy - performance.now())), say).then(() => cleanup.push(`restarted ${down.join(', ')}`), (err: unknown) => errors.push(`could not restart the stack: ${(err as Error).message}`));
      }
      if (pipeline) await pipeline.stop().catch((err: unknown) => cleanup.push(`stopping the services: ${(err as Error).message}`));
      if (pg && !o.keep) {
        const producer = topics.kafka.producer({ 'linger.ms': 1 });
        await producer.connect()
          .then(() => purgeAdvertisers(pg!.sql, producer, advertisers))
          .then((ids) => cleanup.push(`campaigns tombstoned on the campaigns topic: ${ids.length}`), (err: unknown) => cleanup.push(`purging campaigns failed: ${(err as Error).message}`))
          .finally(() => producer.disconnect().catch(() => undefined));
      }
      if (!o.keep) {
        for (const drop of drops) await drop().catch((err: unknown) => cleanup.push(`dropping the schema failed: ${(err as Error).message}`));
        const keys = await unlinkMatching(stackConfig.redisUrl, [`rtb:*{${run}-*`, `${seenKey(outcomeEventId(run))}*`]).catch(() => null);
        await removeFromPendingIndex(campaignIds).catch(() => undefined);
        await topics.cleanup();
        cleanup.push(`schema ${pg?.schema ?? '(none)'} dropped, run topics/groups/subjects deleted, ${keys ?? 'n/a'} Redis keys of the run deleted`);
      } else {
        await pg?.sql.end({ timeout: 5 }).catch(() => undefined);
        await topics.admin.disconnect().catch(() => undefined);
        cleanup.push(`kept: schema ${pg?.schema}, topics ${Object.values(T).join(', ')}, groups ${[...groups.map((g) => g.group), sinkGroup].join(', ')}`);
      }
    });
  }
  durationsMs.total = Math.round(performance.now() - started);
  const ok = errors.length === 0 && faults.length === o.faults.length && faults.every((f) => !f.error) && checks.length > 0 && checks.every((c) => c.ok);
  return {
    ok, run, settings, faults, checks, load: counts, generatorLoopDelayMs: loopDelay, durationsMs, supervisor: pipeline?.events.map((e) => e.line) ?? [], errors, cleanup,
  };
}

async function registryReady(): Promise<boolean> {
  const res = await fetch(`${stackConfig.schemaRegistryUrl}/subjects`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
  await res?.body?.cancel().catch(() => undefined);
  return res?.status === 200;
}

async function removeFromPendingIndex(campaignIds: string[]): Promise<void> {
  const redis = createRedis(stackConfig, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
  try {
    await redis.srem(PENDING_CAMPAIGNS_KEY, ...campaignIds);
  } finally {
    redis.disconnect();
  }
}

/** Each fault's [start, recovered] (performance.now()), to count the edge's failures once every request has its fate. */
const windows = new WeakMap<FaultResult, [number, number]>();

function countEdgeFailures(l: ChaosLoad, faults: FaultResult[]): void {
  const requests = l.requests();
  for (const f of faults) {
    const w = windows.get(f);
    if (!w) continue;
    f.edgeFailures = requests.filter((r) => {
      const at = l.scheduledAt(r.kind, r.seq);
      return at >= w[0] && at <= w[1] && !(r.fate === 202 || r.fate === 200 || r.fate === 204);
    }).length;
  }
}

interface FaultCtx {
  o: ChaosOptions;
  p: SupervisedPipeline;
  l: ChaosLoad;
  topics: RunTopics;
  sql: postgres.Sql;
  groups: Array<{ group: string; topics: string[] }>;
  sinkGroup: string;
  wc: string;
  /** Its own clients for the recovery probes (one set per fault). */
  admin?: Admin;
  committed?: Map<string, CommittedOffsets>;
  say: (line: string) => void;
  /** No wait goes past this (performance.now()). */
  endBy: number;
}

/**
 * Where every group must get past: its inputs' end offsets, and for the sink the window-counts offsets
 * it stores once it has applied everything committed by then. window-counts is written in transactions,
 * so the last stable offset (read_committed end) minus one is the marker ending the last committed
 * transaction, and the sink's next_offset equals it once that transaction is applied. (If that
 * transaction was aborted the target is reached only with the next commit: a slight over-estimate; the
 * final drain uses sink/offsets.ts sinkDrained, which reads the data ends exactly but takes a second per partition.)
 */
async function snapshot(c: FaultCtx): Promise<{ ends: Map<string, bigint>; sinkEnds: Map<number, bigint> }> {
  const ends = new Map<string, bigint>();
  for (const topic of new Set(c.groups.flatMap((g) => g.topics))) for (const p of await topicEnds(c.admin!, topic)) ends.set(`${topic}/${p.partition}`, p.high);
  const stable = await topicEnds(c.admin!, c.wc, { readCommitted: true });
  const sinkEnds = new Map(stable.map((p) => [p.partition, p.high > p.low ? p.high - 1n : 0n]));
  return { ends, sinkEnds };
}

/** What is still behind the snapshot (empty: caught up). */
async function behind(c: FaultCtx, snap: { ends: Map<string, bigint>; sinkEnds: Map<number, bigint> }): Promise<string[]> {
  const out: string[] = [];
  for (const g of c.groups) {
    const lag = await groupLag(c.admin!, g.group, g.topics, c.committed?.get(g.group));
    for (const part of lag.partitions) {
      const want = snap.ends.get(`${part.topic}/${part.partition}`) ?? 0n;
      if (part.committed < want) out.push(`${g.group} ${part.topic}/${part.partition} ${part.committed}<${want}`);
    }
  }
  const positions = await sinkPositions(c.sql, c.sinkGroup).read([...snap.sinkEnds.keys()].map((partition) => ({ topic: c.wc, partition })));
  for (const [partition, end] of snap.sinkEnds) {
    const at = positions.get(`${c.wc}/${partition}`) ?? 0n;
    if (at < end) out.push(`sink ${c.wc}/${partition} ${at}<${end}`);
  }
  return out;
}

async function injectAndRecover(target: string, ctx: FaultCtx): Promise<FaultResult> {
  // A client of its own, connected after the fault: the run's client may be in any state after a broker kill.
  const admin = ctx.topics.kafka.admin();
  const committed = new Map(ctx.groups.map((g) => [g.group, new CommittedOffsets(stackConfig.kafkaBrokers, g.group, stackConfig)]));
  const c: FaultCtx = { ...ctx, admin, committed };
  try {
    return await faultAndWait(target, c);
  } finally {
    await admin.disconnect().catch(() => undefined);
    for (const r of committed.values()) await r.close().catch(() => undefined);
  }
}

async function faultAndWait(target: string, c: FaultCtx): Promise<FaultResult> {
  const { o, p, l, say } = c;
  const kind = target === BASELINE ? 'none' : SERVICE_TARGETS.includes(target) ? 'service' : 'stack';
  const t0 = performance.now();
  const result: FaultResult = { target, kind, atSec: Math.round(l.elapsedMs(t0) / 100) / 10, pid: null, backMs: null, recoveredMs: null, edgeFailures: 0, exited: [], waits: [] };
  const eventsFrom = p.events.length;
  const deadline = Math.min(t0 + o.recoverTimeoutMs, c.endBy);
  const left = (): number => Math.max(0, deadline - performance.now());
  try {
    if (kind === 'service') {
      result.pid = await p.kill(target);
      say(`kill -9 ${target} (pid ${result.pid})`);
      for (;;) {
        const pid = p.pidOf(target);
        if (pid !== null && pid !== result.pid && (await p.ready(target))) break;
        if (left() === 0) throw new Error(`${target} not back (restarted and ready) within ${o.recoverTimeoutMs} ms`);
        await sleep(100);
      }
    } else if (kind === 'stack') {
      result.pid = await killStack(target as StackComponent, chaosStack, o.root);
      say(`kill -9 ${target} (pid ${result.pid}); down for ${o.outageSec} s, then stack.sh up`);
      await sleep(o.outageSec * 1000);
      const attempts = await restartStack(o.root, left(), say);
      if (attempts > 1) say(`${target}: stack.sh up succeeded at attempt ${attempts}`);
    } else say('baseline: the same recovery conditions with no fault (what normal processing takes)');
    const back = performance.now();
    result.backMs = Math.round(back - t0);
    let snap: Awaited<ReturnType<typeof snapshot>> | null = null;
    let last = '';
    let step = '';
    let connected = false;
    for (;;) {
      let waiting: string[];
      try {
        step = 'connect';
        if (!connected) (await c.admin!.connect(), (connected = true));
        step = 'snapshot';
        snap ??= await snapshot(c);
        step = 'readiness';
        const missing = await p.notReady();
        if (!(await registryReady())) missing.push('schema registry');
        waiting = missing.length > 0 ? [`not ready: ${missing.join(', ')}`] : [];
        if (l.lastAcceptedAt <= back) waiting.push('no 202 yet for a request sent after "back"');
        step = 'group positions';
        const lagging = await behind(c, snap);
        if (lagging.length > 0) waiting.push(`behind the ends at "back": ${lagging.slice(0, 3).join(', ')}${lagging.length > 3 ? ` (+${lagging.length - 3})` : ''}`);
      } catch (err) {
        waiting = [`probe failed (${step}): ${(err as Error).message.split('\n')[0]}`];
      }
      // The reasons without their details, but which services were not ready.
      const now = waiting.map((w) => (w.startsWith('not ready: ') ? `not ready (${w.slice(11)})` : w.replace(/:.*$/, ''))).join(' + ') || 'recovered';
      if (now !== last) result.waits.push({ atMs: Math.round(performance.now() - t0), state: now });
      last = now;
      if (waiting.length === 0) break;
      if (left() === 0) throw new Error(`not recovered within ${o.recoverTimeoutMs} ms: ${waiting.join('; ')}`);
      await sleep(250);
    }
    result.recoveredMs = Math.round(performance.now() - t0);
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  }
  windows.set(result, [t0, performance.now()]);
  // The supervisor's exit lines meanwhile, but the kill itself: which services a fault took down with it.
  let killSeen = kind !== 'service';
  for (const e of p.events.slice(eventsFrom)) {
    const m = /^\[run-services\] (?:CRASH LOOP: )?([a-z]+) exited (?:\(([^)]*)\)|.*last with ([^;]*))/.exec(e.line);
    if (!m) continue;
    if (!killSeen && m[1] === target && m[2] === 'signal SIGKILL') {
      killSeen = true;
      continue;
    }
    result.exited.push(`${m[1]} (${m[2] ?? m[3]})`);
  }
  return result;
}
