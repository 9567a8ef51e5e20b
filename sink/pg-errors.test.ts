import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineError, isPipelineError } from '../schemas/errors.js';
import { asPipelineError } from './pg-errors.js';

const pg = (code: string): Error => Object.assign(new Error(`server says ${code}`), { name: 'PostgresError', code });

test('pg-errors retries connection loss, restarts and transaction conflicts, and nothing else', () => {
  for (const err of [pg('40P01'), pg('40001'), pg('08006'), pg('57P01'), pg('53300'), Object.assign(new Error('gone'), { code: 'CONNECTION_CLOSED' }), Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })]) {
    const out = asPipelineError(err);
    assert.ok(isPipelineError(out, 'DEPENDENCY_UNAVAILABLE') && out.retryable && out.cause === err, String(err));
  }
  for (const err of [pg('23505'), pg('42P01'), pg('23514'), new TypeError('bug')]) assert.equal(asPipelineError(err), err, String(err));
  const own = new PipelineError('BAD_REQUEST', 'x');
  assert.equal(asPipelineError(own), own);
});
