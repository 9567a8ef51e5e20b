import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeCountry } from './country-codes.js';

test('country-codes normalises alpha-2 and alpha-3 of any case to lower-case alpha-3', () => {
  assert.equal(normalizeCountry('US'), 'usa');
  assert.equal(normalizeCountry('usa'), 'usa');
  assert.equal(normalizeCountry(' gb '), 'gbr');
  assert.equal(normalizeCountry('DEU'), 'deu');
});

test('country-codes rejects unknown alpha-2 codes and non-codes', () => {
  assert.equal(normalizeCountry('zz'), null);
  assert.equal(normalizeCountry('United States'), null);
  assert.equal(normalizeCountry('u1'), null);
  assert.equal(normalizeCountry(''), null);
});
