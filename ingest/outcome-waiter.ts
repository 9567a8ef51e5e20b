/**
 * Matches auction outcomes to the requests waiting for them, by request key: requestKey(exchange, id)
 * (schemas/request-key.ts), since two exchanges may send the same id. A wait ends with the outcome or,
 * at its deadline, with null (the edge answers no-bid), or is cancelled (the client went away: its entry
 * and timer go at once); an outcome nobody waits for any more (it arrived after the deadline) is counted
 * as late and dropped here: the pipeline has recorded it.
 */
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import { requestKey } from '../schemas/request-key.js';

interface Waiter {
  resolve: (o: AuctionOutcome | null) => void;
  timer: NodeJS.Timeout;
  wait: Promise<AuctionOutcome | null>;
}

/** How many timed-out request ids are remembered, to tell a late outcome from another edge's. */
const EXPIRED_MEMORY = 100_000;

export class OutcomeWaiter {
  private readonly waiting = new Map<string, Waiter>();
  private readonly expired = new Set<string>();
  late = 0;
  timedOut = 0;

  get pending(): number {
    return this.waiting.size;
  }

  /**
   * Waits up to `timeoutMs` for the outcome of the request `key` (requestKey(exchange, id)). A second
   * wait on the same key replaces the first (which gets null).
   */
  wait(key: string, timeoutMs: number): Promise<AuctionOutcome | null> {
    this.waiting.get(key)?.resolve(null);
    let entry!: Waiter;
    const wait = new Promise<AuctionOutcome | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        this.timedOut++;
        this.expired.add(key);
        if (this.expired.size > EXPIRED_MEMORY) this.expired.delete(this.expired.values().next().value as string);
        resolve(null);
      }, Math.max(0, timeoutMs));
      entry = {
        timer,
        wait: null as unknown as Promise<AuctionOutcome | null>,
        resolve: (o) => {
          clearTimeout(timer);
          if (this.waiting.get(key) === entry) this.waiting.delete(key);
          resolve(o);
        },
      };
    });
    entry.wait = wait;
    this.waiting.set(key, entry);
    return wait;
  }

  /**
   * Ends the wait `wait` (what wait() returned for `key`) with null at once, its entry and timer gone: the
   * client went away. Not counted as timed out. A later wait on the same key is left alone.
   */
  cancel(key: string, wait: Promise<AuctionOutcome | null>): void {
    const w = this.waiting.get(key);
    if (w && w.wait === wait) w.resolve(null);
  }

  /** Hands an outcome to its waiter. 'late': its wait had already timed out; 'foreign': not a request of this edge. */
  deliver(outcome: AuctionOutcome): 'delivered' | 'late' | 'foreign' {
    const key = requestKey(outcome.exchange, outcome.requestId);
    const w = this.waiting.get(key);
    if (w) {
      w.resolve(outcome);
      return 'delivered';
    }
    if (this.expired.delete(key)) {
      this.late++;
      return 'late';
    }
    return 'foreign';
  }

  /** Ends every wait with null (shutdown). */
  cancelAll(): void {
    for (const w of [...this.waiting.values()]) w.resolve(null);
  }
}
