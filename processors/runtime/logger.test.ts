import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, maskUrlCredentials } from './logger.js';
import { PipelineError } from '../../schemas/errors.js';

/** A logger whose lines are collected, synchronously. */
function capture(): { log: ReturnType<typeof createLogger>; text: () => string } {
  const lines: string[] = [];
  const log = createLogger('test', 'info', { write: (s: string) => void lines.push(s) });
  return { log, text: () => lines.join('') };
}

const SECRETS = ['hunter2-pw', 'tok-abc123', 'key-xyz789', 'shh-secret-1', 'Bearer eyJsecret', 'redis-pass-42', 'pg-pass-99', 'cookie-val', 'hmac-key-0987'];

test('logger redacts secret fields, headers and URL passwords from fields, messages and errors', () => {
  const { log, text } = capture();
  log.info({
    password: 'hunter2-pw', token: 'tok-abc123', apiKey: 'key-xyz789', secret: 'shh-secret-1', trackingSecret: 'hmac-key-0987',
    headers: { authorization: 'Bearer eyJsecret', 'x-api-key': 'key-xyz789', cookie: 'cookie-val' },
    req: { headers: { authorization: 'Bearer eyJsecret' } },
    cfg: { redisUrl: 'redis://:redis-pass-42@cache.internal:6379', postgresUrl: 'postgres://rtb:pg-pass-99@db.internal:5432/rtb', password: 'hunter2-pw' },
    urls: ['rediss://default:redis-pass-42@cache.internal:6380'],
  }, 'connecting to redis://:redis-pass-42@cache.internal:6379');
  log.error({ err: new PipelineError('DEPENDENCY_UNAVAILABLE', 'Redis at redis://:redis-pass-42@cache.internal:6379 not ready', { cause: new Error('postgres://u:pg-pass-99@db failed') }) }, 'failed');
  log.warn('%s is down', 'redis://user:redis-pass-42@cache.internal');
  const out = text();
  for (const s of SECRETS) assert.ok(!out.includes(s), `${s} leaked: ${out}`);
  // What is left is still useful: which fields, which hosts, which user.
  const [first, second, third] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  assert.equal(first!.password, '[redacted]');
  assert.equal(first!.headers.authorization, '[redacted]');
  assert.equal(first!.req.headers.authorization, '[redacted]');
  assert.equal(first!.cfg.password, '[redacted]');
  assert.equal(first!.cfg.redisUrl, 'redis://:***@cache.internal:6379');
  assert.equal(first!.cfg.postgresUrl, 'postgres://rtb:***@db.internal:5432/rtb');
  assert.equal(first!.msg, 'connecting to redis://:***@cache.internal:6379');
  assert.match(second!.err.message, /^Redis at redis:\/\/:\*\*\*@cache\.internal:6379 not ready: postgres:\/\/u:\*\*\*@db failed$/, 'with its cause');
  assert.equal(second!.err.code, 'DEPENDENCY_UNAVAILABLE');
  assert.match(second!.err.stack, /redis:\/\/:\*\*\*@cache/);
  assert.equal(third!.msg, 'redis://user:***@cache.internal is down');
});

test('logger masks only the password of a URL with credentials', () => {
  assert.equal(maskUrlCredentials('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  assert.equal(maskUrlCredentials('http://registry:8081/apis/ccompat/v7'), 'http://registry:8081/apis/ccompat/v7');
  assert.equal(maskUrlCredentials('redis://:pw@h:1 and postgres://a:b@c/d'), 'redis://:***@h:1 and postgres://a:***@c/d');
  assert.equal(maskUrlCredentials('no url here: a:b@c'), 'no url here: a:b@c');
});
