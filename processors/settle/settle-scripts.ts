/**
 * The Redis Lua scripts that end a pending reservation (see processors/auction/authorize-script.ts for
 * how one begins) and feed the performance counters. All keys of a script carry the `{campaignId}` hash
 * tag (one cluster slot).
 *
 * The reservation key `rtb:auth:{cid}:<requestId>:<impId>` holds the reservation's state: the pending
 * member while pending; `W:<cost>` once a WIN notice settled it, `B:<cost>` once a BILLING notice did
 * (cost = what is now counted as spent, micros); `R` once released (never won, or lost); `S` is the
 * settled state of reservations settled before issue 10 (cost unknown: treated as final).
 *
 * SETTLE (EVALSHA SETTLE_SCRIPT 4 KEYS… ARGV…): KEYS[1] the reservation key, KEYS[2] the pending set,
 *   KEYS[3] the daily spend of the reservation's day, KEYS[4] the lifetime spend; ARGV[1] `W` (a WIN
 *   notice) or `B` (BILLING), ARGV[2] the notice's cost in base micros, ARGV[3] how long the state is kept (ms).
 *   - pending: the member leaves the pending set and the spend is adjusted from the reserved cost to the
 *     notice's (reserved - cost given back to daily and lifetime spend); state W/B:<cost>. Returns 1 settled.
 *   - W:<c> and a BILLING: spend adjusted from c to the billed cost (spend is final at billing); state
 *     B:<cost>. Returns 4 adjusted.
 *   - W:<c> and a WIN, B:<c> and anything, S: nothing. Returns 2 duplicate.
 *   - anything else in the key (not written by these scripts): nothing. Returns 0 invalid.
 *   - R (released by the releaser after SETTLE_RELEASE_AFTER_MS, or by a loss notice) or no key (the
 *     reservation's key expired with its day): the exchange says we bought it, so the cost is CHARGED:
 *     added to lifetime spend and, while the day's counter still exists, to daily spend; state W/B:<cost>,
 *     so a repeat never charges twice. Returns 3 charged. A WIN is charged like a BILLING (a later
 *     BILLING then only adjusts). The user's frequency count given back by the release is not restored
 *     (the notice does not name the user).
 *   Every new state is kept ARGV[3] ms (SETTLE_DEDUP_TTL_MS, longer than a notice URL lives), replacing
 *   the reservation's own expiry: a repeat arriving days later still finds it. A counter that no longer
 *   exists (its day is over) is left alone rather than recreated negative.
 * RELEASE (EVALSHA RELEASE_SCRIPT 4|5 KEYS… ARGV[1]):  KEYS[1] the pending set, KEYS[2] the daily
 *   spend, KEYS[3] the lifetime spend, KEYS[4] the reservation key, KEYS[5] optional the user's
 *   frequency count; ARGV[1] the pending member. Returns 1 released (spend and count decremented by
 *   exactly the member's cost and 1), 0 not pending any more (settled or released meanwhile). Only the
 *   call whose ZREM removed the member acts: a reservation is released at most once, with any number of
 *   settle instances. Counters that have expired are left alone.
 * PERF (EVALSHA PERF_SCRIPT 2 KEYS… ARGV[1]): KEYS[1] the event's seen key, KEYS[2] the counter
 *   (rtb:perf:{cid}:imps or :clicks); ARGV[1] how long the seen key is kept (ms). Increments the counter
 *   only if the seen key was not there (SET NX): once per event id. Returns 1 counted, 0 duplicate.
 */
import { PipelineError } from '../../schemas/errors.js';
import type { TrackingEvent } from '../../schemas/tracking-event.js';
import {
  frequencyKey, pendingKey, perfClicksKey, perfImpressionsKey, perfSeenKey, reservationKey, spendDayKey, spendLifetimeKey,
} from '../domain/redis-keys.js';
import type { PendingReservation } from '../domain/pending-reservation.js';

export const SETTLE_SCRIPT = `
local kind, cost, ttl = ARGV[1], ARGV[2], ARGV[3]
if (kind ~= 'W' and kind ~= 'B') or type(cost) ~= 'string' or not string.match(cost, '^%d+$') or type(ttl) ~= 'string' or not string.match(ttl, '^%d+$') then
  return redis.error_reply('ERR settle: ARGV must be W or B, the cost and the state TTL (non-negative integers)')
end
local function adjust(delta)
  if delta == 0 then return end
  for i = 3, 4 do
    if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECRBY', KEYS[i], string.format('%d', delta)) end
  end
end
local function mark()
  redis.call('SET', KEYS[1], kind .. ':' .. cost, 'PX', ttl)
end
local state = redis.call('GET', KEYS[1])
if state == 'S' then return 2 end
if state and state ~= 'R' then
  local was, counted = string.match(state, '^([WB]):(%d+)$')
  if was then
    if was == 'B' or kind == 'W' then return 2 end
    adjust(tonumber(counted) - tonumber(cost))
    mark()
    return 4
  end
  local ok, m = pcall(cjson.decode, state)
  if ok and type(m) == 'table' and type(m[3]) == 'number' then
    redis.call('ZREM', KEYS[2], state)
    adjust(m[3] - tonumber(cost))
    mark()
    return 1
  end
  return 0
end
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('INCRBY', KEYS[3], cost) end
redis.call('INCRBY', KEYS[4], cost)
mark()
return 3
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

export const PERF_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 0 end
redis.call('INCR', KEYS[2])
return 1
`;

export type SettleResult = 'invalid' | 'settled' | 'duplicate' | 'charged' | 'adjusted';
const SETTLE_BY_CODE: readonly SettleResult[] = ['invalid', 'settled', 'duplicate', 'charged', 'adjusted'];

/** What a notice identifies: the reservation of one campaign for one request and imp. */
export interface ReservationRef {
  readonly campaignId: string;
  readonly requestId: string;
  readonly impId: string;
}

/** A WIN or BILLING notice against its reservation: the day it reserved against and the cost it reports (base micros). */
export interface SettleRef extends ReservationRef {
  readonly dayKey: string;
  readonly kind: 'WIN' | 'BILLING';
  readonly costMicros: number;
}

export function settleKeys(r: SettleRef): string[] {
  return [reservationKey(r.campaignId, r.requestId, r.impId), pendingKey(r.campaignId), spendDayKey(r.campaignId, r.dayKey), spendLifetimeKey(r.campaignId)];
}

/** ARGV of SETTLE; throws RangeError for a cost that is not a non-negative safe integer (the processor dead-letters it). */
export function settleArgs(r: SettleRef, stateTtlMs: number): string[] {
  if (!Number.isSafeInteger(r.costMicros) || r.costMicros < 0) throw new RangeError(`cost ${r.costMicros} is not a non-negative integer`);
  return [r.kind === 'WIN' ? 'W' : 'B', String(r.costMicros), String(stateTtlMs)];
}

export function releaseKeys(campaignId: string, p: PendingReservation): string[] {
  const keys = [pendingKey(campaignId), spendDayKey(campaignId, p.dayKey), spendLifetimeKey(campaignId), reservationKey(campaignId, p.requestId, p.impId)];
  if (p.userId) keys.push(frequencyKey(campaignId, p.dayKey, p.userId));
  return keys;
}

/** An IMPRESSION or CLICK notice, counted once per event id in its campaign's performance counter. */
export interface PerfRef {
  readonly campaignId: string;
  readonly eventId: string;
  readonly type: Extract<TrackingEvent['type'], 'IMPRESSION' | 'CLICK'>;
}

export function perfKeys(r: PerfRef): string[] {
  return [perfSeenKey(r.campaignId, r.eventId), r.type === 'CLICK' ? perfClicksKey(r.campaignId) : perfImpressionsKey(r.campaignId)];
}

/** The result for the settle script's reply; anything else means the wrong script or server answered. */
export function parseSettleReply(reply: unknown): SettleResult {
  const result = typeof reply === 'number' ? SETTLE_BY_CODE[reply] : undefined;
  if (result === undefined) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `unexpected settle script reply: ${String(reply)}`);
  return result;
}
