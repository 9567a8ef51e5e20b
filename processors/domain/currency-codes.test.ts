import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CURRENCY_CODES, isCurrencyCode } from './currency-codes.js';

test('currency codes: the active ISO 4217 codes, upper case, and nothing else', () => {
  for (const c of ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'BRL', 'INR', 'ZWG', 'XCG']) assert.equal(isCurrencyCode(c), true, c);
  for (const c of ['usd', 'ABC', 'EUX', 'XXX', 'XTS', 'US', 'USDD', '', 'DEM', 'HRK']) assert.equal(isCurrencyCode(c), false, c);
  assert.ok(CURRENCY_CODES.size > 170 && CURRENCY_CODES.size < 190, `${CURRENCY_CODES.size} codes`);
  for (const c of CURRENCY_CODES) assert.match(c, /^[A-Z]{3}$/);
});
