/**
 * The Redis Lua script that reserves an auction winner's spend atomically, so concurrent auctions on
 * any number of bidder instances can never push a campaign past its daily or lifetime budget or a user
 * past the frequency cap: the check and the increments run as one Redis operation.
 *
 * Contract (EVAL / EVALSHA AUTHORIZE_SCRIPT 4|5 KEYS… ARGV…):
 *   KEYS[1]  the campaign's spend for the local day   rtb:spend:{<campaignId>}:day:<YYYY-MM-DD>
 *   KEYS[2]  the campaign's lifetime spend            rtb:spend:{<campaignId>}:life
 *   KEYS[3]  this reservation (idempotency, state)    rtb:auth:{<campaignId>}:<requestKey>:<impId>  (parts escaped: reservationKey)
 *   KEYS[4]  the campaign's pending reservations      rtb:pending:{<campaignId>}   (sorted set)
 *   KEYS[5]  optional: the user's impressions today   rtb:freq:{<campaignId>}:<YYYY-MM-DD>:<userId>
 *            (the key layout, which bid and settle share: processors/domain/redis-keys.ts)
 *   ARGV[1]  cost of this impression, micros (integer >= 0; impressionCostMicros of the clearing CPM)
 *   ARGV[2]  daily budget, micros      ARGV[3]  lifetime budget, micros
 *   ARGV[4]  frequency cap per day (0 = none; KEYS[5], when given, is still counted)
 *   ARGV[5]  expiry of the daily keys, epoch ms: the next local midnight plus a grace period
 *   ARGV[6]  reservation time, epoch ms (the pending score)
 *   ARGV[7]  the pending member, pendingMember() (processors/domain/pending-reservation.ts): [requestId, impId, cost, dayKey, userId] as JSON
 * Returns 0 ok (all counters incremented), 1 daily budget, 2 lifetime budget, 3 frequency cap
 * (nothing changed); a malformed argument is an error reply. A reservation already made (KEYS[3]
 * exists: the auction batch is being re-processed after a crash) returns 0 again without counting
 * twice, so the spend reserved equals the cost of the wins exactly once. A reservation is allowed when spend + cost
 * equals the budget exactly. The `{campaignId}` hash tag keeps all keys in one Redis Cluster slot,
 * which a multi-key script requires (campaign ids must therefore not contain braces).
 *
 * Pending reservations (settled or released by processors/settle): a successful reservation is
 * recorded in the campaign's pending set (score = reservation time) and the reservation key holds
 * the pending member. A WIN/BILLING notice settles it (member removed, key set to `S`); one never won
 * within SETTLE_RELEASE_AFTER_MS is released (member removed, the spend and frequency count given
 * back, key set to `R`), exactly once. The caller adds the campaign to PENDING_CAMPAIGNS_KEY after a
 * successful reservation: that global index lives in another cluster slot, so it cannot be in this script.
 */
import { PipelineError } from '../../schemas/errors.js';
import { frequencyKey, pendingKey, reservationKey, spendDayKey, spendLifetimeKey } from '../domain/redis-keys.js';
import { pendingMember } from '../domain/pending-reservation.js';
import type { AuthorizeStatus } from './auction.js';

export const AUTHORIZE_SCRIPT = `
local function arg(i)
  local s = ARGV[i]
  if type(s) ~= 'string' or not string.match(s, '^%d+$') then return nil end
  return tonumber(s)
end
local cost, dailyBudget, lifetimeBudget, cap, expireAt, reservedAt = arg(1), arg(2), arg(3), arg(4), arg(5), arg(6)
if not (cost and dailyBudget and lifetimeBudget and cap and expireAt and reservedAt) then
  return redis.error_reply('ERR authorize: ARGV 1-6 must be non-negative decimal integers')
end
local member = ARGV[7]
if type(member) ~= 'string' or member == '' then return redis.error_reply('ERR authorize: ARGV[7] must be the pending member') end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local daily = tonumber(redis.call('GET', KEYS[1]) or '0')
if daily + cost > dailyBudget then return 1 end
local lifetime = tonumber(redis.call('GET', KEYS[2]) or '0')
if lifetime + cost > lifetimeBudget then return 2 end
local freqKey = KEYS[5]
if freqKey and cap > 0 then
  local seen = tonumber(redis.call('GET', freqKey) or '0')
  if seen >= cap then return 3 end
end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], member, 'PXAT', ARGV[5])
redis.call('ZADD', KEYS[4], ARGV[6], member)
-- Memory safety net should no settle service run: the pending set never outlives the newest day keys it refers to.
if redis.call('PEXPIRETIME', KEYS[4]) < expireAt then redis.call('PEXPIREAT', KEYS[4], ARGV[5]) end
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
  /** The request and imp this reservation is for: the idempotency key. `requestId` is requestKey(exchange, id). */
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
  /** Now, epoch ms: a reservation still pending SETTLE_RELEASE_AFTER_MS later is released. */
  readonly reservedAtMs: number;
}

/** KEYS of one reservation, in contract order. */
export function authorizeKeys(p: Pick<AuthorizeParams, 'campaignId' | 'dayKey' | 'userId' | 'requestId' | 'impId'>): string[] {
  const keys = [spendDayKey(p.campaignId, p.dayKey), spendLifetimeKey(p.campaignId), reservationKey(p.campaignId, p.requestId, p.impId), pendingKey(p.campaignId)];
  if (p.userId) keys.push(frequencyKey(p.campaignId, p.dayKey, p.userId));
  return keys;
}

/** KEYS and ARGV for one reservation, as strings ready for EVALSHA. */
export function authorizeCall(p: AuthorizeParams): { keys: string[]; args: string[] } {
  const args = [p.costMicros, p.dailyBudgetMicros, p.lifetimeBudgetMicros, p.frequencyCap, p.expireAtMs, p.reservedAtMs].map((n) => String(n));
  args.push(pendingMember(p));
  return { keys: authorizeKeys(p), args };
}

/** The status for the script's integer reply; anything else means the wrong script or server answered. */
export function parseAuthorizeReply(reply: unknown): AuthorizeStatus {
  const status = typeof reply === 'number' ? AUTHORIZE_STATUS_BY_CODE[reply] : undefined;
  if (status === undefined) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `unexpected authorize script reply: ${String(reply)}`);
  return status;
}
