import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPpm, mulDivFloor, PPM } from './fixed-point.js';

test('mulDivFloor rounds down', () => {
  assert.equal(mulDivFloor(10, 1, 3), 3);
  assert.equal(mulDivFloor(2, 999_999, PPM), 1);
  assert.equal(mulDivFloor(0, 5, 7), 0);
});

test('mulDivFloor stays exact beyond 2^53 by switching to BigInt', () => {
  // 9e15 × 3 is past 2^53, where a double product would lose the low digits.
  assert.equal(mulDivFloor(9_000_000_000_000_000, 3, 7), Number(27_000_000_000_000_000n / 7n));
  assert.equal(mulDivFloor(123_456_789_012, 2_000_000, PPM), 246_913_578_024);
});

test('mulDivFloor agrees with BigInt on random safe products', () => {
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
  for (let i = 0; i < 5000; i++) {
    const a = next() * 1000 + (next() % 1000);
    const b = next() % 3_000_000;
    const c = (next() % 1_000_000) + 1;
    assert.equal(mulDivFloor(a, b, c), Number((BigInt(a) * BigInt(b)) / BigInt(c)), `${a}*${b}/${c}`);
  }
});

test('applyPpm multiplies by a parts-per-million factor', () => {
  assert.equal(applyPpm(2_000_000, 500_000), 1_000_000);
  assert.equal(applyPpm(3, 500_000), 1);
});
