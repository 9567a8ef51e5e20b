/**
 * Matches auction outcomes to the requests waiting for them, by request id. A wait ends with the
 * outcome or, at its deadline, with null (the edge answers no-bid); an outcome nobody waits for any
 * more (it arrived after the deadline) is counted as late and dropped here: the pipeline has recorded it.
 */
import type { AuctionOutcome } from '../schemas/auction-outcome.js';

interface Waiter {
  resolve: (o: AuctionOutcome | null) => void;
  timer: NodeJS.Timeout;
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

  /** Waits up to `timeoutMs` for the outcome of `requestId`. A second wait on the same id replaces the first (which gets null). */
  wait(requestId: string, timeoutMs: number): Promise<AuctionOutcome | null> {
    this.waiting.get(requestId)?.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        this.timedOut++;
        this.expired.add(requestId);
        if (this.expired.size > EXPIRED_MEMORY) this.expired.delete(this.expired.values().next().value as string);
        resolve(null);
      }, Math.max(0, timeoutMs));
      this.waiting.set(requestId, {
        timer,
        resolve: (o) => {
          clearTimeout(timer);
          this.waiting.delete(requestId);
          resolve(o);
        },
      });
    });
  }

  /** Hands an outcome to its waiter. 'late': its wait had already timed out; 'foreign': not a request of this edge. */
  deliver(outcome: AuctionOutcome): 'delivered' | 'late' | 'foreign' {
    const w = this.waiting.get(outcome.requestId);
    if (w) {
      w.resolve(outcome);
      return 'delivered';
    }
    if (this.expired.delete(outcome.requestId)) {
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
