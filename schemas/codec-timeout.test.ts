/** The codec against a registry that accepts connections and never answers: start-up fails with a clear error instead of hanging. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { AvroCodec } from './codec.js';
import { isPipelineError } from './errors.js';

test('codec: a registry that never answers fails registration (retried, then SCHEMA_REGISTRY) instead of hanging', async (t) => {
  const sockets = new Set<Socket>();
  let requests = 0;
  const silent = createServer((s) => {
    sockets.add(s);
    s.on('data', () => requests++);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const port = (silent.address() as { port: number }).port;
  const codec = new AvroCodec(`http://127.0.0.1:${port}`, { timeoutMs: 150 });
  const started = Date.now();
  await assert.rejects(codec.register('hang-value', { type: 'record', name: 'R', fields: [] }), (err) => {
    assert.ok(isPipelineError(err), String(err));
    assert.equal(err.code, 'SCHEMA_REGISTRY');
    assert.match(err.message, /Timeout/);
    return true;
  });
  assert.ok(requests >= 2, `the timed-out registration was tried again (${requests} requests)`);
  assert.ok(Date.now() - started < 60_000);
});
