/**
 * The Redis side of the auction: reserves a winner's spend and frequency count with the authorize
 * script (EVALSHA, loaded once), which also records the reservation as pending until a win notice
 * settles it or the settle service releases it (processors/settle).
 */
import type { Redis } from 'ioredis';
import { PipelineError } from '../../schemas/errors.js';
import { AUTHORIZE_SCRIPT, authorizeCall, parseAuthorizeReply } from './authorize-script.js';
import { PENDING_CAMPAIGNS_KEY } from '../domain/redis-keys.js';
import type { Reserve } from './auction-processor.js';

/** Daily keys outlive the campaign's local midnight by this much, so a late settlement still finds them. */
const DAY_KEY_GRACE_MS = 6 * 3_600_000;

export interface ReserveOptions {
  /** The releaser's index of campaigns with pending reservations (tests use their own). */
  readonly pendingIndexKey?: string;
  readonly now?: () => number;
}

export function redisReserve(redis: Redis, opts: ReserveOptions = {}): Reserve {
  const indexKey = opts.pendingIndexKey ?? PENDING_CAMPAIGNS_KEY;
  const now = opts.now ?? Date.now;
  redis.defineCommand('rtbAuthorize', { lua: AUTHORIZE_SCRIPT });
  const call = (redis as unknown as { rtbAuthorize(n: number, ...a: string[]): Promise<unknown> }).rtbAuthorize.bind(redis);
  return async (bid, requestId, userId, costMicros) => {
    const { keys, args } = authorizeCall({
      campaignId: bid.campaignId, requestId, impId: bid.impId, dayKey: bid.dayKey, userId,
      costMicros, dailyBudgetMicros: bid.dailyBudgetMicros, lifetimeBudgetMicros: bid.lifetimeBudgetMicros,
      frequencyCap: bid.frequencyCap, expireAtMs: bid.dayEndsAtMs + DAY_KEY_GRACE_MS, reservedAtMs: now(),
    });
    try {
      const status = parseAuthorizeReply(await call(keys.length, ...keys, ...args));
      // Only after the script has added the pending member: the releaser drops a campaign from the index
      // only when its pending set is empty, and re-checks afterwards, so this order never strands a reservation.
      if (status === 'ok') await redis.sadd(indexKey, bid.campaignId);
      return status;
    } catch (err) {
      if (err instanceof PipelineError) throw err;
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `budget reservation in Redis failed: ${(err as Error).message}`, { cause: err });
    }
  };
}
