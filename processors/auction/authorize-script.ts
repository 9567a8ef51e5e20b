/**
 * The Redis Lua script that reserves an auction winner's spend atomically, so concurrent auctions on
 * any number of bidder instances can never push a campaign past its daily or lifetime budget or a user
 * past the frequency cap: the check and the increments run as one Redis operation.
 *
 * Contract (EVAL / EVALSHA AUTHORIZE_SCRIPT 3|4 KEYS… ARGV…):
 *   KEYS[1]  the campaign's spend for the local day   rtb:spend:{<campaignId>}:day:<YYYY-MM-DD>
 *   KEYS[2]  the campaign's lifetime spend            rtb:spend:{<campaignId>}:life
 *   KEYS[3]  this reservation (idempotency)           rtb:auth:{<campaignId>}:<requestId>:<impId>
 *   KEYS[4]  optional: the user's impressions today   rtb:freq:{<campaignId>}:<YYYY-MM-DD>:<userId>
 *   ARGV[1]  cost of this impression, micros (integer >= 0; impressionCostMicros of the clearing CPM)
 *   ARGV[2]  daily budget, micros      ARGV[3]  lifetime budget, micros
 *   ARGV[4]  frequency cap per day (0 = none; KEYS[3], when given, is still counted)
 *   ARGV[5]  expiry of the daily keys, epoch ms: the next local midnight plus a grace period
 * Returns 0 ok (all counters incremented), 1 daily budget, 2 lifetime budget, 3 frequency cap
 * (nothing changed); a malformed argument is an error reply. A reservation already made (KEYS[3]
 * exists: the auction batch is being re-processed after a crash) returns 0 again without counting
 * twice, so the spend reserved equals the cost of the wins exactly once. A reservation is allowed when spend + cost
 * equals the budget exactly. The `{campaignId}` hash tag keeps all keys in one Redis Cluster slot,
 * which a multi-key script requires (campaign ids must therefore not contain braces).
 * Spend is not refunded when an impression is never served: budgets err on the side of underspend.
 */
import { PipelineError } from '../runtime/errors.js';
import type { AuthorizeStatus } from './auction.js';

export const AUTHORIZE_SCRIPT = `
local function arg(i)
  local s = ARGV[i]
  if type(s) ~= 'string' or not string.match(s, '^%d+$') then return nil end
  return tonumber(s)
end
local cost, dailyBudget, lifetimeBudget, cap, expireAt = arg(1), arg(2), arg(3), arg(4), arg(5)
if not (cost and dailyBudget and lifetimeBudget and cap and expireAt) then
  return redis.error_reply('ERR authorize: ARGV must be 5 non-negative decimal integers')
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local daily = tonumber(redis.call('GET', KEYS[1]) or '0')
if daily + cost > dailyBudget then return 1 end
local lifetime = tonumber(redis.call('GET', KEYS[2]) or '0')
if lifetime + cost > lifetimeBudget then return 2 end
local freqKey = KEYS[4]
if freqKey and cap > 0 then
  local seen = tonumber(redis.call('GET', freqKey) or '0')
  if seen >= cap then return 3 end
end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[1], 'PXAT', ARGV[5])
if freqKey then
  redis.call('INCR', freqKey)
  redis.call('PEXPIREAT', freqKey, ARGV[5])
end
return 0
`;

/** Script reply code → status; the index is the code. */
export const AUTHORIZE_STATUS_BY_CODE: readonly AuthorizeStatus[] = ['ok', 'daily_budget', 'lifetime_budget', 'frequency_cap'];

export interface AuthorizeParams {
  readonly campaignId: string;
  /** The request and imp this reservation is for: the idempotency key. */
  readonly requestId: string;
  readonly impId: string;
  /** The campaign-local day, `localDay(campaign.timezone, now).dayKey`. */
  readonly dayKey: string;
  readonly userId: string | null;
  readonly costMicros: number;
  readonly dailyBudgetMicros: number;
  readonly lifetimeBudgetMicros: number;
  /** The campaign's frequency cap count, or 0 for none. */
  readonly frequencyCap: number;
  /** When the daily keys may go: the next local midnight plus a grace period. */
  readonly expireAtMs: number;
}

/** The Redis keys of a campaign's counters, shared by the script and the bidder's reads of BidState. */
export const spendDayKey = (campaignId: string, dayKey: string): string => `rtb:spend:{${campaignId}}:day:${dayKey}`;
export const spendLifetimeKey = (campaignId: string): string => `rtb:spend:{${campaignId}}:life`;
export const frequencyKey = (campaignId: string, dayKey: string, userId: string): string => `rtb:freq:{${campaignId}}:${dayKey}:${userId}`;
export const reservationKey = (campaignId: string, requestId: string, impId: string): string => `rtb:auth:{${campaignId}}:${requestId}:${impId}`;

/** KEYS of one reservation, in contract order. */
export function authorizeKeys(p: Pick<AuthorizeParams, 'campaignId' | 'dayKey' | 'userId' | 'requestId' | 'impId'>): string[] {
  const keys = [spendDayKey(p.campaignId, p.dayKey), spendLifetimeKey(p.campaignId), reservationKey(p.campaignId, p.requestId, p.impId)];
  if (p.userId) keys.push(frequencyKey(p.campaignId, p.dayKey, p.userId));
  return keys;
}

/** KEYS and ARGV for one reservation, as strings ready for EVALSHA. */
export function authorizeCall(p: AuthorizeParams): { keys: string[]; args: string[] } {
  const args = [p.costMicros, p.dailyBudgetMicros, p.lifetimeBudgetMicros, p.frequencyCap, p.expireAtMs].map((n) => String(n));
  return { keys: authorizeKeys(p), args };
}

/** The status for the script's integer reply; anything else means the wrong script or server answered. */
export function parseAuthorizeReply(reply: unknown): AuthorizeStatus {
  const status = typeof reply === 'number' ? AUTHORIZE_STATUS_BY_CODE[reply] : undefined;
  if (status === undefined) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `unexpected authorize script reply: ${String(reply)}`);
  return status;
}
