/** Redis client set-up for processors whose batches must fail (and be retried) rather than queue while Redis is down. */
import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** Connects with no offline queue (commands fail fast while disconnected) and waits until ready. */
export async function connectRedis(url: string, log: Logger, readyTimeoutMs = 10_000): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  redis.on('error', (err) => log.warn({ err }, 'Redis connection error'));
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    setTimeout(() => reject(new Error(`Redis at ${url} not ready within ${readyTimeoutMs / 1000} s: start it (npm run stack:up) or set REDIS_URL`)), readyTimeoutMs).unref();
  });
  return redis;
}
