/**
 * Per-client token buckets: `ratePerSec` tokens refill continuously up to `burst`. Pure apart from the
 * clock passed in. Idle buckets are swept so the map cannot grow without bound.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxClients = 100_000,
  ) {}

  get enabled(): boolean {
    return this.ratePerSec > 0;
  }

  /** Takes one token for `client`; returns 0 when allowed, else the seconds until a token is available. */
  take(client: string, nowMs: number): number {
    if (!this.enabled) return 0;
    let b = this.buckets.get(client);
    if (!b) {
      if (this.buckets.size >= this.maxClients) this.sweep(nowMs);
      b = { tokens: this.burst, at: nowMs };
      this.buckets.set(client, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerSec);
    b.at = nowMs;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSec));
  }

  /**
   * Like take() but takes nothing: 0 when `client` has a token now, else the seconds until it has one.
   * The edge checks a client IP's bucket of failed key checks before checking its key, and takes from it
   * only when the check fails (so a flood of guesses is bounded, and good keys cost nothing).
   */
  peek(client: string, nowMs: number): number {
    if (!this.enabled) return 0;
    const b = this.buckets.get(client);
    if (!b) return 0;
    const tokens = Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.ratePerSec);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.ratePerSec));
  }

  private sweep(nowMs: number): void {
    const fullAfterMs = (this.burst / this.ratePerSec) * 1000;
    for (const [k, b] of this.buckets) if (nowMs - b.at >= fullAfterMs) this.buckets.delete(k);
    // Still full of active clients: drop the oldest half rather than grow.
    if (this.buckets.size >= this.maxClients) {
      let n = this.buckets.size / 2;
      for (const k of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }
}
