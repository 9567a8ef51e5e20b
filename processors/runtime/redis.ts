/**
 * Redis client set-up: authentication and TLS for every client (`redisOptions`), and the connection of
 * processors whose batches must fail (and be retried) rather than queue while Redis is down (`connectRedis`).
 *
 * A `rediss://` REDIS_URL turns TLS on (certificate checked against the system store, or REDIS_TLS_CA_FILE);
 * the password is REDIS_PASSWORD (or REDIS_PASSWORD_FILE, config.ts secrets) or the one in the URL, not both.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { maskUrlCredentials } from './logger.js';
import { PipelineError } from '../../schemas/errors.js';

/** What config.ts `redisSpecs` yields: the URL, and optionally credentials and a CA file. */
export interface RedisConnectionConfig {
  readonly redisUrl: string;
  readonly redisPassword?: string;
  readonly redisUsername?: string;
  readonly redisTlsCaFile?: string;
}

/** ioredis options for the configured credentials and TLS; merge them into a client's own options. */
export function redisOptions(cfg: RedisConnectionConfig): Pick<RedisOptions, 'password' | 'username' | 'tls'> {
  let url: URL;
  try {
    url = new URL(cfg.redisUrl);
  } catch {
    throw new PipelineError('CONFIG_INVALID', `REDIS_URL (${maskUrlCredentials(cfg.redisUrl)}) is not a URL: redis://[:password@]host:port or rediss://...`);
  }
  const tls = url.protocol === 'rediss:';
  const password = cfg.redisPassword ?? '';
  const username = cfg.redisUsername ?? '';
  const caFile = cfg.redisTlsCaFile ?? '';
  if (password !== '' && url.password !== '') {
    throw new PipelineError('CONFIG_INVALID', 'REDIS_PASSWORD (or REDIS_PASSWORD_FILE) is set and REDIS_URL carries a password too: keep one');
  }
  if (username !== '' && password === '') throw new PipelineError('CONFIG_INVALID', 'REDIS_USERNAME needs REDIS_PASSWORD (or REDIS_PASSWORD_FILE)');
  if (caFile !== '' && !tls) throw new PipelineError('CONFIG_INVALID', 'REDIS_TLS_CA_FILE is set but REDIS_URL is not rediss://: use rediss:// for TLS');
  const out: Pick<RedisOptions, 'password' | 'username' | 'tls'> = {};
  if (password !== '') out.password = password;
  if (username !== '') out.username = username;
  if (tls) {
    let ca: Buffer | undefined;
    if (caFile !== '') {
      try {
        ca = readFileSync(caFile);
      } catch (err) {
        throw new PipelineError('CONFIG_INVALID', `REDIS_TLS_CA_FILE=${JSON.stringify(caFile)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    out.tls = ca ? { ca } : {};
  }
  return out;
}

/** A Redis client for `target` (a URL, or the configuration with credentials and TLS) with `options`. */
export function createRedis(target: string | RedisConnectionConfig, options: RedisOptions = {}): Redis {
  const cfg = typeof target === 'string' ? { redisUrl: target } : target;
  return new Redis(cfg.redisUrl, { ...options, ...redisOptions(cfg) });
}

/** Redis refusing the client's credentials (or their absence): retrying cannot help. */
const AUTH_FAILED = /NOAUTH|WRONGPASS|invalid password|invalid username-password|Authentication required/i;
/** Node's TLS errors for a server certificate this client does not trust (or that names another host). */
const CERT_REFUSED = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * Connects with no offline queue (commands fail fast while disconnected) and waits until ready. Refused
 * credentials (a password missing, or wrong) or an untrusted server certificate reject at once with an
 * error that says so: retrying cannot fix either.
 */
export async function connectRedis(target: string | RedisConnectionConfig, log: Logger, readyTimeoutMs = 10_000): Promise<Redis> {
  const url = typeof target === 'string' ? target : target.redisUrl;
  const redis = createRedis(target, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const onError = (err: Error): void => {
      if (done) return;
      const code = String((err as NodeJS.ErrnoException).code ?? '');
      let why: string;
      if (AUTH_FAILED.test(err.message)) why = `refused the connection's credentials (${err.message}): set REDIS_PASSWORD (or REDIS_PASSWORD_FILE, or the password in REDIS_URL) to the server's`;
      else if (CERT_REFUSED.test(code)) why = `presented a TLS certificate this client does not trust (${code}: ${err.message}): set REDIS_TLS_CA_FILE to the CA that signed it`;
      else return void log.warn({ err }, 'Redis connection error');
      done = true;
      redis.disconnect();
      reject(new PipelineError('CONFIG_INVALID', `Redis at ${maskUrlCredentials(url)} ${why}`, { cause: err }));
    };
    redis.on('error', onError);
    redis.once('ready', () => {
      done = true;
      redis.off('error', onError);
      resolve();
    });
    setTimeout(() => {
      if (done) return;
      done = true;
      redis.disconnect();
      reject(new Error(`Redis at ${maskUrlCredentials(url)} not ready within ${readyTimeoutMs / 1000} s: start it (npm run stack:up) or set REDIS_URL`));
    }, readyTimeoutMs).unref();
  });
  redis.on('error', (err) => log.warn({ err }, 'Redis connection error'));
  return redis;
}
