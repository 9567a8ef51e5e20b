/** The codec against a registry that accepts connections and never answers: start-up fails with a clear error instead of hanging. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import avro from 'avsc';
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

test('codec: a writer-schema lookup that times out is asked again, and the record then decodes', async (t) => {
  const schema = { type: 'record', name: 'R', fields: [{ name: 'n', type: 'int' }] };
  const lookups: string[] = [];
  const held = new Set<ServerResponse>();
  const registry = createHttpServer((req, res) => {
    lookups.push(req.url ?? '');
    // The first lookup is never answered (the client times it out); the next one is.
    if (lookups.length === 1) return void held.add(res);
    res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    res.end(JSON.stringify({ schema: JSON.stringify(schema) }));
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const res of held) res.destroy();
    registry.close();
  });
  const port = (registry.address() as { port: number }).port;
  const codec = new AvroCodec(`http://127.0.0.1:${port}`, { timeoutMs: 150 });
  const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 42]), avro.Type.forSchema(schema as avro.Schema).toBuffer({ n: 7 })]);
  assert.deepEqual({ ...(await codec.decode<{ n: number }>(framed)) }, { n: 7 });
  assert.equal(lookups.length, 2, 'one timed-out lookup, one answered');
  assert.ok(lookups.every((u) => u.endsWith('/schemas/ids/42')), lookups.join(', '));
});
