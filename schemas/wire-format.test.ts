import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, unframe } from './wire-format.js';
import { isPipelineError } from './errors.js';

test('wire-format frames magic byte, big-endian id and body', () => {
  const out = frame(0x01020304, Buffer.from([9, 8]));
  assert.deepEqual([...out], [0, 1, 2, 3, 4, 9, 8]);
  const { schemaId, body } = unframe(out);
  assert.equal(schemaId, 0x01020304);
  assert.deepEqual([...body], [9, 8]);
});

test('wire-format rejects short buffers and a wrong magic byte with DECODE_FAILED', () => {
  assert.throws(() => unframe(Buffer.from([0, 1])), (e) => isPipelineError(e, 'DECODE_FAILED'));
  assert.throws(() => unframe(Buffer.from([1, 0, 0, 0, 1, 2])), (e) => isPipelineError(e, 'DECODE_FAILED') && /magic/.test(e.message));
});
