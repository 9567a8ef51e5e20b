/**
 * The counters read per batch: each user's frequency counts for the capped campaigns that can match
 * their request, in ONE Redis MGET per batch with a timeout. Campaign-level counters (spend, delivery
 * stats) are not read per batch: counter-snapshot.ts keeps them for the whole catalogue, refreshed in
 * the background. The auction's atomic reservation is the authority on budgets and caps; these reads
 * only skip campaigns that cannot win. When Redis is slow or down the bidder decides with empty counts
 * (counted) rather than stalling: the reservation still refuses an impression over the cap.
 */
import type { Campaign } from '../domain/campaign.js';
import { frequencyKey } from '../domain/redis-keys.js';
import { localDay } from './schedule.js';
import type { BidState } from './types.js';

/** The one Redis command the bidder's reads need (ioredis' Redis satisfies it; tests pass a fake). */
export interface MgetClient {
  mget(keys: string[]): Promise<(string | null)[]>;
}

/** MGET that rejects after `timeoutMs`: a slow Redis must cost a batch at most that long. */
export async function mgetWithTimeout(redis: MgetClient, keys: string[], timeoutMs: number): Promise<(string | null)[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis MGET of ${keys.length} keys timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([redis.mget(keys), timeout]).finally(() => clearTimeout(timer));
}

/** A counter as stored by INCRBY; missing or unparsable reads as 0. */
export const counterValue = (v: string | null | undefined): number => Number(v ?? 0) || 0;

const NO_COUNTS: ReadonlyMap<string, number> = new Map();
export const EMPTY_STATE: BidState = { spentTodayMicros: NO_COUNTS, spentLifetimeMicros: NO_COUNTS, frequencyCounts: NO_COUNTS, perf: new Map() };

export interface FrequencyQuery {
  readonly userId: string | null;
  /** The request's candidate campaigns; only those with a frequency cap are read. */
  readonly campaigns: readonly Campaign[];
}

export class FrequencyReader {
  constructor(
    private readonly redis: MgetClient,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Per query, in order: campaign id → impressions the user has seen from it today (campaign-local day).
   * No user or no capped campaign: an empty map, and no round trip when no query needs one.
   * Throws on Redis errors or timeout (the caller decides what to do).
   */
  async read(queries: readonly FrequencyQuery[], nowMs: number): Promise<ReadonlyMap<string, number>[]> {
    const keys: string[] = [];
    const ids: string[] = [];
    const ranges = queries.map((q) => {
      const from = keys.length;
      if (q.userId === null) return [from, from] as const;
      for (const c of q.campaigns) {
        if (c.frequencyCap === null) continue;
        let day: string;
        try {
          day = localDay(c.timezone, nowMs).dayKey;
        } catch {
          continue; // an unknown zone is never scheduled (schedule.ts), so it needs no count
        }
        keys.push(frequencyKey(c.id, day, q.userId));
        ids.push(c.id);
      }
      return [from, keys.length] as const;
    });
    if (keys.length === 0) return queries.map(() => NO_COUNTS);
    const values = await mgetWithTimeout(this.redis, keys, this.timeoutMs);
    return ranges.map(([from, to]) => {
      if (from === to) return NO_COUNTS;
      const counts = new Map<string, number>();
      for (let i = from; i < to; i++) counts.set(ids[i]!, counterValue(values[i]));
      return counts;
    });
  }
}
