import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterPatterns } from './catalogue.js';

test('catalogue reset touches only the prefixed campaigns\' spend, frequency and reservation keys', () => {
  assert.deepEqual(counterPatterns('bench-'), ['rtb:spend:{bench-cmp-*', 'rtb:freq:{bench-cmp-*', 'rtb:auth:{bench-cmp-*']);
});
