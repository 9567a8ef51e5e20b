import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeKeyPart, parseRequestKey, requestKey, unescapeKeyPart } from './request-key.js';

test('request-key: one exchange and id per key, whatever characters they contain', () => {
  const parts = ['', 'a', 'b', 'a:b', 'b:c', 'a%3Ab', '%', ':', '%25', 'x%', '::', 'ünï', 'a b'];
  const seen = new Map<string, [string, string]>();
  for (const exchange of parts.filter((p) => p !== '')) {
    for (const id of parts) {
      const key = requestKey(exchange, id);
      const before = seen.get(key);
      assert.equal(before, undefined, `${JSON.stringify([exchange, id])} and ${JSON.stringify(before)} share the key ${key}`);
      seen.set(key, [exchange, id]);
      assert.deepEqual(parseRequestKey(key), { exchange, id }, key);
    }
  }
  // The naive join collides: ('a:b', 'c') and ('a', 'b:c') were both 'a:b:c'.
  assert.notEqual(requestKey('a:b', 'c'), requestKey('a', 'b:c'));
});

test('request-key: usual ids stay readable; records without an exchange keep their bare id', () => {
  assert.equal(requestKey('exchange-a', '8d3f-41.x_y'), 'exchange-a:8d3f-41.x_y');
  assert.equal(requestKey('', 'r1'), 'r1');
  assert.equal(requestKey(undefined, 'r1'), 'r1');
  assert.deepEqual(parseRequestKey('r1'), { exchange: '', id: 'r1' });
  for (const s of ['', '%', '%%3A:', 'a%253A']) assert.equal(unescapeKeyPart(escapeKeyPart(s)), s);
  assert.ok(!escapeKeyPart('a:b%c').includes(':'));
});
