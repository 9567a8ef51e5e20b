/**
 * Exactly-once runner: records below an offset this process has itself committed are never processed again.
 *
 * A transaction that committed input offset C for a partition means every record below C was processed
 * and its effects are on the output topics. Committed offsets only move forward (this process's later
 * commits, or another member's after a rebalance; an operator's reset needs the group empty, i.e. a new
 * process). So a record below C that the consumer hands over again can only come from a consumer that
 * lost its position and fell back to auto.offset.reset=earliest. Seen once in five full chaos runs: after
 * a broker kill -9 and a 94 s restart, the aggregate (alive throughout, rejoining its group) read both
 * input topics again from the start and every earlier window was counted twice in Postgres. An abort is
 * not such a case: the batch is read again from its first record, which is at or above C.
 *
 * `filter` drops those records (counted and logged by the runner) so the consumer moves on to C; the
 * records at and above C are processed as usual.
 */

export class RewindGuard {
  /** `topic/partition` → the next offset this process committed (the lowest not yet processed). */
  private readonly committed = new Map<string, bigint>();

  /** After a transaction committed `next` as the input offset of `topic`/`partition`. */
  committedNext(topic: string, partition: number, next: string): void {
    const key = `${topic}/${partition}`;
    const n = BigInt(next);
    const had = this.committed.get(key);
    if (had === undefined || n > had) this.committed.set(key, n);
  }

  /** The records of a batch at or above what this process committed, and how many below it were dropped. */
  filter<M extends { offset: string }>(topic: string, partition: number, messages: M[]): { kept: M[]; skipped: number; committedNext: bigint | undefined } {
    const next = this.committed.get(`${topic}/${partition}`);
    if (next === undefined || messages.length === 0 || BigInt(messages[0]!.offset) >= next) return { kept: messages, skipped: 0, committedNext: next };
    const kept = messages.filter((m) => BigInt(m.offset) >= next);
    return { kept, skipped: messages.length - kept.length, committedNext: next };
  }
}
