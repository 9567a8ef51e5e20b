import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser } from './response-parser.js';

function feed(parser: ResponseParser, text: string, pieceSize: number): Array<ReturnType<ResponseParser['push']>> {
  const bytes = Buffer.from(text, 'latin1');
  const out: Array<ReturnType<ResponseParser['push']>> = [];
  for (let i = 0; i < bytes.length; i += pieceSize) out.push(parser.push(bytes.subarray(i, i + pieceSize)));
  return out;
}

const FIXED = 'HTTP/1.1 202 Accepted\r\nContent-Length: 12\r\n\r\n{"id":"abc"}';
const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n';

test('response parser completes a Content-Length response only on its last byte, however it is split', () => {
  for (const piece of [1, 3, 7, FIXED.length]) {
    const results = feed(new ResponseParser(), FIXED, piece);
    assert.deepEqual(results.at(-1), { status: 202, close: false }, `piece ${piece}`);
    assert.ok(results.slice(0, -1).every((r) => r === null), `early completion with piece ${piece}`);
  }
});

test('response parser reads chunked bodies to the terminating chunk', () => {
  for (const piece of [1, 4, CHUNKED.length]) {
    const results = feed(new ResponseParser(), CHUNKED, piece);
    assert.deepEqual(results.at(-1), { status: 200, close: false }, `piece ${piece}`);
    assert.ok(results.slice(0, -1).every((r) => r === null));
  }
  const parser = new ResponseParser();
  assert.equal(parser.push(Buffer.from(CHUNKED.slice(0, -2))), null, 'missing final CRLF must not complete');
});

test('response parser skips interim 1xx responses and reports Connection: close', () => {
  const parser = new ResponseParser();
  const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';
  assert.deepEqual(parser.push(Buffer.from(text)), { status: 503, close: true });
});

test('response parser is reusable after reset and flags garbage', () => {
  const parser = new ResponseParser();
  assert.equal(parser.push(Buffer.from(FIXED))?.status, 202);
  assert.equal(parser.push(Buffer.from(FIXED))?.status, 202);
  assert.ok(new ResponseParser().push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))?.error);
  assert.equal(new ResponseParser().push(Buffer.alloc(70 * 1024, 65))?.error, 'response head too large');
  const untilClose = new ResponseParser().push(Buffer.from('HTTP/1.0 200 OK\r\n\r\nbody'));
  assert.match(untilClose?.error ?? '', /^status 200 with neither Content-Length nor chunked encoding/, 'a close-delimited body is refused, by name');
  assert.equal(new ResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))?.error, 'bad chunk size');
});

test('response parser keeps bodies when asked, whole or chunked, however they are split', () => {
  for (const piece of [1, 5, FIXED.length]) {
    assert.equal(feed(new ResponseParser(true), FIXED, piece).at(-1)?.body?.toString(), '{"id":"abc"}', `piece ${piece}`);
  }
  for (const piece of [1, 4, CHUNKED.length]) {
    assert.equal(feed(new ResponseParser(true), CHUNKED, piece).at(-1)?.body?.toString(), 'hello world', `piece ${piece}`);
  }
  const parser = new ResponseParser(true);
  assert.equal(parser.push(Buffer.from(FIXED))?.body?.toString(), '{"id":"abc"}');
  assert.equal(parser.push(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'))?.body?.length, 0, 'reset between responses');
});
