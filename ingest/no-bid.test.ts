import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noBidAnswer } from './no-bid.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';

const outcome = (nbr: number | null): AuctionOutcome => ({
  requestId: 'r-1', userId: null, at: 2, test: false, receivedAtMs: 0, decidedAtMs: 0, impCount: 1, bids: [], wins: [], noBidReason: 'no_bids', nbr,
});

test('no-bid: 204 by default, whatever the reason', () => {
  assert.deepEqual(noBidAnswer(204, 'r-1', outcome(500)), { status: 204 });
  assert.deepEqual(noBidAnswer(204, 'r-1', null), { status: 204 });
});

test('no-bid: 200 with the request id, an empty seatbid and the outcome\'s nbr (15 when no outcome came by the deadline)', () => {
  const answer = (o: AuctionOutcome | null) => {
    const a = noBidAnswer(200, 'req "x"', o);
    assert.equal(a.status, 200);
    return JSON.parse((a as { body: string }).body) as unknown;
  };
  assert.deepEqual(answer(outcome(500)), { id: 'req "x"', seatbid: [], nbr: 500 });
  assert.deepEqual(answer(outcome(9)), { id: 'req "x"', seatbid: [], nbr: 9 });
  assert.deepEqual(answer(null), { id: 'req "x"', seatbid: [], nbr: 15 });
  assert.deepEqual(answer(outcome(null)), { id: 'req "x"', seatbid: [], nbr: 0 }, 'no reason given: 0 Unknown Error');
});
