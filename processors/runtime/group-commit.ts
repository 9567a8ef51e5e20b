/**
 * Group commit: batches of several partitions, processed concurrently, share ONE Kafka transaction.
 * A transaction costs a few broker round trips whatever its size; one per partition-batch made each
 * hop wait for a queue of small transactions (measured: 60-190 ms per hop at 100 req/s over 12
 * partitions). Contributions that arrive while a transaction is committing go into the next one, so
 * an idle pipeline commits at once and a busy one amortises the cost. If the transaction fails, every
 * contribution in it fails (each batch is then re-read), so exactly-once is kept.
 */
export class GroupCommit<C> {
  private pending: Array<{ c: C; resolve: () => void; reject: (err: unknown) => void }> = [];
  private running = false;

  constructor(private readonly commit: (contributions: C[]) => Promise<void>) {}

  /** Resolves when the transaction holding `c` has committed; rejects when it failed. */
  join(c: C): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ c, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.length > 0) {
        const round = this.pending.splice(0);
        try {
          await this.commit(round.map((r) => r.c));
          for (const r of round) r.resolve();
        } catch (err) {
          for (const r of round) r.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
