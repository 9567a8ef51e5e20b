/**
 * The compatibility gate against the real registry: a compatible change passes and registers; a new
 * field without a default, or a removed field without a default, is rejected by the registry and fails the gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, commonSpecs } from './config.js';
import { isPipelineError } from './errors.js';
import { AvroCodec } from './codec.js';
import { checkAgainstHistory, checkSchema, history } from './compat-gate.js';
import { TOPIC_SCHEMAS, loadSchema, subjectFor } from './topics.js';

const { schemaRegistryUrl } = loadConfig(commonSpecs);
const v1 = {
  type: 'record', name: 'Evolving', namespace: 'rtb.test',
  fields: [{ name: 'id', type: 'string' }, { name: 'legacy', type: 'string' }, { name: 'spendMicros', type: 'long', default: 0 }],
};
const withFields = (fields: object[]) => ({ ...v1, fields });

function runGate(args: string[]): Promise<{ code: number; out: string }> {
  const gate = fileURLToPath(new URL('./compat-gate.ts', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', gate, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

test('compat-gate passes a compatible change and the registry accepts it', async () => {
  const subject = `gate-${randomUUID()}-value`;
  const codec = new AvroCodec(schemaRegistryUrl);
  const id1 = await codec.register(subject, v1);
  const v2 = withFields([...v1.fields, { name: 'note', type: ['null', 'string'], default: null }]);
  assert.equal((await checkSchema(schemaRegistryUrl, subject, v2)).status, 'compatible');
  const id2 = await codec.register(subject, v2);
  assert.notEqual(id2, id1);
  // An old record reads with the new reader schema (the added field takes its default).
  const old = codec.encode(subject, { id: 'a', legacy: 'l', spendMicros: 5 });
  const fresh = new AvroCodec(schemaRegistryUrl);
  await fresh.register(subject, v2);
  assert.deepEqual({ ...(await fresh.decode<object>(old, subject)) }, { id: 'a', legacy: 'l', spendMicros: 5, note: null });
});

test('compat-gate fails and the registry rejects a new field without a default and a removed field without a default', async () => {
  const subject = `gate-${randomUUID()}-value`;
  const codec = new AvroCodec(schemaRegistryUrl);
  await codec.register(subject, v1);
  const added = withFields([...v1.fields, { name: 'required', type: 'string' }]);
  const removed = withFields(v1.fields.filter((f) => f.name !== 'legacy'));
  for (const breaking of [added, removed]) {
    assert.equal((await checkSchema(schemaRegistryUrl, subject, breaking)).status, 'incompatible');
    await assert.rejects(codec.register(subject, breaking), (e: unknown) => isPipelineError(e, 'SCHEMA_INCOMPATIBLE'));
  }
  const dir = mkdtempSync(join(tmpdir(), 'gate-'));
  writeFileSync(join(dir, 'bad.avsc'), JSON.stringify(added));
  writeFileSync(join(dir, 'good.avsc'), JSON.stringify(v1));
  const bad = await runGate([`${subject}=${join(dir, 'bad.avsc')}`]);
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /FAIL/);
  const good = await runGate([`${subject}=${join(dir, 'good.avsc')}`]);
  assert.equal(good.code, 0, good.out);
});

test('compat-gate checks every pipeline schema in the repository against the registry', async () => {
  const r = await runGate([]);
  assert.equal(r.code, 0, r.out);
  for (const topic of Object.keys(TOPIC_SCHEMAS)) assert.match(r.out, new RegExp(subjectFor(topic)));
  assert.ok(loadSchema(TOPIC_SCHEMAS['bid-requests']));
});

test('compat-gate exits 2 with a clear line when the registry is unreachable', async () => {
  const r = await runGate(['--registry', 'http://127.0.0.1:1/apis/ccompat/v7']);
  assert.equal(r.code, 2);
  assert.match(r.out, /cannot ask the registry/);
});

test('compat-gate checks a schema against every released version, on a fresh subject', async () => {
  const v2 = withFields([...v1.fields, { name: 'note', type: ['null', 'string'], default: null }]);
  assert.equal((await checkAgainstHistory(schemaRegistryUrl, 'gate-test', [v1, v2], v2)).status, 'compatible');
  const breaking = withFields([...v1.fields, { name: 'required', type: 'string' }]);
  assert.equal((await checkAgainstHistory(schemaRegistryUrl, 'gate-test', [v1, v2], breaking)).status, 'incompatible');
  // Transitive: dropping v2's field without a default breaks readers of v2 even though v1 never had it.
  const dropsNote = withFields([...v1.fields, { name: 'note2', type: ['null', 'string'], default: null }]);
  assert.equal((await checkAgainstHistory(schemaRegistryUrl, 'gate-test', [v1, v2], dropsNote)).status, 'compatible', 'fields with defaults may come and go');
});
