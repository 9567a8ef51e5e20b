/**
 * An open-loop load generator. Request i is scheduled at t0 + i/rate whatever happened to earlier
 * requests, and its latency is measured from that scheduled time, so time spent waiting for a
 * connection (queueing behind a slow response) is counted instead of hidden: no coordinated omission.
 *
 * The first `warmupSec` of requests are sent but not measured. Every request has a deadline of
 * `timeoutMs` after its scheduled time; past it, a queued request is dropped and an in-flight one has
 * its connection closed, and it counts as a timeout. The run ends when every measured request is
 * settled, or at the hard stop (last scheduled time + timeout), whichever comes first.
 */
import { PipelineError } from '../../schemas/errors.js';
import { Histogram } from './histogram.js';
import { HttpPool, type PoolRequest } from './http-pool.js';

export interface OpenLoopOptions {
  /** Target URL; only loopback http:// URLs are accepted. */
  readonly url: string;
  /** Offered rate, requests per second. */
  readonly rate: number;
  /** Measured window, seconds. */
  readonly durationSec: number;
  readonly warmupSec?: number;
  readonly connections: number;
  readonly timeoutMs?: number;
  /** Builds the JSON body of request `seq` (0-based over the whole run, warm-up included). */
  readonly body: (seq: number) => string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Also count the answers (any status) received within this many ms of their scheduled time. */
  readonly deadlineMs?: number;
  /** Called for every measured request that got an HTTP answer in time (e.g. to record which ids were answered 204). */
  readonly onAnswer?: (seq: number, status: number) => void;
}

/** Parses `url` and refuses anything but http:// on an IPv4 loopback address (127.0.0.0/8). */
export function loopbackTarget(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new PipelineError('CONFIG_INVALID', `--url ${JSON.stringify(url)} is not a URL`, { cause });
  }
  if (u.protocol !== 'http:' || !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(u.hostname)) {
    throw new PipelineError('CONFIG_INVALID', `refusing to load ${url}: the load generator only targets http:// on a loopback address such as 127.0.0.1`);
  }
  return u;
}

/** Fails with a message naming the option when a value is out of range. */
function checkOptions(o: OpenLoopOptions): void {
  const positive = { rate: o.rate, durationSec: o.durationSec, connections: o.connections, timeoutMs: o.timeoutMs ?? 1 };
  for (const [name, v] of Object.entries(positive)) {
    if (!Number.isFinite(v) || v <= 0) throw new PipelineError('CONFIG_INVALID', `${name} must be a positive number, got ${v}`);
  }
  if (!Number.isInteger(o.connections)) throw new PipelineError('CONFIG_INVALID', `connections must be an integer`);
  if ((o.warmupSec ?? 0) < 0) throw new PipelineError('CONFIG_INVALID', `warmupSec must be >= 0`);
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface OpenLoopResult {
  url: string;
  offeredRps: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  timeoutMs: number;
  /** Requests scheduled in the measured window: rate x duration. */
  scheduled: number;
  /** Measured requests that got an HTTP response (any status). */
  responses: number;
  ok2xx: number;
  /** 2xx responses per second of the measured window. */
  acceptedRps: number;
  statusCounts: Record<string, number>;
  non2xx: number;
  /** Measured requests that failed at the transport level, by error code. */
  errors: Record<string, number>;
  errorCount: number;
  timeouts: number;
  /** Connection attempts that failed with no request on them. */
  connectErrors: number;
  /** From the scheduled send time; timeouts are included at the moment they were given up on. */
  latencyMs: LatencySummary;
  /** From the actual write to the response: what a closed-loop tool would report. */
  serviceMs: LatencySummary;
  /** With `deadlineMs`: answers (any status) received within it of their scheduled time. */
  withinDeadline?: { deadlineMs: number; answers: number };
  /** How late the generator itself fired requests; large values mean the generator is saturated. */
  sendLagMs: LatencySummary;
  elapsedSec: number;
}

const REAP_INTERVAL_MS = 5;

function summarize(h: Histogram): LatencySummary {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    p50: ms(h.percentile(50)),
    p95: ms(h.percentile(95)),
    p99: ms(h.percentile(99)),
    p999: ms(h.percentile(99.9)),
    max: ms(h.max),
    mean: ms(h.mean),
  };
}

/** Runs one open-loop load test and resolves with its measurements. */
export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  checkOptions(opts);
  const url = loopbackTarget(opts.url);
  const warmupSec = opts.warmupSec ?? 1;
  const timeoutMs = opts.timeoutMs ?? 2000;
  const intervalMs = 1000 / opts.rate;
  const warmupCount = Math.round(opts.rate * warmupSec);
  const scheduled = Math.round(opts.rate * opts.durationSec);
  const total = warmupCount + scheduled;

  const latency = new Histogram();
  const service = new Histogram();
  const sendLag = new Histogram();
  const statusCounts: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let responses = 0;
  let ok2xx = 0;
  let errorCount = 0;
  let timeouts = 0;
  let settled = 0;
  let withinDeadline = 0;

  const settle = (req: PoolRequest): boolean => {
    if (req.seq < warmupCount) return false;
    settled++;
    return true;
  };
  const timedOut = (req: PoolRequest, now: number): void => {
    if (!settle(req)) return;
    timeouts++;
    latency.record((now - req.scheduledAt) * 1000);
  };

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const pool = new HttpPool(
    { host: url.hostname, port: Number(url.port || 80), path: url.pathname + url.search, headers: opts.headers ?? {} },
    opts.connections,
    {
      onResponse(req, status) {
        const now = performance.now();
        if (now - req.scheduledAt > timeoutMs) return timedOut(req, now);
        if (!settle(req)) return;
        responses++;
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        if (status >= 200 && status < 300) ok2xx++;
        latency.record((now - req.scheduledAt) * 1000);
        service.record((now - req.sentAt) * 1000);
        if (opts.deadlineMs !== undefined && now - req.scheduledAt <= opts.deadlineMs) withinDeadline++;
        opts.onAnswer?.(req.seq, status);
        if (settled === scheduled) finish();
      },
      onError(req, code) {
        if (!settle(req)) return;
        errorCount++;
        errors[code] = (errors[code] ?? 0) + 1;
        if (settled === scheduled) finish();
      },
    },
  );
  await pool.connect().catch((cause: unknown) => {
    pool.close();
    throw new PipelineError('DEPENDENCY_UNAVAILABLE', `target ${url.host} is not accepting connections`, { cause });
  });

  const t0 = performance.now() + 5;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = performance.now();
    // Fire everything that is due; a late tick catches up instead of skipping (the schedule is fixed).
    while (next < total && t0 + next * intervalMs <= now) {
      const scheduledAt = t0 + next * intervalMs;
      if (next >= warmupCount) sendLag.record((now - scheduledAt) * 1000);
      pool.submit({ seq: next, scheduledAt, payload: opts.body(next), sentAt: 0 });
      next++;
    }
    if (next < total) timer = setTimeout(tick, Math.max(0, t0 + next * intervalMs - performance.now()));
  };
  const reaper = setInterval(() => {
    const now = performance.now();
    for (const req of pool.expire(now - timeoutMs)) timedOut(req, now);
    if (settled === scheduled && next === total) finish();
  }, REAP_INTERVAL_MS);
  const hardStop = setTimeout(finish, (total - 1) * intervalMs + timeoutMs + 5 + REAP_INTERVAL_MS * 2);
  timer = setTimeout(tick, 5);

  await finished;
  clearTimeout(timer);
  clearTimeout(hardStop);
  clearInterval(reaper);
  const stopAt = performance.now();
  for (const req of pool.close()) timedOut(req, stopAt);
  // Requests never fired because the hard stop came first still count against the target.
  for (let seq = Math.max(next, warmupCount); seq < total; seq++) timedOut({ seq, scheduledAt: t0 + seq * intervalMs, payload: '', sentAt: 0 }, stopAt);

  return {
    url: opts.url,
    offeredRps: opts.rate,
    durationSec: opts.durationSec,
    warmupSec,
    connections: opts.connections,
    timeoutMs,
    scheduled,
    responses,
    ok2xx,
    acceptedRps: Math.round((ok2xx / opts.durationSec) * 10) / 10,
    statusCounts,
    non2xx: responses - ok2xx,
    errors,
    errorCount,
    timeouts,
    connectErrors: pool.connectErrors,
    latencyMs: summarize(latency),
    serviceMs: summarize(service),
    ...(opts.deadlineMs !== undefined ? { withinDeadline: { deadlineMs: opts.deadlineMs, answers: withinDeadline } } : {}),
    sendLagMs: summarize(sendLag),
    elapsedSec: Math.round(stopAt - t0) / 1000,
  };
}
