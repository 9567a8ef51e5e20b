import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit.js';

test('rate-limit allows a burst then refills at the rate', () => {
  const l = new RateLimiter(10, 3);
  assert.deepEqual([l.take('a', 0), l.take('a', 0), l.take('a', 0)], [0, 0, 0]);
  assert.ok(l.take('a', 0) > 0, 'fourth request in the same instant is limited');
  assert.equal(l.take('a', 100), 0, 'one token after 100 ms at 10/s');
  assert.ok(l.take('a', 100) > 0);
});

test('rate-limit keeps clients apart', () => {
  const l = new RateLimiter(1, 1);
  assert.equal(l.take('a', 0), 0);
  assert.ok(l.take('a', 0) > 0);
  assert.equal(l.take('b', 0), 0);
});

test('rate-limit is off at rate 0', () => {
  const l = new RateLimiter(0, 1);
  for (let i = 0; i < 100; i++) assert.equal(l.take('a', 0), 0);
});

test('rate-limit bounds its memory', () => {
  const l = new RateLimiter(1, 1, 100);
  for (let i = 0; i < 1000; i++) l.take(`c${i}`, i);
  assert.ok((l as unknown as { buckets: Map<string, unknown> }).buckets.size <= 100);
});

test('rate-limit peek tells whether a token is there without taking it', () => {
  const l = new RateLimiter(1, 2);
  assert.equal(l.peek('a', 0), 0, 'an unknown client has its full burst');
  l.take('a', 0);
  assert.equal(l.peek('a', 0), 0);
  l.take('a', 0);
  assert.equal(l.peek('a', 0), 1, 'empty: one second until the next token');
  assert.equal(l.peek('a', 0), 1, 'peeking took nothing');
  assert.equal(l.peek('a', 1000), 0, 'refilled');
});
