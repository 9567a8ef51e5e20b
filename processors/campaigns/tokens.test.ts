import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearerToken, generateToken, hashToken, operatorTokenProblem, sameHash, TOKEN_PATTERN } from './tokens.js';
import { resolveOperatorToken } from './operator-token.js';
import { isPipelineError } from '../../schemas/errors.js';
import { checkEmptyObject, checkTokenRequest } from './requests.js';

test('generateToken makes distinct rtbk_ tokens of 32 random bytes in base64url, hashed with SHA-256', () => {
  const a = generateToken();
  const b = generateToken();
  assert.match(a, TOKEN_PATTERN);
  assert.notEqual(a, b);
  assert.equal(Buffer.from(a.slice('rtbk_'.length), 'base64url').length, 32);
  assert.deepEqual(hashToken(a), createHash('sha256').update(a).digest());
  assert.ok(sameHash(hashToken(a), hashToken(a)));
  assert.ok(!sameHash(hashToken(a), hashToken(b)));
  assert.equal(operatorTokenProblem(a), null, 'a generated token is an acceptable operator token');
});

test('bearerToken reads "Bearer <token>" and tells a missing header from a malformed one', () => {
  assert.equal(bearerToken('Bearer rtbk_abc'), 'rtbk_abc');
  assert.equal(bearerToken('bearer   rtbk_abc  '), 'rtbk_abc', 'the scheme is case-insensitive');
  assert.equal(bearerToken(undefined), 'missing');
  assert.equal(bearerToken('Basic dXNlcjpwYXNz'), 'missing', 'another scheme carries no bearer token');
  for (const bad of ['Bearer', 'Bearer ', 'Bearer a b', `Bearer ${'x'.repeat(513)}`, 'Bearer tök']) assert.equal(bearerToken(bad), 'malformed', bad);
});

test('operatorTokenProblem refuses short, non-random and placeholder tokens without echoing them', () => {
  for (const bad of ['', 'secret', 'x'.repeat(40), 'abcabcabcabcabcabcabcabcabcabcabcabc', 'rtbk_changeme-changeme-changeme-changeme-123', 'my operator token with spaces 0123456789', 'example-token-0123456789abcdefghijklmnop']) {
    const problem = operatorTokenProblem(bad);
    assert.ok(problem !== null, `refused: ${bad}`);
    if (bad.length > 8) assert.ok(!problem.includes(bad), 'the value is not echoed');
  }
  assert.equal(operatorTokenProblem('b8Jx2Qm9TzL4rV7nK1wY5pC3hF6dA0sE'), null, '32 random characters are enough');
});

test('checkTokenRequest takes an operator or an advertiser scope, and checkEmptyObject only {}', () => {
  assert.deepEqual(checkTokenRequest({ scope: 'operator' }), { ok: true, value: { scope: 'operator', name: null } });
  assert.deepEqual(checkTokenRequest({ scope: 'advertiser', advertiserId: 'adv-1', name: 'reporting' }), { ok: true, value: { scope: 'advertiser', advertiserId: 'adv-1', name: 'reporting' } });
  const fields = (b: unknown): string[] => { const r = checkTokenRequest(b); return r.ok ? [] : r.errors.map((e) => e.field); };
  assert.deepEqual(fields({ scope: 'admin' }), ['scope']);
  assert.deepEqual(fields({ scope: 'advertiser' }), ['advertiserId']);
  assert.deepEqual(fields({ scope: 'operator', advertiserId: 'adv-1' }), ['advertiserId']);
  assert.deepEqual(fields({ scope: 'advertiser', advertiserId: 'a/b' }), ['advertiserId']);
  assert.deepEqual(fields({ scope: 'operator', expires: 1 }), ['expires']);
  assert.deepEqual(fields('operator'), ['']);
  assert.ok(checkEmptyObject({}).ok);
  for (const bad of [null, [], 'x', { status: 'paused' }]) assert.equal(checkEmptyObject(bad).ok, false);
});

test('resolveOperatorToken: refuses to start without a token unless RTB_DEV_MODE, and generates one (0600) only in dev mode', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'operator-token-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const refused = async (cfg: { operatorToken?: string; operatorTokenFile?: string; devMode?: boolean }, message: RegExp): Promise<void> => {
    await assert.rejects(resolveOperatorToken({ operatorToken: '', operatorTokenFile: '', devMode: false, ...cfg }, dir), (e: unknown) => isPipelineError(e, 'CONFIG_INVALID') && message.test(e.message));
  };
  await refused({}, /no operator token: set CAMPAIGNS_OPERATOR_TOKEN_FILE .*RTB_DEV_MODE=1/);
  await refused({ operatorToken: 'changeme' }, /CAMPAIGNS_OPERATOR_TOKEN is refused/);
  await refused({ operatorToken: 'rtbk_changeme-changeme-changeme-changeme-123' }, /placeholder or a known default/);
  await refused({ operatorTokenFile: 'missing-file' }, /does not exist/);
  await refused({ operatorToken: generateToken(), operatorTokenFile: 'f' }, /not both/);
  await refused({ operatorToken: 'changeme', devMode: true }, /refused/);
  await writeFile(join(dir, 'weak'), 'password\n');
  await refused({ operatorTokenFile: 'weak', devMode: true }, /in .*weak is refused/);

  const fromEnv = generateToken();
  assert.deepEqual(await resolveOperatorToken({ operatorToken: fromEnv, operatorTokenFile: '', devMode: false }, dir), { token: fromEnv, source: 'env' });
  const fromFile = generateToken();
  await writeFile(join(dir, 'good'), `${fromFile}\n`, { mode: 0o600 });
  assert.deepEqual(await resolveOperatorToken({ operatorToken: '', operatorTokenFile: 'good', devMode: false }, dir), { token: fromFile, source: 'file', path: join(dir, 'good') });
  await writeFile(join(dir, 'open'), `${fromFile}\n`, { mode: 0o644 });
  assert.match((await resolveOperatorToken({ operatorToken: '', operatorTokenFile: 'open', devMode: false }, dir)).warning ?? '', /readable by other users \(mode 644\)/);

  const dev = await resolveOperatorToken({ operatorToken: '', operatorTokenFile: '', devMode: true }, dir);
  assert.equal(dev.source, 'generated');
  assert.equal(dev.path, join(dir, '.stack', 'operator-token'));
  assert.match(dev.token, TOKEN_PATTERN);
  assert.equal((await readFile(dev.path!, 'utf8')).trim(), dev.token);
  assert.equal((await stat(dev.path!)).mode & 0o777, 0o600);
  const again = await resolveOperatorToken({ operatorToken: '', operatorTokenFile: '', devMode: true }, dir);
  assert.deepEqual([again.source, again.token], ['file', dev.token], 'a restart in dev mode keeps the token it generated');
  const configured = await resolveOperatorToken({ operatorToken: '', operatorTokenFile: 'elsewhere/token', devMode: true }, dir);
  assert.deepEqual([configured.source, configured.path], ['generated', join(dir, 'elsewhere', 'token')], 'dev mode generates into the configured file');
});
