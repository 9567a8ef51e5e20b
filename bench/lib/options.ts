/** Options of the open-loop generator, validated once before a run. */
import { PipelineError } from '../../schemas/errors.js';

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
  const loopback = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(u.hostname);
  if (u.protocol !== 'http:' || !loopback) {
    throw new PipelineError(
      'CONFIG_INVALID',
      `refusing to load ${url}: the load generator only targets http:// on a loopback address such as 127.0.0.1`,
    );
  }
  return u;
}

/** A command-line value that must be a positive number; fails naming the flag. */
export function positiveArg(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new PipelineError('CONFIG_INVALID', `--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** A command-line number >= `min` (an integer when `integer`); fails naming the flag. */
export function numArg(name: string, raw: string | undefined, min: number, integer = false): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new PipelineError('CONFIG_INVALID', `--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Fails with a message naming the option when a value is out of range. */
export function checkOptions(o: OpenLoopOptions): void {
  const positive = { rate: o.rate, durationSec: o.durationSec, connections: o.connections, timeoutMs: o.timeoutMs ?? 1 };
  for (const [name, v] of Object.entries(positive)) {
    if (!Number.isFinite(v) || v <= 0) throw new PipelineError('CONFIG_INVALID', `${name} must be a positive number, got ${v}`);
  }
  if (!Number.isInteger(o.connections)) throw new PipelineError('CONFIG_INVALID', `connections must be an integer`);
  if ((o.warmupSec ?? 0) < 0) throw new PipelineError('CONFIG_INVALID', `warmupSec must be >= 0`);
}
