/**
 * Test support: the one wait of the tests. Condition-based, never a bare sleep: `probe` is called until it
 * has what the test waits for, `intervalMs` apart; after `timeoutMs` the wait fails with an error naming
 * `what` and the last value seen (or, with `atDeadline: 'last'`, returns that value for the test's own
 * assertion to report). A probe that throws ends the wait with its error (e.g. "the service exited").
 *
 *   await waitFor(() => follower.get(id), { what: 'the created campaign', timeoutMs: 10_000 });
 *   const n = await waitFor(() => metricSum(url, 'x_total'), { until: (v) => v >= 3, what: '3 x', timeoutMs: 5000 });
 */

/** What a probe returns while the wait goes on (without `until`). */
export type NotYet = undefined | false;

export interface WaitOptions<T> {
  /** What is waited for: the timeout error says "timed out after <timeoutMs> ms waiting for <what>". */
  what: string;
  timeoutMs: number;
  /** Pause between two probes; default 100 ms. */
  intervalMs?: number;
  /** Whether a probed value is the one waited for; default: any value but undefined and false. */
  until?: (value: T) => boolean;
  /** At the deadline: 'throw' (default) an Error; 'last' return the last value probed. */
  atDeadline?: 'throw' | 'last';
  /** Read at the deadline and added to the error, e.g. a child process's output. */
  detail?: () => string;
}

export class WaitTimeout extends Error {
  constructor(
    message: string,
    readonly last: unknown,
  ) {
    super(message);
    this.name = 'WaitTimeout';
  }
}

/** A value for an error message: short, and never throwing. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  try {
    const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Map ? `Map(${x.size})` : x instanceof Set ? `Set(${x.size})` : x));
    const s = text ?? String(v);
    return s.length > 300 ? `${s.slice(0, 300)}...` : s;
  } catch {
    return String(v);
  }
}

export function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T> & { until: (value: T) => boolean }): Promise<T>;
export function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T> & { atDeadline: 'last' }): Promise<T>;
export function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T>): Promise<Exclude<T, NotYet>>;
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions<T>): Promise<T> {
  const done = opts.until ?? ((v: T) => v !== undefined && v !== false);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline) {
      if (opts.atDeadline === 'last') return last;
      const detail = opts.detail ? `\n${opts.detail()}` : '';
      throw new WaitTimeout(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last value: ${describeValue(last)}${detail}`, last);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
