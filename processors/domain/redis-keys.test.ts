import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reservationKey } from './redis-keys.js';

test('redis-keys reservation keys are injective in request key and imp id', () => {
  assert.notEqual(reservationKey('c', 'a:b', 'c'), reservationKey('c', 'a', 'b:c'));
  assert.notEqual(reservationKey('c', 'exa:r1', '1'), reservationKey('c', 'exb:r1', '1'));
  assert.equal(reservationKey('c', 'r-1', '1'), 'rtb:auth:{c}:r-1:1', 'usual ids keep the key they had');
});
