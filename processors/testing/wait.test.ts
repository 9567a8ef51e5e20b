import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, WaitTimeout } from './wait.js';

test('waitFor returns the first value that is not undefined or false (0, null and "" are values)', async () => {
  const seq = [undefined, false, 0];
  let calls = 0;
  assert.equal(await waitFor(() => seq[calls++], { what: 'a value', timeoutMs: 1000, intervalMs: 1 }), 0);
  assert.equal(calls, 3);
  assert.equal(await waitFor(async () => null, { what: 'null', timeoutMs: 1000 }), null);
});

test('waitFor with `until` waits for a value that satisfies it and returns that value', async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n, { until: (v) => v >= 3, what: 'three', timeoutMs: 1000, intervalMs: 1 }), 3);
});

test('waitFor fails at the deadline naming what it waited for, the last value and the detail', async () => {
  const started = Date.now();
  await assert.rejects(
    waitFor(() => ({ lag: 7 }), { until: (v) => v.lag === 0, what: 'the lag to reach 0', timeoutMs: 50, intervalMs: 10, detail: () => 'child output' }),
    (err: unknown) => {
      assert.ok(err instanceof WaitTimeout);
      assert.equal(err.message, 'timed out after 50 ms waiting for the lag to reach 0; last value: {"lag":7}\nchild output');
      assert.deepEqual(err.last, { lag: 7 });
      return true;
    },
  );
  assert.ok(Date.now() - started >= 50);
});

test("waitFor with atDeadline 'last' returns the last value at the deadline instead of failing", async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n, { until: () => false, atDeadline: 'last', what: 'never', timeoutMs: 30, intervalMs: 10 }) >= 2, true);
  assert.equal(await waitFor(() => undefined, { atDeadline: 'last', what: 'never', timeoutMs: 10, intervalMs: 5 }), undefined);
});

test('a probe that throws ends the wait with its error', async () => {
  await assert.rejects(waitFor(() => { throw new Error('the service exited'); }, { what: 'x', timeoutMs: 1000 }), /the service exited/);
});
