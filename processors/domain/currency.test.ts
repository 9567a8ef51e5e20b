import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerCurrency, fromBaseMicrosFloor, parseRatePpm, parseRateTable, ratePpm, toBaseMicrosCeil, toBaseMicrosFloor, validRatePpm, type RateTable } from './currency.js';

const table = (rates: Record<string, string>): RateTable => {
  const r = parseRateTable({ base: 'USD', asOfMs: 1_700_000_000_000, rates });
  assert.ok(r.ok);
  return r.table;
};

test('currency parses exact decimal rates into integer ppm', () => {
  assert.equal(parseRatePpm('0.92'), 920_000);
  assert.equal(parseRatePpm('149.5'), 149_500_000);
  assert.equal(parseRatePpm('1'), 1_000_000);
  assert.equal(parseRatePpm('0.000001'), 1);
  assert.equal(parseRatePpm('0.0000001'), null, 'more than six decimals');
  assert.equal(parseRatePpm('0'), null);
  assert.equal(parseRatePpm('-1'), null);
  assert.equal(parseRatePpm('1e3'), null);
  assert.equal(parseRatePpm(''), null);
});

test('currency rejects malformed rate documents with a message naming the problem', () => {
  const bad = (doc: unknown, fragment: string) => {
    const r = parseRateTable(doc);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error, new RegExp(fragment));
  };
  bad(null, 'JSON object');
  bad({ base: 'EUR', asOfMs: 1, rates: {} }, 'base');
  bad({ base: 'USD', rates: {} }, 'asOfMs');
  bad({ base: 'USD', asOfMs: 1, rates: [] }, 'rates');
  bad({ base: 'USD', asOfMs: 1, rates: { EUR: 0.92 } }, 'rates.EUR');
  bad({ base: 'USD', asOfMs: 1, rates: { eur: '0.92' } }, 'rates.eur');
  bad({ base: 'USD', asOfMs: 1, rates: { USD: '2' } }, 'rates.USD');
});

test('currency converts a foreign floor to USD rounding up, and USD prices back rounding down', () => {
  const t = table({ EUR: '0.92', JPY: '149.5' });
  // 1.00 EUR = 1/0.92 USD = 1.0869565.. USD -> 1,086,957 micros (up)
  assert.equal(toBaseMicrosCeil(1_000_000, 'EUR', t), 1_086_957);
  assert.equal(toBaseMicrosCeil(920_000, 'EUR', t), 1_000_000, 'exact conversions are not bumped');
  assert.equal(toBaseMicrosCeil(1_000_000, 'eur', t), 1_086_957, 'codes are case-insensitive');
  assert.equal(toBaseMicrosCeil(500_000, 'USD', t), 500_000);
  assert.equal(toBaseMicrosCeil(500_000, 'GBP', t), null, 'no rate');
  assert.equal(toBaseMicrosCeil(0, 'GBP', t), null, 'an unknown currency is unknown even for a zero floor');
  assert.equal(fromBaseMicrosFloor(1_086_957, 920_000), 1_000_000);
  assert.equal(fromBaseMicrosFloor(1_000_000, 149_500_000), 149_500_000);
  assert.equal(fromBaseMicrosFloor(3, 920_000), 2);
});

test('currency: a price at the converted floor converts back to at least the original floor (no float, large values)', () => {
  const t = table({ EUR: '0.923457', KRW: '1378.123456' });
  for (const [cur, floor] of [['EUR', 1], ['EUR', 999_999_937], ['KRW', 7], ['KRW', 1_234_567_891_011]] as const) {
    const usd = toBaseMicrosCeil(floor, cur, t)!;
    assert.ok(fromBaseMicrosFloor(usd, ratePpm(t, cur)!) >= floor, `${cur} ${floor}`);
    assert.ok(fromBaseMicrosFloor(usd - 1, ratePpm(t, cur)!) < floor, `${cur} ${floor}: the smallest such USD amount`);
  }
});

test('currency picks the answer currency: USD when allowed or unrestricted, else the first with a rate', () => {
  const t = table({ EUR: '0.92' });
  assert.deepEqual(answerCurrency([], t), { currency: 'USD', fxRatePpm: 1_000_000 });
  assert.deepEqual(answerCurrency(['EUR', 'USD'], t), { currency: 'USD', fxRatePpm: 1_000_000 });
  assert.deepEqual(answerCurrency(['GBP', 'EUR'], t), { currency: 'EUR', fxRatePpm: 920_000 });
  assert.equal(answerCurrency(['GBP'], t), null);
  assert.equal(answerCurrency(['EUR'], null), null, 'no table: only USD');
});

test('currency: a price reported back in the answer currency converts to at most what we bid (rounded down, exact past 2^53)', () => {
  assert.equal(toBaseMicrosFloor(1_842_700, 921_350), 2_000_000);
  assert.equal(toBaseMicrosFloor(1_000_000, 920_000), 1_086_956, 'down, where the floor conversion rounds up');
  assert.equal(toBaseMicrosFloor(1_000_000, 1_000_000), 1_000_000);
  for (const [usd, rate] of [[2_500_000, 920_000], [1_000_000_000, 16_000_000_000], [7, 1_378_123_456], [999_999_937, 923_457]] as const) {
    assert.ok(toBaseMicrosFloor(fromBaseMicrosFloor(usd, rate), rate) <= usd, `${usd} at ${rate}`);
  }
  // 10^9 USD micros x 1.6 x 10^10 ppm is far past 2^53: a float product would be off in the last digits.
  assert.equal(fromBaseMicrosFloor(1_000_000_000, 16_000_000_000), 16_000_000_000_000);
  assert.deepEqual([1, 1_000_000].map(validRatePpm), [true, true]);
  assert.deepEqual([0, -5, 1.5, Number.NaN, 2 ** 60].map(validRatePpm), [false, false, false, false, false]);
});
