/**
 * Authentication and authorization of the campaign API, as a real process on the local stack: bearer
 * tokens (operator and per-advertiser scopes, stored hashed, revocable), 401/403/404 answers, JSON-only
 * state changes (no cross-site form posts), and the start-up rules for the bootstrap operator token.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '../../schemas/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKafka } from '../runtime/kafka.js';
import { spawnService, type ServiceProcess } from '../testing/spawn-service.js';
import { makeCampaign, makeCreative } from '../testing/campaign.fixture.js';
import { purgeAdvertisers } from './campaign-cleanup.js';
import { bearer, operatorTokenFile, type OperatorTokenFile } from './auth-fixture.js';
import { campaignsSpecs } from './config.js';
import { TOKEN_PATTERN, generateToken } from './tokens.js';
import { waitFor } from '../testing/wait.js';

const cfg = loadConfig(campaignsSpecs);
const sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined });
const run = randomUUID().slice(0, 8);
const advA = `adv-auth-a-${run}`;
const advB = `adv-auth-b-${run}`;
let svc: ServiceProcess;
let operator: OperatorTokenFile;
/** Operator-scope tokens this file creates (advertiser ones go with their advertiser). */
const operatorTokenIds: string[] = [];
let campaignA: { id: string };
let campaignB: { id: string; version: number };
let tokenA: string;

type Reply = { status: number; body: any; headers: Headers };

async function call(method: string, path: string, body: unknown, token: string | null): Promise<Reply> {
  const headers: Record<string, string> = token === null ? {} : bearer(token);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${svc.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}
const asOperator = (method: string, path: string, body?: unknown): Promise<Reply> => call(method, path, body, operator.token);
const asA = (method: string, path: string, body?: unknown): Promise<Reply> => call(method, path, body, tokenA);

function campaignBody(advertiserId: string | undefined, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { id: _id, updatedAtMs: _u, advertiserId: _a, ...rest } = makeCampaign({ creatives: [makeCreative({ id: `cr-${randomUUID()}` })] });
  return { ...rest, ...(advertiserId === undefined ? {} : { advertiserId }), ...overrides };
}

before(async () => {
  operator = await operatorTokenFile();
  svc = await spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', { CAMPAIGNS_HOST: '127.0.0.1', ...operator.env });
  for (const id of [advA, advB]) assert.equal((await asOperator('POST', '/advertisers', { id, name: id })).status, 201);
  const a = await asOperator('POST', '/campaigns', campaignBody(advA));
  const b = await asOperator('POST', '/campaigns', campaignBody(advB));
  assert.deepEqual([a.status, b.status], [201, 201], JSON.stringify([a.body, b.body]));
  [campaignA, campaignB] = [a.body, b.body];
  const t = await asOperator('POST', '/tokens', { scope: 'advertiser', advertiserId: advA, name: 'auth test' });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  tokenA = t.body.token;
});

after(async () => {
  await svc.stop();
  const producer = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'auth-test-cleanup', log: createLogger('auth-test', 'error') }).producer();
  await producer.connect();
  await purgeAdvertisers(sql, producer, [advA, advB]);
  await producer.disconnect();
  await sql`delete from api_tokens where id = any(${operatorTokenIds})`;
  await sql.end();
  await operator.remove();
});

test('auth: no token or a bad one is 401 with a JSON body and WWW-Authenticate: Bearer, on every guarded route', async () => {
  for (const [method, path, body] of [
    ['GET', '/campaigns', undefined], ['POST', '/campaigns', campaignBody(advA)], ['GET', `/campaigns/${campaignA.id}`, undefined],
    ['POST', `/campaigns/${campaignA.id}/pause`, {}], ['GET', '/advertisers', undefined], ['POST', '/advertisers', { name: 'x' }],
    ['GET', '/tokens', undefined], ['POST', '/tokens', { scope: 'operator' }], ['DELETE', '/tokens/tok-x', {}], ['GET', '/no-such-route', undefined],
  ] as const) {
    const none = await call(method, path, body, null);
    assert.equal(none.status, 401, `${method} ${path} without a token`);
    assert.equal(none.body.error, 'unauthorized');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.match(none.headers.get('content-type') ?? '', /application\/json/);
    const wrong = await call(method, path, body, generateToken());
    assert.equal(wrong.status, 401, `${method} ${path} with an unknown token`);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
  }
  const basic = await fetch(`${svc.url}/campaigns`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
  assert.equal(basic.status, 401);
  const almost = await call('GET', '/campaigns', undefined, `${operator.token}x`);
  assert.equal(almost.status, 401, 'a token that only starts like the operator token is refused');
  for (const open of ['/health', '/ready', '/metrics']) assert.equal((await fetch(`${svc.url}${open}`)).status, 200, `${open} needs no token`);
});

test('auth: an operator creates tokens, sees the secret once, lists them without it, and Postgres holds only its SHA-256', async () => {
  const created = await asOperator('POST', '/tokens', { scope: 'operator', name: 'ci' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  operatorTokenIds.push(created.body.id);
  assert.match(created.body.token, TOKEN_PATTERN);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  assert.deepEqual([created.body.scope, created.body.advertiserId, created.body.name, created.body.revokedAtMs], ['operator', null, 'ci', null]);
  assert.equal((await call('GET', '/advertisers', undefined, created.body.token)).status, 200, 'the new operator token works');

  const listed = await asOperator('GET', '/tokens');
  assert.equal(listed.status, 200);
  const entry = listed.body.tokens.find((t: { id: string }) => t.id === created.body.id);
  assert.ok(entry, 'listed');
  assert.ok(!('token' in entry), 'no secret in the list');
  assert.ok(!JSON.stringify(listed.body).includes(created.body.token));
  assert.ok(listed.body.tokens.some((t: { advertiserId: string | null }) => t.advertiserId === advA));

  const [row] = await sql<{ token_hash: Buffer; everything: string }[]>`select token_hash, row_to_json(t)::text as everything from api_tokens t where id = ${created.body.id}`;
  assert.deepEqual(row?.token_hash, createHash('sha256').update(created.body.token).digest(), 'stored as SHA-256');
  assert.ok(!row?.everything.includes(created.body.token.slice(5)), 'the plaintext is stored nowhere');

  const bad = await asOperator('POST', '/tokens', { scope: 'advertiser' });
  assert.deepEqual([bad.status, bad.body.error, bad.body.errors[0].field], [400, 'invalid_token_request', 'advertiserId']);
  const unknownAdv = await asOperator('POST', '/tokens', { scope: 'advertiser', advertiserId: `adv-missing-${run}` });
  assert.deepEqual([unknownAdv.status, unknownAdv.body.error], [404, 'advertiser_not_found']);
});

test('auth: an advertiser token lists, reads and changes only its own campaigns; others are 404, operator actions 403', async () => {
  const listed = await asA('GET', '/campaigns');
  assert.equal(listed.status, 200);
  assert.ok(listed.body.campaigns.length >= 1);
  assert.ok(listed.body.campaigns.every((c: { advertiserId: string }) => c.advertiserId === advA), 'only its own');
  assert.deepEqual((await asA('GET', `/campaigns?advertiserId=${advB}`)).body.campaigns, [], "asking for another's lists nothing");
  assert.deepEqual((await asA('GET', '/advertisers')).body.advertisers.map((a: { id: string }) => a.id), [advA]);
  assert.equal((await asA('GET', `/campaigns/${campaignA.id}`)).status, 200);

  // Another advertiser's campaign does not exist, as far as this token can tell.
  for (const [method, path, body] of [
    ['GET', `/campaigns/${campaignB.id}`, undefined], ['PUT', `/campaigns/${campaignB.id}`, campaignBody(advA)], ['PUT', `/campaigns/${campaignB.id}`, campaignBody(advB)],
    ['POST', `/campaigns/${campaignB.id}/pause`, {}], ['POST', `/campaigns/${campaignB.id}/resume`, {}],
    ['POST', `/campaigns/${campaignB.id}/creatives`, makeCreative({ id: `cr-${randomUUID()}` })],
  ] as const) {
    const r = await asA(method, path, body);
    assert.deepEqual([r.status, r.body.error], [404, 'campaign_not_found'], `${method} ${path}`);
  }
  const b = (await asOperator('GET', `/campaigns/${campaignB.id}`)).body;
  assert.deepEqual([b.version, b.status, b.advertiserId], [campaignB.version, 'active', advB], "the other advertiser's campaign is unchanged");

  for (const [method, path, body] of [
    ['POST', '/advertisers', { name: 'Mine now' }], ['GET', '/tokens', undefined], ['POST', '/tokens', { scope: 'operator' }],
    ['POST', '/tokens', { scope: 'advertiser', advertiserId: advA }], ['DELETE', '/tokens/tok-anything', {}],
    ['POST', '/campaigns', campaignBody(advB)], ['POST', '/campaigns', campaignBody(`adv-missing-${run}`)],
    ['PUT', `/campaigns/${campaignA.id}`, campaignBody(advB)],
  ] as const) {
    const r = await asA(method, path, body);
    assert.deepEqual([r.status, r.body.error], [403, 'forbidden'], `${method} ${path} ${JSON.stringify(r.body)}`);
  }

  const own = await asA('POST', '/campaigns', campaignBody(undefined, { name: 'Own, advertiser implied' }));
  assert.equal(own.status, 201, JSON.stringify(own.body));
  assert.equal(own.body.advertiserId, advA, 'the advertiser comes from the token');
  assert.deepEqual([(await asA('POST', `/campaigns/${own.body.id}/pause`, {})).body.status, (await asA('POST', `/campaigns/${own.body.id}/resume`, {})).body.status], ['paused', 'active']);
  const put = await asA('PUT', `/campaigns/${own.body.id}`, campaignBody(advA, { bidCpmMicros: 3_000_000, creatives: own.body.creatives }));
  assert.deepEqual([put.status, put.body.bidCpmMicros], [200, 3_000_000]);
  assert.equal((await asA('POST', `/campaigns/${own.body.id}/creatives`, makeCreative({ id: `cr-${randomUUID()}` }))).status, 201);
});

test('auth: a revoked token is refused at once; revoking is idempotent; last use is recorded', async () => {
  const t = await asOperator('POST', '/tokens', { scope: 'advertiser', advertiserId: advA });
  assert.equal((await call('GET', '/campaigns', undefined, t.body.token)).status, 200);
  // The last use is written after the request is answered (authenticating is a read; the write is not
  // awaited), so the test waits for it instead of assuming it landed first (it had not, once, in CI).
  const used: { lastUsedAtMs: number | null } = await waitFor(async () => (await asOperator('GET', '/tokens')).body.tokens.find((x: { id: string }) => x.id === t.body.id), {
    until: (u: { lastUsedAtMs: number | null }) => u.lastUsedAtMs !== null, atDeadline: 'last', what: "the token's last use", timeoutMs: 15_000, intervalMs: 100,
  });
  assert.ok(used.lastUsedAtMs !== null && Math.abs(used.lastUsedAtMs - Date.now()) < 60_000, `last use recorded: ${JSON.stringify(used)}`);
  const revoked = await asOperator('DELETE', `/tokens/${t.body.id}`, {});
  assert.equal(revoked.status, 200);
  assert.ok(revoked.body.revokedAtMs > 0);
  const refused = await call('GET', '/campaigns', undefined, t.body.token);
  assert.deepEqual([refused.status, refused.body.error], [401, 'unauthorized']);
  const again = await asOperator('DELETE', `/tokens/${t.body.id}`, {});
  assert.deepEqual([again.status, again.body.revokedAtMs], [200, revoked.body.revokedAtMs], 'the first revocation time stays');
  assert.equal((await asOperator('DELETE', `/tokens/tok-${randomUUID()}`, {})).status, 404);
  assert.equal((await asA('GET', '/campaigns')).status, 200, 'other tokens are unaffected');
});

test('auth: state changes need a JSON body: a cross-site form post is 415 (401 without a token) and changes nothing', async () => {
  const path = `/campaigns/${campaignA.id}/pause`;
  const forms: Array<[string, Record<string, string>, string | undefined]> = [
    ['no body, no content type', {}, undefined],
    ['urlencoded form', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1'],
    ['text/plain form', { 'content-type': 'text/plain' }, '{}'],
    ['multipart form', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
  ];
  for (const [what, headers, body] of forms) {
    const res = await fetch(`${svc.url}${path}`, { method: 'POST', headers: { ...bearer(operator.token), ...headers }, body });
    assert.equal(res.status, 415, what);
    assert.equal(((await res.json()) as { error: string }).error, 'unsupported_media_type');
    const anonymous = await fetch(`${svc.url}${path}`, { method: 'POST', headers, body });
    assert.equal(anonymous.status, 401, `${what} without a token`);
  }
  const revoke = await fetch(`${svc.url}/tokens/tok-x`, { method: 'DELETE', headers: bearer(operator.token) });
  assert.equal(revoke.status, 415, 'DELETE needs {} too');
  const notEmpty = await asOperator('POST', path, { status: 'paused' });
  assert.deepEqual([notEmpty.status, notEmpty.body.errors[0].field], [400, 'status']);
  assert.equal((await asOperator('GET', `/campaigns/${campaignA.id}`)).body.status, 'active', 'nothing was paused');
});

test('auth: the service refuses to start without an operator token or with a known default, unless RTB_DEV_MODE=1 (then it writes one, 0600)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'campaigns-dev-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const none = { CAMPAIGNS_HOST: '127.0.0.1', CAMPAIGNS_OPERATOR_TOKEN: '', CAMPAIGNS_OPERATOR_TOKEN_FILE: '', RTB_DEV_MODE: '0' };
  await assert.rejects(spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', none), /exited with code 1[\s\S]*no operator token: set CAMPAIGNS_OPERATOR_TOKEN_FILE/);
  await assert.rejects(spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', { ...none, CAMPAIGNS_OPERATOR_TOKEN: 'changeme' }), /exited with code 1[\s\S]*CAMPAIGNS_OPERATOR_TOKEN is refused/);

  const path = join(dir, 'state', 'operator-token');
  const dev = await spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', { ...none, RTB_DEV_MODE: '1', CAMPAIGNS_OPERATOR_TOKEN_FILE: path }, 60_000);
  t.after(() => dev.stop());
  const token = (await readFile(path, 'utf8')).trim();
  assert.match(token, TOKEN_PATTERN);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.match(dev.output(), new RegExp(`generated an operator token and wrote it to ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  assert.ok(!dev.output().includes(token), 'the token itself is never logged');
  const res = await fetch(`${dev.url}/advertisers`, { headers: bearer(token) });
  assert.equal(res.status, 200);
  assert.equal((await fetch(`${dev.url}/advertisers`)).status, 401, 'dev mode still requires the token');
});
