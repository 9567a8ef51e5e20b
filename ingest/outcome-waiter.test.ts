import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutcomeWaiter } from './outcome-waiter.js';
import { requestKey } from '../schemas/request-key.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';

const outcome = (requestId: string): AuctionOutcome => ({
  requestId, userId: null, at: 2, test: false, receivedAtMs: 0, decidedAtMs: 0, impCount: 1, bids: [], wins: [], noBidReason: 'no_bids', nbr: 500,
});

test('outcome-waiter resolves a wait with its outcome', async () => {
  const w = new OutcomeWaiter();
  const p = w.wait('r1', 1000);
  assert.equal(w.deliver(outcome('r1')), 'delivered');
  assert.equal((await p)?.requestId, 'r1');
  assert.equal(w.pending, 0);
});

test('outcome-waiter ends a wait with null at its deadline and counts the outcome that comes later as late', async () => {
  const w = new OutcomeWaiter();
  assert.equal(await w.wait('r1', 5), null);
  assert.equal(w.timedOut, 1);
  assert.equal(w.deliver(outcome('r1')), 'late');
  assert.equal(w.late, 1);
  assert.equal(w.deliver(outcome('r1')), 'foreign', 'counted once');
});

test('outcome-waiter ignores outcomes of requests it never saw', () => {
  const w = new OutcomeWaiter();
  assert.equal(w.deliver(outcome('other-edge')), 'foreign');
  assert.equal(w.late, 0);
});

test('outcome-waiter cancelAll ends every wait with null', async () => {
  const w = new OutcomeWaiter();
  const ps = [w.wait('a', 10_000), w.wait('b', 10_000)];
  w.cancelAll();
  assert.deepEqual(await Promise.all(ps), [null, null]);
  assert.equal(w.pending, 0);
});

test('outcome-waiter keeps the same request id from two exchanges apart', async () => {
  const w = new OutcomeWaiter();
  const a = w.wait(requestKey('exa', 'r1'), 1000);
  const b = w.wait(requestKey('exb', 'r1'), 1000);
  assert.equal(w.pending, 2, 'neither wait replaced the other');
  assert.equal(w.deliver({ ...outcome('r1'), exchange: 'exb' }), 'delivered');
  assert.equal(w.deliver({ ...outcome('r1'), exchange: 'exa' }), 'delivered');
  assert.equal((await a)?.exchange, 'exa');
  assert.equal((await b)?.exchange, 'exb');
});

test('outcome-waiter cancel ends the wait at once, frees its entry and timer, and counts no timeout', async () => {
  const w = new OutcomeWaiter();
  const p = w.wait('k', 60_000);
  w.cancel('k', p);
  assert.equal(await p, null);
  assert.equal(w.pending, 0);
  assert.equal(w.timedOut, 0);
  assert.equal(w.deliver(outcome('k')), 'foreign', 'a cancelled wait is not waited for');
  // A cancel for a wait that was replaced leaves the newer one alone.
  const first = w.wait('k2', 60_000);
  const second = w.wait('k2', 60_000);
  assert.equal(await first, null);
  w.cancel('k2', first);
  assert.equal(w.pending, 1);
  w.cancel('k2', second);
  assert.equal(w.pending, 0);
});
