/**
 * User profiles from Redis (layout: processors/domain/profile-format.ts): one MGET per batch for its distinct users.
 *
 * The client is set up so that a Redis that is down or hung makes commands fail instead of queueing:
 * no offline queue (a command while disconnected rejects at once), no re-sending after a reconnect,
 * a connect timeout, and a command timeout as a backstop (the circuit breaker around `lookup` usually
 * gives up far sooner). ioredis reconnects on its own, with the backoff below.
 */
import type { Redis } from 'ioredis';
import { createRedis, type RedisConnectionConfig } from '../runtime/redis.js';
import type { Logger } from '../runtime/logger.js';
import type { UserProfileRecord } from '../../schemas/bid-request.js';
import { decodeProfile } from '../domain/profile-format.js';
import { profileKey } from '../domain/redis-keys.js';

/** What the enrich processor needs from a profile source (a fake in unit tests). */
export interface ProfileLookup {
  /**
   * The profile of each distinct user in `userIds`, null when the user has none (or a malformed one).
   * Rejects when the source cannot answer.
   */
  lookup(userIds: readonly string[]): Promise<Map<string, UserProfileRecord | null>>;
}

export interface ProfileStoreOptions {
  /** Longest TCP connect, ms. Default 1000. */
  connectTimeoutMs?: number;
  /** Backstop for a command that never gets an answer (hung Redis), ms. Default 1000. */
  commandTimeoutMs?: number;
  /** Connection trouble is logged once per outage, not per reconnect attempt. */
  log?: Logger;
}

export class ProfileStore implements ProfileLookup {
  readonly redis: Redis;
  private down = false;

  /** `target`: a URL, or the configuration with credentials and TLS (runtime/redis.ts). */
  constructor(target: string | RedisConnectionConfig, opts: ProfileStoreOptions = {}) {
    this.redis = createRedis(target, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: opts.connectTimeoutMs ?? 1000,
      commandTimeout: opts.commandTimeoutMs ?? 1000,
      // Reconnect quickly but without hammering: 100 ms, 200 ms, ... capped at 1 s.
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    // Without an 'error' listener ioredis prints every failed reconnect attempt to the console.
    this.redis.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      opts.log?.warn({ err }, 'redis unavailable: requests pass on un-enriched until it is back');
    });
    this.redis.on('ready', () => {
      if (!this.down) return;
      this.down = false;
      opts.log?.info('redis available again');
    });
  }

  /** Starts connecting in the background; lookups fail fast until the connection is ready. */
  connect(): void {
    this.redis.connect().catch(() => undefined); // reported through the 'error' listener; ioredis retries
  }

  async lookup(userIds: readonly string[]): Promise<Map<string, UserProfileRecord | null>> {
    const ids = [...new Set(userIds)];
    const out = new Map<string, UserProfileRecord | null>();
    if (ids.length === 0) return out;
    const raw = await this.redis.mget(ids.map(profileKey));
    ids.forEach((id, i) => out.set(id, decodeProfile(raw[i] ?? null)));
    return out;
  }

  async close(): Promise<void> {
    // quit() waits for an answer a hung Redis never gives; disconnect() just closes the socket.
    this.redis.disconnect();
  }
}
