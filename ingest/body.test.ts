import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { HttpError, checkContentType, checkDeclaredLength, checkOpenRtbVersion, decodeBody } from './body.js';

const status = (fn: () => unknown): number => {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return e.status;
    throw e;
  }
  return 0;
};

test('body accepts application/json with a charset and rejects other types with 415', () => {
  assert.equal(status(() => checkContentType('application/json; charset=utf-8')), 0);
  assert.equal(status(() => checkContentType('Application/JSON')), 0);
  assert.equal(status(() => checkContentType('text/plain')), 415);
  assert.equal(status(() => checkContentType('')), 415);
});

test('body rejects a declared length over the limit with 413', () => {
  assert.equal(status(() => checkDeclaredLength('65537', 65536)), 413);
  assert.equal(status(() => checkDeclaredLength('65536', 65536)), 0);
  assert.equal(status(() => checkDeclaredLength('', 65536)), 0);
});

test('body inflates gzip and parses JSON', () => {
  assert.deepEqual(decodeBody(gzipSync(Buffer.from('{"a":1}')), 'gzip', 1024), { a: 1 });
  assert.deepEqual(decodeBody(Buffer.from('{"a":2}'), '', 1024), { a: 2 });
});

test('body stops a gzip bomb at the limit with 413', () => {
  const bomb = gzipSync(Buffer.alloc(10_000_000, 0x20));
  assert.ok(bomb.length < 20_000);
  assert.equal(status(() => decodeBody(bomb, 'gzip', 65536)), 413);
});

test('body answers 400 for bad gzip, bad JSON and an empty body, 415 for other encodings', () => {
  assert.equal(status(() => decodeBody(Buffer.from('not gzip'), 'gzip', 1024)), 400);
  assert.equal(status(() => decodeBody(Buffer.from('{"a":'), '', 1024)), 400);
  assert.equal(status(() => decodeBody(Buffer.alloc(0), '', 1024)), 400);
  assert.equal(status(() => decodeBody(Buffer.from('{}'), 'br', 1024)), 415);
});

test('body accepts 2.x OpenRTB versions only', () => {
  assert.equal(checkOpenRtbVersion('2.6'), '2.6');
  assert.equal(checkOpenRtbVersion('2.5.1'), '2.5.1');
  assert.equal(checkOpenRtbVersion(''), null);
  assert.equal(status(() => checkOpenRtbVersion('3.0')), 400);
});
