/**
 * The Redis key layout the processors share. Every key name is built here and nowhere else, so the
 * writer and each reader agree on it:
 *
 *   rtb:spend:{<campaignId>}:day:<YYYY-MM-DD>     spend of the campaign's local day, micros
 *   rtb:spend:{<campaignId>}:life                  lifetime spend, micros
 *   rtb:freq:{<campaignId>}:<YYYY-MM-DD>:<userId>  the user's impressions of the campaign that day
 *       reserved by the auction (auction/authorize-script.ts), given back by settle, read by bid
 *   rtb:auth:{<campaignId>}:<requestKey>:<impId>   one reservation: its pending member, then S or R
 *   rtb:pending:{<campaignId>}                     the campaign's pending reservations (sorted set)
 *   rtb:pending:campaigns                          campaigns that may have pending reservations
 *       written by the auction, settled or released by settle (pending-reservation.ts: the member)
 *   rtb:perf:{<campaignId>}:imps, :clicks          delivery counts behind bid's performance multiplier
 *   rtb:perf:{<campaignId>}:seen:<eventId>         an impression or click already counted (expires)
 *       written by settle from the tracking notices (settle/settle-scripts.ts), read by bid
 *   rtb:profile:<userId>                           a user's profile (profile-format.ts): seed writes, enrich reads
 *
 * The `{campaignId}` hash tag keeps a campaign's keys in one Redis Cluster slot, which the multi-key
 * scripts (auction/authorize-script.ts, settle/settle-scripts.ts) require: campaign ids must therefore
 * not contain braces. A key one processor alone uses stays with it (aggregate/dedup.ts: rtb:seen:<eventId>).
 */
import { escapeKeyPart } from '../../schemas/request-key.js';

/** The Redis keys of a campaign's counters, shared by the script and the bidder's reads of BidState. */
export const spendDayKey = (campaignId: string, dayKey: string): string => `rtb:spend:{${campaignId}}:day:${dayKey}`;
export const spendLifetimeKey = (campaignId: string): string => `rtb:spend:{${campaignId}}:life`;
export const frequencyKey = (campaignId: string, dayKey: string, userId: string): string => `rtb:freq:{${campaignId}}:${dayKey}:${userId}`;
/**
 * `requestId` is the request's key, requestKey(exchange, id) (schemas/request-key.ts): ids are unique per
 * exchange only. Its parts are escaped (`%` and `:`), so the key is injective: ('a:b', 'c') and ('a', 'b:c')
 * were the same key when joined as they were; ids of the usual characters give the same key as before.
 */
export const reservationKey = (campaignId: string, requestId: string, impId: string): string =>
  `rtb:auth:{${campaignId}}:${escapeKeyPart(requestId)}:${escapeKeyPart(impId)}`;
export const pendingKey = (campaignId: string): string => `rtb:pending:{${campaignId}}`;
/** The set of campaign ids that may have pending reservations (the releaser's index). No hash tag: one global key. */
export const PENDING_CAMPAIGNS_KEY = 'rtb:pending:campaigns';

/** Delivery counters per campaign, written by the tracking path; absent = no history (the prior applies). */
export const perfImpressionsKey = (campaignId: string): string => `rtb:perf:{${campaignId}}:imps`;
export const perfClicksKey = (campaignId: string): string => `rtb:perf:{${campaignId}}:clicks`;
/** An IMPRESSION or CLICK event settle has counted into the counters above (same hash tag: one script touches both). */
export const perfSeenKey = (campaignId: string, eventId: string): string => `rtb:perf:{${campaignId}}:seen:${escapeKeyPart(eventId)}`;

/** A user's profile, JSON (profile-format.ts); written by the seed script (or a DMP loader), read by enrich. */
export const profileKey = (userId: string): string => `rtb:profile:${userId}`;
