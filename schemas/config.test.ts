import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, commonSpecs } from './config.js';
import { isPipelineError } from './errors.js';

const specs = {
  port: { env: 'PORT', type: 'int', min: 1, max: 65535, default: 8080, doc: 'a port' },
  on: { env: 'ON', type: 'bool', default: false, doc: 'a switch' },
  mode: { env: 'MODE', type: 'enum', values: ['a', 'b'] as const, default: 'a', doc: 'a mode' },
  hosts: { env: 'HOSTS', type: 'list', default: ['x'], doc: 'hosts' },
  need: { env: 'NEED', type: 'string', doc: 'required thing' },
} as const;

test('config applies defaults and parses each type', () => {
  const c = loadConfig(specs, { NEED: 'n', ON: 'yes', HOSTS: 'a, b,,c' });
  assert.deepEqual({ ...c }, { port: 8080, on: true, mode: 'a', hosts: ['a', 'b', 'c'], need: 'n' });
  assert.ok(Object.isFrozen(c));
});

test('config fails naming the variable for each invalid value', () => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ NEED: 'n', PORT: 'eighty' }, /^PORT="eighty" is invalid: must be an integer/],
    [{ NEED: 'n', PORT: '70000' }, /^PORT="70000" is invalid: must be <= 65535/],
    [{ NEED: 'n', ON: 'maybe' }, /^ON="maybe" is invalid: must be true or false/],
    [{ NEED: 'n', MODE: 'c' }, /^MODE="c" is invalid: must be one of a, b/],
    [{}, /^NEED is required/],
  ];
  for (const [env, message] of bad) {
    assert.throws(() => loadConfig(specs, env), (e: unknown) => isPipelineError(e, 'CONFIG_INVALID') && message.test(e.message), String(message));
  }
});

test('config defaults match the local stack', () => {
  const c = loadConfig(commonSpecs, {});
  assert.equal(c.kafkaBrokers, '127.0.0.1:9092');
  assert.equal(c.schemaRegistryUrl, 'http://127.0.0.1:8081/apis/ccompat/v7');
  assert.equal(c.topicPartitions, 12);
});

test('config reads a secret from <VAR>_FILE (trimmed), never both, never echoing the value', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'config-secret-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const secretSpecs = {
    key: { env: 'KEY', type: 'string', pattern: /^\S{16,}$/, default: '', secret: true, doc: 'a key' },
    url: { env: 'DB_URL', type: 'string', pattern: /^postgres:\/\/\S+$/, default: 'postgres://a:b@h/d', secret: true, doc: 'a URL' },
    plain: { env: 'PLAIN', type: 'string', default: 'p', doc: 'not a secret' },
  } as const;
  const file = join(dir, 'key');
  await writeFile(file, '  s3cr3t-value-0123456789\n');
  assert.equal(loadConfig(secretSpecs, { KEY_FILE: file }).key, 's3cr3t-value-0123456789');
  assert.equal(loadConfig(secretSpecs, { KEY: 's3cr3t-value-0123456789' }).key, 's3cr3t-value-0123456789');
  assert.equal(loadConfig(secretSpecs, { PLAIN_FILE: file }).plain, 'p', 'only secrets read a _FILE');
  const invalid = (env: Record<string, string>, re: RegExp, hidden: string): void => {
    assert.throws(() => loadConfig(secretSpecs, env), (e: unknown) => isPipelineError(e, 'CONFIG_INVALID') && re.test(e.message) && !e.message.includes(hidden), String(re));
  };
  invalid({ KEY: 'x', KEY_FILE: file }, /^set KEY or KEY_FILE, not both/, 's3cr3t');
  invalid({ KEY_FILE: join(dir, 'missing') }, /^KEY_FILE=".*missing" cannot be read \(ENOENT\)/, 's3cr3t');
  await writeFile(join(dir, 'empty'), '\n');
  invalid({ KEY_FILE: join(dir, 'empty') }, /^KEY_FILE=".*empty" is empty/, 's3cr3t');
  invalid({ KEY: 'short-s3cr3t' }, /^KEY \(value hidden\) is invalid: must match/, 'short-s3cr3t');
  invalid({ DB_URL: 'mysql://u:pa55word@h/d' }, /^DB_URL \(value hidden\) is invalid/, 'pa55word');
  await writeFile(join(dir, 'short'), 'short-s3cr3t');
  invalid({ KEY_FILE: join(dir, 'short') }, /^KEY_FILE .*short \(value hidden\) is invalid: must match/, 'short-s3cr3t');
  // A spec set that declares <VAR>_FILE itself reads that file on its own (the campaign API's operator token).
  const own = { token: { ...secretSpecs.key, env: 'TOK' }, tokenFile: { env: 'TOK_FILE', type: 'string', default: '', doc: 'its file' } } as const;
  assert.deepEqual({ ...loadConfig(own, { TOK_FILE: join(dir, 'missing') }) }, { token: '', tokenFile: join(dir, 'missing') });
});
