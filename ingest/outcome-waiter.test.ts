import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutcomeWaiter } from './outcome-waiter.js';
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
