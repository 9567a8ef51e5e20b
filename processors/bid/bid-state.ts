/**
 * Reads the counters the bidder decides with (spend today and lifetime, the user's frequency count,
 * delivery stats for the performance multiplier) for a whole batch in ONE Redis round trip (MGET).
 * The auction's atomic reservation is the authority on budgets; these reads steer pacing and skip
 * campaigns that cannot win. When Redis is slow or down the bidder decides with empty counters
 * (counted), rather than stalling: the reservation still refuses anything over budget.
 */
import type { Redis } from 'ioredis';
import type { Campaign } from '../campaigns/types.js';
import { frequencyKey, spendDayKey, spendLifetimeKey } from '../auction/authorize-script.js';
import { localDay } from './schedule.js';
import type { BidState, PerfStats } from './types.js';

/** Delivery counters per campaign, written by the tracking path; absent = no history (the prior applies). */
export const perfImpressionsKey = (campaignId: string): string => `rtb:perf:{${campaignId}}:imps`;
export const perfClicksKey = (campaignId: string): string => `rtb:perf:{${campaignId}}:clicks`;

export interface StateQuery {
  readonly userId: string | null;
  readonly campaigns: readonly Campaign[];
}

export const EMPTY_STATE: BidState = { spentTodayMicros: new Map(), spentLifetimeMicros: new Map(), frequencyCounts: new Map(), perf: new Map() };

export class BidStateReader {
  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs: number,
  ) {}

  /** One BidState per query, in order. Throws on Redis errors or timeout (the caller decides what to do). */
  async read(queries: readonly StateQuery[], nowMs: number): Promise<BidState[]> {
    const keys: string[] = [];
    const slots = queries.map((q) =>
      q.campaigns.map((c) => {
        const day = localDay(c.timezone, nowMs).dayKey;
        const at = keys.length;
        keys.push(spendDayKey(c.id, day), spendLifetimeKey(c.id), perfImpressionsKey(c.id), perfClicksKey(c.id));
        if (q.userId && c.frequencyCap) keys.push(frequencyKey(c.id, day, q.userId));
        return { c, at, hasFreq: Boolean(q.userId && c.frequencyCap) };
      }),
    );
    if (keys.length === 0) return queries.map(() => EMPTY_STATE);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis MGET of ${keys.length} keys timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const values = await Promise.race([this.redis.mget(keys), timeout]).finally(() => clearTimeout(timer));
    const num = (i: number): number => Number(values[i] ?? 0) || 0;
    return slots.map((list) => {
      const s = { spentTodayMicros: new Map<string, number>(), spentLifetimeMicros: new Map<string, number>(), frequencyCounts: new Map<string, number>(), perf: new Map<string, PerfStats>() };
      for (const { c, at, hasFreq } of list) {
        s.spentTodayMicros.set(c.id, num(at));
        s.spentLifetimeMicros.set(c.id, num(at + 1));
        s.perf.set(c.id, { impressions: num(at + 2), clicks: num(at + 3) });
        if (hasFreq) s.frequencyCounts.set(c.id, num(at + 4));
      }
      return s;
    });
  }
}
