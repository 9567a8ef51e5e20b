/**
 * Every indexed campaign's counters (spend today and lifetime, delivery stats for the performance
 * multiplier), read in the background with ONE Redis MGET every `refreshMs`, so that no request
 * re-reads them: a batch only reads its users' frequency counts (bid-state.ts).
 *
 * Staleness, and why it is acceptable: the snapshot lags Redis by up to one refresh interval plus one
 * MGET. It guarantees no budget. The auction's reservation (processors/auction/authorize-script.ts)
 * checks and increments daily and lifetime spend in one atomic Redis operation and refuses a win that
 * would overspend, trying the next bidder instead. The snapshot only steers pacing and skips campaigns
 * that are already spent out, so a lag means a campaign that just spent out may still bid for a
 * refresh interval (its wins are refused at the reservation), and pacing reacts to spend that late.
 * - Too old: when refreshes keep failing and the snapshot is older than `maxAgeMs` (default 10 ×
 *   refreshMs), `counters` answers null and the bidder decides with empty counters, as it does when
 *   Redis is down (bid_state_unavailable_total). Old counters would throttle on stale spend for ever.
 * - New campaigns have no entry (zero spend) until the next refresh; the reservation still applies.
 * - At a campaign's local midnight its day spend is dropped at once, not at the next refresh, so a new
 *   day does not start throttled by yesterday's spend.
 */
import type { Campaign } from '../domain/campaign.js';
import { perfClicksKey, perfImpressionsKey, spendDayKey, spendLifetimeKey } from '../domain/redis-keys.js';
import type { Logger } from '../runtime/logger.js';
import { counterValue, mgetWithTimeout, type MgetClient } from './bid-state.js';
import { localDay, type LocalDay } from './schedule.js';
import type { PerfStats } from './types.js';

/** The campaign-level part of BidState (types.ts), shared by every request until the next refresh. */
export interface CampaignCounters {
  readonly spentTodayMicros: ReadonlyMap<string, number>;
  readonly spentLifetimeMicros: ReadonlyMap<string, number>;
  readonly perf: ReadonlyMap<string, PerfStats>;
}

export interface CounterSnapshotOptions {
  readonly redis: MgetClient;
  /** The campaigns to read (the index's active ones), asked at every refresh. */
  readonly campaigns: () => Iterable<Campaign>;
  readonly refreshMs: number;
  /** Older than this, `counters` answers null. Default 10 × refreshMs. */
  readonly maxAgeMs?: number;
  /** Longest wait for the MGET. Default refreshMs: a slower read would only delay the next one. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly log?: Logger;
  readonly metrics?: { readonly refreshFailures: { inc(): void } };
}

interface Loaded extends CampaignCounters {
  /** When the MGET was sent: the counters are at least this fresh. */
  readonly atMs: number;
  /** Per campaign, the end of the local day its `spentTodayMicros` belongs to. */
  readonly dayEnds: ReadonlyMap<string, number>;
  readonly firstDayEndMs: number;
}

/** Counters with the day spend of campaigns past their local midnight removed; valid for now in [sinceMs, untilMs). */
interface RolledOver {
  readonly from: Loaded;
  readonly sinceMs: number;
  readonly untilMs: number;
  readonly counters: CampaignCounters;
}

export class CounterSnapshot {
  readonly #o: CounterSnapshotOptions;
  readonly #now: () => number;
  readonly #maxAgeMs: number;
  #loaded: Loaded | null = null;
  #rolled: RolledOver | null = null;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(options: CounterSnapshotOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#maxAgeMs = options.maxAgeMs ?? 10 * options.refreshMs;
  }

  /** Milliseconds since the counters in use were read; Infinity before the first successful refresh. */
  ageMs(nowMs = this.#now()): number {
    return this.#loaded === null ? Infinity : nowMs - this.#loaded.atMs;
  }

  /** The counters to decide with at `nowMs`, or null when there are none fresh enough (decide with empty counters). */
  counters(nowMs: number): CampaignCounters | null {
    const s = this.#loaded;
    if (s === null || nowMs - s.atMs > this.#maxAgeMs) return null;
    if (nowMs < s.firstDayEndMs) return s;
    const r = this.#rolled;
    if (r !== null && r.from === s && nowMs >= r.sinceMs && nowMs < r.untilMs) return r.counters;
    const today = new Map<string, number>();
    let sinceMs = -Infinity;
    let untilMs = Infinity;
    for (const [id, spent] of s.spentTodayMicros) {
      const end = s.dayEnds.get(id) ?? Infinity;
      if (end <= nowMs) {
        sinceMs = Math.max(sinceMs, end);
      } else {
        untilMs = Math.min(untilMs, end);
        today.set(id, spent);
      }
    }
    this.#rolled = { from: s, sinceMs, untilMs, counters: { ...s, spentTodayMicros: today } };
    return this.#rolled.counters;
  }

  /** Reads every campaign's counters in one MGET. On failure the previous snapshot stays (and ages); false is returned. */
  async refresh(): Promise<boolean> {
    const atMs = this.#now();
    try {
      const ids: string[] = [];
      const dayEnds = new Map<string, number>();
      const keys: string[] = [];
      let firstDayEndMs = Infinity;
      for (const c of this.#o.campaigns()) {
        let day: LocalDay;
        try {
          day = localDay(c.timezone, atMs);
        } catch {
          continue; // an unknown zone is never scheduled (schedule.ts): nothing to read
        }
        ids.push(c.id);
        dayEnds.set(c.id, day.nextMidnightMs);
        firstDayEndMs = Math.min(firstDayEndMs, day.nextMidnightMs);
        keys.push(spendDayKey(c.id, day.dayKey), spendLifetimeKey(c.id), perfImpressionsKey(c.id), perfClicksKey(c.id));
      }
      const values = keys.length === 0 ? [] : await mgetWithTimeout(this.#o.redis, keys, this.#o.timeoutMs ?? this.#o.refreshMs);
      const loaded = { atMs, dayEnds, firstDayEndMs, spentTodayMicros: new Map<string, number>(), spentLifetimeMicros: new Map<string, number>(), perf: new Map<string, PerfStats>() };
      ids.forEach((id, i) => {
        loaded.spentTodayMicros.set(id, counterValue(values[4 * i]));
        loaded.spentLifetimeMicros.set(id, counterValue(values[4 * i + 1]));
        loaded.perf.set(id, { impressions: counterValue(values[4 * i + 2]), clicks: counterValue(values[4 * i + 3]) });
      });
      // A slow read that finishes after a newer one must not replace it.
      if (this.#loaded === null || this.#loaded.atMs <= atMs) this.#loaded = loaded;
      if (this.#failing) this.#o.log?.info({ campaigns: ids.length }, 'campaign counter refresh recovered');
      this.#failing = false;
      return true;
    } catch (err) {
      this.#o.metrics?.refreshFailures.inc();
      // Once per outage, not every refreshMs; and not for the read that `stop` (shutdown) cut short.
      if (!this.#failing && this.#running) this.#o.log?.warn({ err, ageMs: this.ageMs() }, 'campaign counter refresh failed; using the last snapshot until it is too old');
      this.#failing = true;
      return false;
    }
  }

  /** Refreshes now and then every refreshMs until `stop`; resolves with the first refresh's outcome. */
  start(): Promise<boolean> {
    if (this.#running) return Promise.resolve(this.#loaded !== null);
    this.#running = true;
    return this.#tick();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  async #tick(): Promise<boolean> {
    const startedAt = this.#now();
    const ok = await this.refresh();
    if (this.#running) {
      // Reads start every refreshMs (not refreshMs after the last one ended), and never overlap.
      this.#timer = setTimeout(() => void this.#tick(), Math.max(0, this.#o.refreshMs - (this.#now() - startedAt)));
      this.#timer.unref();
    }
    return ok;
  }
}
