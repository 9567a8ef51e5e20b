/** Which Postgres failures are worth retrying, as the pipeline's error type. */
import { PipelineError } from '../schemas/errors.js';

/**
 * SQLSTATE classes worth retrying: connection exceptions (08), insufficient resources (53), operator
 * intervention such as a restart (57P0x), and the transaction conflicts that a retry resolves
 * (serialization failure, deadlock, lock not available).
 */
const RETRYABLE_SQLSTATE = /^(08|53|57P0[123]|40001|40P01|55P03)/;
/** The client's own connection failures (postgres.js codes and Node's socket errno codes). */
const CONNECTION_CODE = /^(CONNECTION_[A-Z]+|CONNECT_TIMEOUT|E[A-Z0-9]+)$/;

/**
 * Retryable database trouble becomes DEPENDENCY_UNAVAILABLE (retryable): the retryable SQLSTATEs and the
 * client losing its connection. Anything else (a constraint the data broke, a missing table, a bug) is
 * returned as it is, non-retryable: retrying would fail the same way.
 */
export function asPipelineError(err: unknown): unknown {
  if (err instanceof PipelineError) return err;
  const e = err as { name?: string; code?: unknown; message?: string } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const retryable = e?.name === 'PostgresError' ? RETRYABLE_SQLSTATE.test(code) : CONNECTION_CODE.test(code);
  return retryable ? new PipelineError('DEPENDENCY_UNAVAILABLE', `Postgres: ${e?.message ?? String(err)}`, { cause: err }) : err;
}
