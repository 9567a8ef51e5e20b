/**
 * A circuit breaker with a per-call timeout, so a slow or dead dependency costs the pipeline at most
 * one timeout per call and then nothing at all while the circuit is open.
 *
 * closed --N consecutive failures or timeouts--> open --cool-down elapsed--> half-open (one trial call)
 * half-open --trial succeeds--> closed;  half-open --trial fails or times out--> open (cool-down restarts)
 *
 * Pure apart from the timer of the per-call timeout; the clock is injectable for tests. Outcomes are
 * returned, not thrown: for the caller an unavailable dependency is an expected state, not an error.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Why a call produced no value: fast-failed while open, exceeded its timeout, or the call itself failed. */
export type BreakerFailure = 'open' | 'timeout' | 'error';

export type BreakerResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: BreakerFailure; readonly error?: unknown };

export interface CircuitBreakerOptions {
  /** Consecutive failures (errors or timeouts) that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before one trial call is let through, ms. Default 2000. */
  cooldownMs?: number;
  /** Longest a call may take before it counts as a failure, ms. Default 20. */
  timeoutMs?: number;
  /** Clock in ms (injectable for tests). Default Date.now. */
  now?: () => number;
  /** Told of every state change (e.g. to log when the circuit opens and closes). */
  onStateChange?: (from: BreakerState, to: BreakerState) => void;
}

export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly onStateChange: ((from: BreakerState, to: BreakerState) => void) | undefined;
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  /** Bumped on every state change, so a call admitted under an earlier state cannot sway the current one. */
  private generation = 0;

  constructor(opts: CircuitBreakerOptions = {}) {
    this.failureThreshold = opts.failureThreshold ?? 5;
    this.cooldownMs = opts.cooldownMs ?? 2000;
    this.timeoutMs = opts.timeoutMs ?? 20;
    this.now = opts.now ?? Date.now;
    this.onStateChange = opts.onStateChange;
    if (!(this.failureThreshold >= 1)) throw new RangeError('failureThreshold must be >= 1');
    if (!(this.cooldownMs >= 0) || !(this.timeoutMs >= 1)) throw new RangeError('cooldownMs must be >= 0 and timeoutMs >= 1');
  }

  /** The state as of now: an open circuit whose cool-down has elapsed reports half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.cooldownMs) return 'half-open';
    return this.current;
  }

  /**
   * Runs `fn` unless the circuit is open (then resolves `{ ok: false, reason: 'open' }` without calling it).
   * Never rejects. A call that outlives the timeout is abandoned (its late result is ignored).
   */
  async run<T>(fn: () => Promise<T>): Promise<BreakerResult<T>> {
    if (!this.admit()) return { ok: false, reason: 'open' };
    const admittedIn = this.generation;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<BreakerResult<T>>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: 'timeout' }), this.timeoutMs);
    });
    const called = (async (): Promise<BreakerResult<T>> => ({ ok: true, value: await fn() }))().catch(
      (error: unknown): BreakerResult<T> => ({ ok: false, reason: 'error', error }),
    );
    const result = await Promise.race([called, timedOut]);
    clearTimeout(timer);
    if (admittedIn !== this.generation) return result;
    if (result.ok) this.succeeded();
    else this.failed();
    return result;
  }

  /** Decides whether a call may go through, moving open -> half-open when the cool-down has elapsed. */
  private admit(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() - this.openedAt < this.cooldownMs) return false;
      this.moveTo('half-open');
    }
    // half-open: exactly one trial at a time; everyone else fails fast until it settles
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.current !== 'closed') this.moveTo('closed');
  }

  private failed(): void {
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.failureThreshold) {
      this.openedAt = this.now();
      this.moveTo('open');
    }
  }

  private moveTo(state: BreakerState): void {
    const from = this.current;
    this.current = state;
    this.generation++;
    this.trialInFlight = false;
    this.onStateChange?.(from, state);
  }
}
