/**
 * Redis authentication and TLS against real throw-away redis-servers (not the stack's): a server with
 * requirepass is reached with the password from REDIS_PASSWORD_FILE and refused, at once and saying so,
 * without it or with a wrong one; a TLS-only server is reached over rediss:// with REDIS_TLS_CA_FILE.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redisSpecs } from '../../schemas/config.js';
import { createLogger } from './logger.js';
import { isPipelineError } from '../../schemas/errors.js';
import { connectRedis } from './redis.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../testing/throwaway-redis.js';

const dir = mkdtempSync(join(tmpdir(), 'redis-auth-'));
const servers: ThrowawayRedis[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});
const log = createLogger('test', 'silent');

test('Redis with requirepass: the password from REDIS_PASSWORD_FILE gets in; none or a wrong one is refused with a clear error', async () => {
  const password = `pw-${process.pid}-${Date.now()}`;
  const server = await startThrowawayRedis(undefined, undefined, { password });
  servers.push(server);
  const passwordFile = join(dir, 'redis-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });

  const redis = await connectRedis(loadConfig(redisSpecs, { REDIS_URL: server.url, REDIS_PASSWORD_FILE: passwordFile }), log);
  try {
    assert.equal(await redis.set('k', 'v'), 'OK');
    assert.equal(await redis.get('k'), 'v');
  } finally {
    redis.disconnect();
  }

  for (const [env, what] of [[{ REDIS_URL: server.url }, 'no password'], [{ REDIS_URL: server.url, REDIS_PASSWORD: 'wrong' }, 'a wrong password']] as const) {
    const started = Date.now();
    await assert.rejects(connectRedis(loadConfig(redisSpecs, env), log, 30_000), (err: unknown) => {
      assert.ok(isPipelineError(err, 'CONFIG_INVALID'), `${what}: ${String(err)}`);
      assert.match(err.message, /refused the connection's credentials .*(NOAUTH|WRONGPASS).*: set REDIS_PASSWORD/, what);
      assert.doesNotMatch(err.message, /wrong/, 'the password is not echoed');
      return true;
    });
    assert.ok(Date.now() - started < 20_000, `${what}: refused at once, not after the ready timeout`);
  }
});

test('Redis over TLS: rediss:// with REDIS_TLS_CA_FILE is reached; without the CA the self-signed certificate is refused, saying so', async () => {
  const cert = join(dir, 'redis.pem');
  const key = join(dir, 'redis.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const server = await startThrowawayRedis(undefined, undefined, { tls: { certFile: cert, keyFile: key, caFile: cert } });
  servers.push(server);
  assert.match(server.url, /^rediss:\/\//);
  const redis = await connectRedis(loadConfig(redisSpecs, { REDIS_URL: server.url, REDIS_TLS_CA_FILE: cert }), log);
  try {
    assert.equal(await redis.ping(), 'PONG');
  } finally {
    redis.disconnect();
  }
  await assert.rejects(connectRedis(loadConfig(redisSpecs, { REDIS_URL: server.url }), log, 30_000), /presented a TLS certificate this client does not trust \(DEPTH_ZERO_SELF_SIGNED_CERT.*set REDIS_TLS_CA_FILE/);
});
