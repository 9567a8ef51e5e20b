import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_BID_REASONS } from '../domain/bid.js';
import { NBR_CODES, nbrFor } from './no-bid-reasons.js';

test('no-bid-reasons maps the frequency cap to the standard Daily User Cap Met code', () => {
  assert.equal(nbrFor('frequency_capped'), 9);
});

test('no-bid-reasons gives every bidder and auction reason a code, vendor-specific ones at 500+', () => {
  for (const reason of [...NO_BID_REASONS, 'no_bids'] as const) {
    const code = nbrFor(reason);
    assert.ok(Number.isInteger(code), reason);
    if (reason !== 'frequency_capped') assert.ok(code >= 500, `${reason} → ${code}`);
  }
  assert.equal(Object.keys(NBR_CODES).length, NO_BID_REASONS.length + 1);
});

test('no-bid-reasons keeps distinct causes apart', () => {
  const codes = new Set([nbrFor('below_floor'), nbrFor('budget_exhausted'), nbrFor('paced'), nbrFor('no_eligible_campaign'), nbrFor('frequency_capped')]);
  assert.equal(codes.size, 5);
});
