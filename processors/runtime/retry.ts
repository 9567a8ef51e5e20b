/**
 * What the runner does after a failed attempt, shared with the sink: the backoff before the next one, which
 * errors are retried at all, and the end of a stage that cannot go on (one fatal line, then exit 1 without
 * committing, so the next owner re-reads what was not committed).
 */
import type { Logger } from './logger.js';
import { isPipelineError } from '../../schemas/errors.js';

/**
 * The backoff after the n-th failed attempt in a row: `baseMs` doubling, at most `maxMs`. The runner's and
 * the sink's (per partition, partition-failures.ts): 100 ms doubling to 5 s.
 */
export function backoffMs(failures: number, { baseMs = 100, maxMs = 5000 }: { baseMs?: number; maxMs?: number } = {}): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

/** The runner's rule: a PipelineError is retried when its code says so; any other error may be transient, so it is retried too. */
export function isRetryable(err: unknown): boolean {
  return !isPipelineError(err) || err.retryable;
}

/** Called when a stage cannot continue; the default exits 1 (nothing uncommitted is kept). */
export type OnFatal = (err: unknown) => void;

/** Logs `message` fatal with `err` and `fields`, hands over to `onFatal` (default: exit 1), and never resolves. */
export function fatal(log: Logger, err: unknown, fields: Record<string, unknown>, message: string, onFatal?: OnFatal): Promise<never> {
  log.fatal({ err, ...fields }, message);
  (onFatal ?? (() => process.exit(1)))(err);
  return new Promise<never>(() => undefined);
}
