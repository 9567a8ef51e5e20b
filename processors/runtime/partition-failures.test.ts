import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionFailures, looksLikeInfrastructure } from './partition-failures.js';
import { backoffMs } from './retry.js';
import { PipelineError } from '../../schemas/errors.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const poison = () => new PipelineError('DEPENDENCY_UNAVAILABLE', 'this record always fails');

test('a record is dead-lettered at its N-th failure once another record went through since its first', () => {
  const c = clock();
  const f = new PartitionFailures({ poisonRetries: 3, stuckReadyMs: 1000, now: c.now });
  assert.deepEqual(f.recordFailed('t', 0, '5', poison(), false), { attempts: 1, infrastructure: false, deadLetter: false });
  f.batchFailed('t', 0, poison(), '5', '9');
  f.noteOk(); // another partition flows
  assert.equal(f.recordFailed('t', 0, '5', poison(), false).deadLetter, false, 'attempt 2 of 3');
  f.batchFailed('t', 0, poison(), '5', '9');
  const third = f.recordFailed('t', 0, '5', poison(), false);
  assert.deepEqual(third, { attempts: 3, infrastructure: false, deadLetter: true });
  f.batchSucceeded('t', 0, '9');
  assert.equal(f.attemptsOf('t', 0, '5'), 0, 'forgotten once the partition commits');
  assert.deepEqual(f.failing(), []);
});

test('a success in the same batch is evidence too; with none anywhere the record is retried, not dead-lettered', () => {
  const f = new PartitionFailures({ poisonRetries: 2, stuckReadyMs: 1000 });
  f.recordFailed('t', 1, '0', poison(), false);
  assert.equal(f.recordFailed('t', 1, '0', poison(), false).deadLetter, false, 'every record fails: a shared cause, not this record');
  assert.equal(f.recordFailed('t', 1, '0', poison(), true).deadLetter, true, 'the next record of the batch went through');
});

test('errors that look like infrastructure are never dead-lettered, however often they repeat', () => {
  const f = new PartitionFailures({ poisonRetries: 1, stuckReadyMs: 1000 });
  f.noteOk();
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  const wrapped = new PipelineError('DEPENDENCY_UNAVAILABLE', 'budget reservation in Redis failed', { cause: refused });
  for (let i = 0; i < 5; i++) {
    const v = f.recordFailed('t', 0, '3', wrapped, true);
    assert.equal(v.infrastructure, true);
    assert.equal(v.deadLetter, false);
  }
});

test('looksLikeInfrastructure: Kafka, registry, connection errors, ioredis and Redis server states; not a record\'s own error', () => {
  const yes: unknown[] = [
    new PipelineError('KAFKA_PRODUCE_FAILED', 'transaction failed'),
    new PipelineError('SCHEMA_REGISTRY', 'registry down'),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: new Error('Connection is closed.') }),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: Object.assign(new Error('x'), { name: 'MaxRetriesPerRequestError' }) }),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: new Error('Command timed out') }),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: new Error("OOM command not allowed when used memory > 'maxmemory'.") }),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: new Error('LOADING Redis is loading the dataset in memory') }),
    Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }),
    new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'Postgres is unreachable', { cause: Object.assign(new Error('x'), { code: 'CONNECTION_CLOSED' }) }),
  ];
  const no: unknown[] = [
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'test failure hook'),
    new TypeError("Cannot read properties of undefined (reading 'id')"),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: new Error('ERR Error running script: attempt to compare nil with number') }),
    new PipelineError('DEPENDENCY_UNAVAILABLE', 'x', { cause: new Error('WRONGTYPE Operation against a key holding the wrong kind of value') }),
    'a string',
  ];
  for (const e of yes) assert.equal(looksLikeInfrastructure(e), true, String((e as Error).message ?? e));
  for (const e of no) assert.equal(looksLikeInfrastructure(e), false, String((e as Error).message ?? e));
});

test('failures are counted per partition: backoff and stuck time of one do not touch another', () => {
  const c = clock();
  const f = new PartitionFailures({ poisonRetries: 5, stuckReadyMs: 1000, now: c.now });
  assert.deepEqual(f.batchFailed('t', 0, poison(), '7', '7'), { failures: 1, backoffMs: 100 });
  c.advance(600);
  assert.deepEqual(f.batchFailed('t', 0, poison(), '7', '7'), { failures: 2, backoffMs: 200 });
  assert.deepEqual(f.batchFailed('t', 1, poison(), undefined, '3'), { failures: 1, backoffMs: 100 });
  assert.deepEqual(f.stuck(), [], 'not stuck before the threshold');
  c.advance(500);
  const stuck = f.stuck();
  assert.equal(stuck.length, 1);
  assert.deepEqual({ ...stuck[0], message: undefined }, { topic: 't', partition: 0, sinceMs: 1_000_000, stuckMs: 1100, failures: 2, offset: '7', code: 'DEPENDENCY_UNAVAILABLE', message: undefined });
  f.batchSucceeded('t', 0, '7');
  assert.deepEqual(f.failing().map((p) => p.partition), [1]);
  assert.equal(backoffMs(1), 100);
  assert.equal(backoffMs(7), 5000);
});

test('a partition not attempted for staleMs (revoked while backing off) is forgotten', () => {
  const c = clock();
  const f = new PartitionFailures({ poisonRetries: 5, stuckReadyMs: 10, staleMs: 1000, now: c.now });
  f.batchFailed('t', 2, poison(), undefined, '1');
  c.advance(500);
  assert.equal(f.stuck().length, 1);
  c.advance(600);
  assert.deepEqual(f.stuck(), []);
});

test('a whole batch failing twice (not infrastructure) is then handled record by record up to its last offset', () => {
  const f = new PartitionFailures({ poisonRetries: 5, stuckReadyMs: 1000 });
  const prepareBug = new TypeError('prepare choked on one record');
  f.batchFailed('t', 0, prepareBug, undefined, '19');
  assert.equal(f.isolating('t', 0, '10'), false, 'first failure: the batch is retried whole');
  f.batchFailed('t', 0, prepareBug, undefined, '19');
  assert.equal(f.isolating('t', 0, '10'), true);
  f.batchSucceeded('t', 0, '10');
  assert.equal(f.isolating('t', 0, '11'), true, 'still inside the failed range');
  assert.deepEqual(f.failing(), [], 'but flowing');
  f.batchSucceeded('t', 0, '19');
  assert.equal(f.isolating('t', 0, '20'), false);
  // Infrastructure never switches to record-by-record.
  const kafka = new PipelineError('KAFKA_PRODUCE_FAILED', 'down');
  f.batchFailed('t', 1, kafka, undefined, '5');
  f.batchFailed('t', 1, kafka, undefined, '5');
  assert.equal(f.isolating('t', 1, '0'), false);
});
