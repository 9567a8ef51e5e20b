/**
 * The Redis Lua scripts that end a pending reservation (see processors/auction/authorize-script.ts for
 * how one begins). Both remove the member from the campaign's pending set with ZREM, and only the call
 * whose ZREM removed it acts: a reservation is settled or released exactly once, whichever comes first,
 * with any number of settle instances. All keys carry the `{campaignId}` hash tag (one cluster slot).
 *
 * The reservation key `rtb:auth:{cid}:<requestId>:<impId>` holds the reservation's state:
 * the pending member while pending, `S` once settled, `R` once released (its expiry is kept).
 *
 * SETTLE (EVALSHA SETTLE_SCRIPT 2 KEYS…):  KEYS[1] the reservation key, KEYS[2] the pending set.
 *   Returns 1 settled, 2 already settled (a repeated notice, or billing after win), 0 unknown
 *   (never reserved, expired, or already released: the notice came too late). Changes nothing but
 *   the pending member and the state.
 * RELEASE (EVALSHA RELEASE_SCRIPT 4|5 KEYS… ARGV[1]):  KEYS[1] the pending set, KEYS[2] the daily
 *   spend, KEYS[3] the lifetime spend, KEYS[4] the reservation key, KEYS[5] optional the user's
 *   frequency count; ARGV[1] the pending member. Returns 1 released (spend and count decremented by
 *   exactly the member's cost and 1), 0 not pending any more (settled or released meanwhile).
 *   Counters that have expired (the day is long over) are left alone rather than recreated negative.
 */
import { PipelineError } from '../../schemas/errors.js';
import { frequencyKey, pendingKey, reservationKey, spendDayKey, spendLifetimeKey } from '../domain/redis-keys.js';
import type { PendingReservation } from '../domain/pending-reservation.js';

export const SETTLE_SCRIPT = `
local state = redis.call('GET', KEYS[1])
if not state then return 0 end
if state == 'S' then return 2 end
if state == 'R' then return 0 end
if redis.call('ZREM', KEYS[2], state) == 0 then return 0 end
redis.call('SET', KEYS[1], 'S', 'KEEPTTL')
return 1
`;

export const RELEASE_SCRIPT = `
local ok, m = pcall(cjson.decode, ARGV[1])
if not ok or type(m) ~= 'table' or type(m[3]) ~= 'number' or m[3] < 0 or m[3] ~= math.floor(m[3]) then
  return redis.error_reply('ERR release: ARGV[1] is not a pending member')
end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local cost = string.format('%d', m[3])
for i = 2, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECRBY', KEYS[i], cost) end
end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('SET', KEYS[4], 'R', 'KEEPTTL') end
local freqKey = KEYS[5]
if freqKey and redis.call('EXISTS', freqKey) == 1 then redis.call('DECR', freqKey) end
return 1
`;

export type SettleResult = 'settled' | 'duplicate' | 'unknown';
const SETTLE_BY_CODE: readonly SettleResult[] = ['unknown', 'settled', 'duplicate'];

/** What a notice identifies: the reservation of one campaign for one request and imp. */
export interface ReservationRef {
  readonly campaignId: string;
  readonly requestId: string;
  readonly impId: string;
}

export function settleKeys(r: ReservationRef): string[] {
  return [reservationKey(r.campaignId, r.requestId, r.impId), pendingKey(r.campaignId)];
}

export function releaseKeys(campaignId: string, p: PendingReservation): string[] {
  const keys = [pendingKey(campaignId), spendDayKey(campaignId, p.dayKey), spendLifetimeKey(campaignId), reservationKey(campaignId, p.requestId, p.impId)];
  if (p.userId) keys.push(frequencyKey(campaignId, p.dayKey, p.userId));
  return keys;
}

/** The result for the settle script's reply; anything else means the wrong script or server answered. */
export function parseSettleReply(reply: unknown): SettleResult {
  const result = typeof reply === 'number' ? SETTLE_BY_CODE[reply] : undefined;
  if (result === undefined) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `unexpected settle script reply: ${String(reply)}`);
  return result;
}
