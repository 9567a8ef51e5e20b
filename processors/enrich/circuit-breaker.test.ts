import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, type BreakerState, type CircuitBreakerOptions } from './circuit-breaker.js';

const ok = (): Promise<string> => Promise.resolve('v');
const boom = (): Promise<string> => Promise.reject(new Error('boom'));
const hang = (): Promise<string> => new Promise(() => undefined);

function breaker(opts: CircuitBreakerOptions = {}) {
  const clock = { t: 1_000_000 };
  const changes: Array<[BreakerState, BreakerState]> = [];
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 2000, timeoutMs: 10, now: () => clock.t, onStateChange: (f, t) => changes.push([f, t]), ...opts });
  return { b, clock, changes };
}

/** A call that counts whether the breaker let it through. */
function counted(fn: () => Promise<string>) {
  const c = { calls: 0, fn: () => (c.calls++, fn()) };
  return c;
}

test('circuit breaker passes values and errors through while closed', async () => {
  const { b } = breaker();
  assert.deepEqual(await b.run(ok), { ok: true, value: 'v' });
  const err = await b.run(boom);
  assert.equal(err.ok, false);
  assert.equal(!err.ok && err.reason, 'error');
  assert.equal(!err.ok && (err.error as Error).message, 'boom');
  assert.equal(b.state, 'closed');
});

test('circuit breaker opens after N consecutive failures, not after N failures with a success between', async () => {
  const { b, changes } = breaker();
  await b.run(boom);
  await b.run(boom);
  await b.run(ok); // resets the streak
  await b.run(boom);
  await b.run(boom);
  assert.equal(b.state, 'closed');
  await b.run(boom);
  assert.equal(b.state, 'open');
  assert.deepEqual(changes, [['closed', 'open']]);
});

test('circuit breaker counts timeouts as failures and answers at the timeout', async () => {
  const { b } = breaker({ timeoutMs: 15 });
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = await b.run(hang);
    const took = performance.now() - started;
    assert.deepEqual(r, { ok: false, reason: 'timeout' });
    assert.ok(took >= 14 && took < 200, `answered after ${took} ms`);
  }
  assert.equal(b.state, 'open');
});

test('circuit breaker fails fast while open without calling through', async () => {
  const { b, clock } = breaker();
  for (let i = 0; i < 3; i++) await b.run(boom);
  const c = counted(ok);
  clock.t += 1999;
  for (let i = 0; i < 5; i++) assert.deepEqual(await b.run(c.fn), { ok: false, reason: 'open' });
  assert.equal(c.calls, 0);
  assert.equal(b.state, 'open');
});

test('circuit breaker lets one trial through after the cool-down and closes when it succeeds', async () => {
  const { b, clock, changes } = breaker();
  for (let i = 0; i < 3; i++) await b.run(boom);
  clock.t += 2000;
  assert.equal(b.state, 'half-open');
  let release!: () => void;
  const trial = counted(() => new Promise<string>((resolve) => (release = () => resolve('t'))));
  const others = counted(ok);
  const pending = b.run(trial.fn);
  // while the trial is in flight everyone else still fails fast
  assert.deepEqual(await b.run(others.fn), { ok: false, reason: 'open' });
  release();
  assert.deepEqual(await pending, { ok: true, value: 't' });
  assert.equal(b.state, 'closed');
  assert.deepEqual(await b.run(others.fn), { ok: true, value: 'v' });
  assert.deepEqual({ trial: trial.calls, others: others.calls }, { trial: 1, others: 1 });
  assert.deepEqual(changes, [['closed', 'open'], ['open', 'half-open'], ['half-open', 'closed']]);
});

test('circuit breaker reopens for a full cool-down when the trial fails or times out', async () => {
  for (const trial of [boom, hang]) {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) await b.run(boom);
    clock.t += 2500;
    const r = await b.run(trial);
    assert.equal(!r.ok && r.reason, trial === boom ? 'error' : 'timeout');
    assert.equal(b.state, 'open');
    const c = counted(ok);
    clock.t += 1999; // the cool-down restarts from the failed trial, not from the first opening
    assert.deepEqual(await b.run(c.fn), { ok: false, reason: 'open' });
    clock.t += 1;
    assert.deepEqual(await b.run(c.fn), { ok: true, value: 'v' });
    assert.equal(c.calls, 1);
    assert.equal(b.state, 'closed');
  }
});

test('circuit breaker ignores the late outcome of a call admitted before the circuit opened', async () => {
  const { b } = breaker();
  let release!: () => void;
  const slow = b.run(() => new Promise<string>((resolve) => (release = () => resolve('late'))));
  for (let i = 0; i < 3; i++) await b.run(boom);
  assert.equal(b.state, 'open');
  release();
  // resolved before its timeout, but the circuit opened meanwhile: it must not close the circuit
  assert.deepEqual(await slow, { ok: true, value: 'late' });
  assert.equal(b.state, 'open');
});

test('circuit breaker uses the documented defaults and rejects nonsense options', () => {
  const b = new CircuitBreaker();
  assert.deepEqual([b.failureThreshold, b.cooldownMs, b.timeoutMs], [5, 2000, 20]);
  assert.throws(() => new CircuitBreaker({ failureThreshold: 0 }), RangeError);
  assert.throws(() => new CircuitBreaker({ timeoutMs: 0 }), RangeError);
});
