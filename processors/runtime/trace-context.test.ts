/** The request id and W3C trace context rules (pure; no servers). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseRequestId, headerValue, parseTraceparent, recordHeadersOf, saneRequestId, saneTracestate, toKafkaJsHeaders, traceFromHttp,
  traceHeaders, traceIdOf, traceLogFields, type RecordHeaders,
} from './trace-context.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`;

test('traceparent: version 00 with a non-zero trace id and parent id is parsed', () => {
  assert.deepEqual(parseTraceparent(VALID), { version: '00', traceId: TRACE_ID, parentId: PARENT_ID, flags: '01' });
  assert.deepEqual(parseTraceparent(`00-${TRACE_ID}-${PARENT_ID}-00`)?.flags, '00');
});

test('traceparent: anything else is ignored (null), never an error', () => {
  const invalid = [
    '', 'garbage', VALID.slice(0, -1), `${VALID}-extra`, `${VALID} `, ` ${VALID}`,
    `01-${TRACE_ID}-${PARENT_ID}-01`, // only version 00 is accepted
    `ff-${TRACE_ID}-${PARENT_ID}-01`,
    `00-${'0'.repeat(32)}-${PARENT_ID}-01`, // all-zero trace id
    `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // all-zero parent id
    `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, // upper-case hex
    `00-${TRACE_ID.slice(0, 31)}g-${PARENT_ID}-01`,
    `00-${TRACE_ID}-${PARENT_ID}-0g`,
    `00_${TRACE_ID}_${PARENT_ID}_01`,
    `00-${TRACE_ID}${PARENT_ID}--01`,
  ];
  for (const v of invalid) assert.equal(parseTraceparent(v), null, JSON.stringify(v));
  assert.equal(parseTraceparent(undefined), null);
  assert.equal(parseTraceparent(null), null);
});

test('x-request-id: 1..128 visible ASCII characters, else not sane', () => {
  for (const v of ['r', 'req-123', 'a'.repeat(128), '4bf92f35-77b3-4da6-a3ce-929d0e0e4736', '~!@#$%^&*()_+{}|:"<>?']) assert.ok(saneRequestId(v), v);
  for (const v of ['', 'a'.repeat(129), 'has space', 'tab\there', 'crlf\r\nx-evil: 1', 'caf\u00e9', 'nul\u0000', '\u007f']) assert.ok(!saneRequestId(v), JSON.stringify(v));
  assert.ok(!saneRequestId(undefined));
  assert.ok(!saneRequestId(null));
});

test('tracestate: bounded, printable, else dropped', () => {
  assert.ok(saneTracestate('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'));
  assert.ok(saneTracestate('a=1, b=2'));
  assert.ok(!saneTracestate(''));
  assert.ok(!saneTracestate('x'.repeat(513)));
  assert.ok(!saneTracestate('a=1\r\nb=2'));
});

test('edge: the exchange id when sane, else the OpenRTB id when sane, else a generated one', () => {
  const given = traceFromHttp('exchange-42', '', '');
  assert.equal(chooseRequestId(given, 'ortb-1'), 'exchange-42');
  assert.equal(chooseRequestId(traceFromHttp('', '', ''), 'ortb-1'), 'ortb-1');
  assert.equal(chooseRequestId(traceFromHttp('bad id with spaces', '', ''), 'ortb-1'), 'ortb-1', 'an insane header is ignored, not an error');
  const generated = chooseRequestId(traceFromHttp('x'.repeat(200), '', ''), 'ortb id with\nnewline');
  assert.match(generated, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const early = traceFromHttp('', '', '');
  const first = chooseRequestId(early); // an answer before the body was parsed
  assert.equal(chooseRequestId(early, 'ortb-late'), first, 'once chosen the id stays');
  assert.notEqual(chooseRequestId(traceFromHttp('', '', '')), first, 'each generated id is new');
});

test('edge: trace context kept only when valid; tracestate only with a valid traceparent', () => {
  assert.deepEqual(traceFromHttp('r1', VALID, 'a=1'), { requestId: 'r1', traceparent: VALID, tracestate: 'a=1' });
  assert.deepEqual(traceFromHttp('r1', 'nonsense', 'a=1'), { requestId: 'r1', traceparent: '', tracestate: '' });
  assert.deepEqual(traceFromHttp('r1', VALID, 'x'.repeat(600)), { requestId: 'r1', traceparent: VALID, tracestate: '' });
  assert.equal(traceIdOf(traceFromHttp('r1', VALID, '')), TRACE_ID);
  assert.equal(traceIdOf(traceFromHttp('r1', '', '')), undefined);
});

test('edge record headers: always the request id, the trace context when there is one', () => {
  assert.deepEqual(recordHeadersOf(traceFromHttp('r1', '', '')), [{ 'x-request-id': 'r1' }]);
  assert.deepEqual(recordHeadersOf(traceFromHttp('r1', VALID, 'a=1')), [{ 'x-request-id': 'r1' }, { traceparent: VALID }, { tracestate: 'a=1' }]);
  const t = traceFromHttp('', '', '');
  chooseRequestId(t, 'ortb-9');
  assert.deepEqual(recordHeadersOf(t), [{ 'x-request-id': 'ortb-9' }]);
});

test('runner: a record of this pipeline passes its own header array on; other headers are not copied; none stays none', () => {
  const ours: RecordHeaders = [{ 'x-request-id': Buffer.from('r1') }, { traceparent: Buffer.from(VALID) }];
  assert.equal(traceHeaders(ours), ours, 'the same array: no allocation per record');
  assert.equal(traceHeaders(undefined), undefined);
  assert.equal(traceHeaders([]), undefined);
  assert.equal(traceHeaders([{ other: 'x' }]), undefined);
  assert.deepEqual(traceHeaders([{ other: 'x' }, { 'x-request-id': 'r2' }, { tracestate: 'a=1' }]), [{ 'x-request-id': 'r2' }, { tracestate: 'a=1' }]);
  // The KafkaJS-compatible consumer's object form (exactly-once mode).
  assert.deepEqual(traceHeaders({ 'x-request-id': Buffer.from('r3'), other: 'y' }), [{ 'x-request-id': Buffer.from('r3') }]);
  assert.deepEqual(traceHeaders({ other: 'y' }), undefined);
  assert.deepEqual(traceHeaders({ traceparent: ['a', 'b'] }), [{ traceparent: 'a' }, { traceparent: 'b' }]);
});

test('headers convert to the KafkaJS-compatible form and read back from either form', () => {
  const h: RecordHeaders = [{ 'x-request-id': 'r1' }, { traceparent: VALID }, { traceparent: 'again' }];
  assert.deepEqual(toKafkaJsHeaders(h), { 'x-request-id': 'r1', traceparent: [VALID, 'again'] });
  assert.equal(headerValue(h, 'traceparent'), VALID);
  assert.equal(headerValue({ 'x-request-id': Buffer.from('r1') }, 'x-request-id'), 'r1');
  assert.equal(headerValue(undefined, 'x-request-id'), undefined);
  assert.deepEqual(traceLogFields([{ 'x-request-id': Buffer.from('r1') }, { traceparent: Buffer.from(VALID) }]), { requestId: 'r1', traceId: TRACE_ID });
  assert.deepEqual(traceLogFields({ 'x-request-id': 'r1', traceparent: 'invalid' }), { requestId: 'r1' });
  assert.deepEqual(traceLogFields(undefined), {});
});
