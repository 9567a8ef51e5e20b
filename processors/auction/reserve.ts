/** The Redis side of the auction: reserves a winner's spend and frequency count with the authorize script (EVALSHA, loaded once). */
import type { Redis } from 'ioredis';
import { PipelineError } from '../runtime/errors.js';
import { AUTHORIZE_SCRIPT, authorizeCall, parseAuthorizeReply } from './authorize-script.js';
import type { Reserve } from './auction-processor.js';

/** Daily keys outlive the campaign's local midnight by this much, so a late settlement still finds them. */
const DAY_KEY_GRACE_MS = 6 * 3_600_000;

export function redisReserve(redis: Redis): Reserve {
  redis.defineCommand('rtbAuthorize', { lua: AUTHORIZE_SCRIPT });
  const call = (redis as unknown as { rtbAuthorize(n: number, ...a: string[]): Promise<unknown> }).rtbAuthorize.bind(redis);
  return async (bid, requestId, userId, costMicros) => {
    const { keys, args } = authorizeCall({
      campaignId: bid.campaignId, requestId, impId: bid.impId, dayKey: bid.dayKey, userId,
      costMicros, dailyBudgetMicros: bid.dailyBudgetMicros, lifetimeBudgetMicros: bid.lifetimeBudgetMicros,
      frequencyCap: bid.frequencyCap, expireAtMs: bid.dayEndsAtMs + DAY_KEY_GRACE_MS,
    });
    let reply: unknown;
    try {
      reply = await call(keys.length, ...keys, ...args);
    } catch (err) {
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `budget reservation in Redis failed: ${(err as Error).message}`, { cause: err });
    }
    return parseAuthorizeReply(reply);
  };
}
