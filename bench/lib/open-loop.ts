/**
 * An open-loop load generator: request i is scheduled at t0 + i/rate whatever happened to earlier requests, and its latency
 * runs from that scheduled time, so waiting for a connection counts instead of hiding (no coordinated omission). The first
 * `warmupSec` are sent, not measured. A request unanswered `timeoutMs` after its scheduled time is dropped (its connection
 * closed) and counts as a timeout; the run ends when every measured request settled, or at last scheduled time + timeout.
 */
import { PipelineError } from '../../schemas/errors.js';
import { Histogram } from './histogram.js';
import { HttpPool, type PoolRequest } from './http-pool.js';

/** Calls `fire(i, at)` at t0 + i x 1000/rate whatever happened to earlier calls: a late tick fires everything due, nothing is skipped. */
export class Schedule {
  readonly t0 = performance.now() + 5;
  fired = 0;
  readonly done: Promise<void>;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly rate: number, total: number, fire: (i: number, at: number) => void) {
    this.done = new Promise((resolve) => {
      const tick = (): void => {
        for (const now = performance.now(); this.fired < total && this.at(this.fired) <= now; this.fired++) fire(this.fired, this.at(this.fired));
        if (this.fired < total) this.timer = setTimeout(tick, Math.max(0, this.at(this.fired) - performance.now()));
        else resolve();
      };
      this.timer = setTimeout(tick, 5);
    });
  }

  at(i: number): number {
    return this.t0 + (i * 1000) / this.rate;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

interface OpenLoopOptions {
  readonly url: string;
  readonly rate: number;
  readonly durationSec: number;
  readonly warmupSec?: number;
  readonly connections: number;
  readonly timeoutMs?: number;
  readonly body: (seq: number) => string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly deadlineMs?: number;
  readonly onAnswer?: (seq: number, status: number) => void;
}

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

const REAP_INTERVAL_MS = 5;

function summarize(h: Histogram) {
  const ms = (us: number): number => Math.round(us) / 1000;
  return { p50: ms(h.percentile(50)), p95: ms(h.percentile(95)), p99: ms(h.percentile(99)), p999: ms(h.percentile(99.9)), max: ms(h.max), mean: ms(h.mean) };
}

/**
 * `latencyMs`: from the scheduled send time, timeouts recorded when given up on; `serviceMs`: from the actual write (what a
 * closed-loop tool reports); `sendLagMs`: how late the generator fired; `withinDeadline`: answers within `deadlineMs`.
 */
export type OpenLoopResult = Awaited<ReturnType<typeof runOpenLoop>>;

export async function runOpenLoop(opts: OpenLoopOptions) {
  const [url, warmupSec, timeoutMs] = [loopbackTarget(opts.url), opts.warmupSec ?? 1, opts.timeoutMs ?? 2000];
  const [warmupCount, scheduled] = [Math.round(opts.rate * warmupSec), Math.round(opts.rate * opts.durationSec)];
  const total = warmupCount + scheduled;

  const [latency, service, sendLag] = [new Histogram(), new Histogram(), new Histogram()];
  const statusCounts: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let [responses, ok2xx, errorCount, timeouts, settled, withinDeadline] = [0, 0, 0, 0, 0, 0];

  const settle = (req: PoolRequest): boolean => {
    if (req.seq >= warmupCount) settled++;
    return req.seq >= warmupCount;
  };
  const timedOut = (req: PoolRequest, now: number): void => {
    if (!settle(req)) return;
    timeouts++;
    latency.record((now - req.scheduledAt) * 1000);
  };

  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const pool = new HttpPool({ host: url.hostname, port: Number(url.port || 80), path: url.pathname + url.search, headers: opts.headers ?? {} }, opts.connections, {
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
  });
  await pool.connect().catch((cause: unknown) => {
    pool.close();
    throw new PipelineError('DEPENDENCY_UNAVAILABLE', `target ${url.host} is not accepting connections`, { cause });
  });

  const schedule = new Schedule(opts.rate, total, (seq, scheduledAt) => {
    if (seq >= warmupCount) sendLag.record((performance.now() - scheduledAt) * 1000);
    pool.submit({ seq, scheduledAt, payload: opts.body(seq), sentAt: 0 });
  });
  const reaper = setInterval(() => {
    const now = performance.now();
    for (const req of pool.expire(now - timeoutMs)) timedOut(req, now);
    if (settled === scheduled && schedule.fired === total) finish();
  }, REAP_INTERVAL_MS);
  const hardStop = setTimeout(finish, schedule.at(total - 1) - performance.now() + timeoutMs + REAP_INTERVAL_MS * 2);

  await finished;
  schedule.stop();
  clearTimeout(hardStop);
  clearInterval(reaper);
  const stopAt = performance.now();
  for (const req of pool.close()) timedOut(req, stopAt);
  // Requests never fired because the hard stop came first still count against the target.
  for (let seq = Math.max(schedule.fired, warmupCount); seq < total; seq++) timedOut({ seq, scheduledAt: schedule.at(seq), payload: '', sentAt: 0 }, stopAt);

  return {
    url: opts.url, offeredRps: opts.rate, durationSec: opts.durationSec, warmupSec, connections: opts.connections, timeoutMs,
    scheduled, responses, ok2xx, acceptedRps: Math.round((ok2xx / opts.durationSec) * 10) / 10, statusCounts, non2xx: responses - ok2xx,
    errors, errorCount, timeouts, connectErrors: pool.connectErrors,
    latencyMs: summarize(latency), serviceMs: summarize(service),
    ...(opts.deadlineMs !== undefined ? { withinDeadline: { deadlineMs: opts.deadlineMs, answers: withinDeadline } } : {}),
    sendLagMs: summarize(sendLag), elapsedSec: Math.round(stopAt - schedule.t0) / 1000,
  };
}
