/**
 * Pending reservations in Redis: settling them from WIN/BILLING notices (one pipelined round trip per
 * batch), releasing the ones the exchange says we lost (loss notices: two round trips per batch) and the
 * ones never won, and counting impressions and clicks into the performance counters. The scripts
 * (settle-scripts.ts) make each effect happen once per reservation or event; this module only finds
 * candidates and calls them.
 *
 * Finding candidates: PENDING_CAMPAIGNS_KEY is a set of campaign ids whose pending set may be non-empty
 * (the auction adds a campaign after each successful reservation). For each, the members scored before
 * the cutoff are released. A campaign is dropped from the index when its pending set is empty, then the
 * set is looked at again and the campaign re-added if a reservation slipped in between: since the
 * auction adds to the index only after its reservation, no pending reservation is ever left unindexed.
 */
import type { Redis } from 'ioredis';
import { PipelineError } from '../../schemas/errors.js';
import type { Logger } from '../runtime/logger.js';
import { PENDING_CAMPAIGNS_KEY, pendingKey, reservationKey } from '../domain/redis-keys.js';
import { parsePendingMember } from '../domain/pending-reservation.js';
import {
  PERF_SCRIPT, RELEASE_SCRIPT, SETTLE_SCRIPT, parseSettleReply, perfKeys, releaseKeys, settleArgs, settleKeys,
  type PerfRef, type ReservationRef, type SettleRef, type SettleResult,
} from './settle-scripts.js';

/** Members released per ZRANGE page, and campaigns per SSCAN page: bounded memory and round trips. */
const PAGE = 500;

interface ScriptCommands {
  rtbSettle(n: number, ...args: string[]): Promise<unknown>;
  rtbRelease(n: number, ...args: string[]): Promise<unknown>;
  rtbPerf(n: number, ...args: string[]): Promise<unknown>;
}
type Pipeline = ScriptCommands & { get(key: string): unknown; exec(): Promise<Array<[Error | null, unknown]> | null> };

/** A loss notice's effect: its reservation released now, or nothing was pending any more (won, released, expired). */
export type LossResult = 'released' | 'not_pending';
export type PerfResult = 'counted' | 'duplicate';

/** Default of SETTLE_DEDUP_TTL_MS: longer than a notice URL lives (INGEST_NOTICE_TOKEN_TTL_MS, 7 days) plus a day of lag. */
export const DEFAULT_DEDUP_TTL_MS = 8 * 86_400_000;

export interface ReleaseCounts {
  released: number;
  /** Members that do not decode (not written by the authorize script): removed, nothing given back. */
  invalid: number;
}

export class PendingReservations {
  private readonly indexKey: string;
  private readonly log: Logger | undefined;
  private readonly dedupTtlMs: number;

  constructor(
    private readonly redis: Redis,
    opts: { indexKey?: string; log?: Logger; dedupTtlMs?: number } = {},
  ) {
    this.indexKey = opts.indexKey ?? PENDING_CAMPAIGNS_KEY;
    this.log = opts.log;
    this.dedupTtlMs = opts.dedupTtlMs ?? DEFAULT_DEDUP_TTL_MS;
    redis.defineCommand('rtbSettle', { lua: SETTLE_SCRIPT });
    redis.defineCommand('rtbRelease', { lua: RELEASE_SCRIPT });
    redis.defineCommand('rtbPerf', { lua: PERF_SCRIPT });
  }

  /** Settles, adjusts or charges each reservation (in order, one round trip); a Redis failure is retryable. */
  async settle(refs: readonly SettleRef[]): Promise<SettleResult[]> {
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as Pipeline;
    for (const ref of refs) {
      const keys = settleKeys(ref);
      void pipeline.rtbSettle(keys.length, ...keys, ...settleArgs(ref, this.dedupTtlMs));
    }
    return (await this.exec(pipeline, 'settling reservations')).map(parseSettleReply);
  }

  /**
   * Releases at once the reservations the exchange says we lost: reads each reservation's state, then
   * releases those still pending with RELEASE (which acts only if the member is still pending, so a
   * win or a release in between wins the race harmlessly).
   */
  async releaseLost(refs: readonly ReservationRef[]): Promise<LossResult[]> {
    if (refs.length === 0) return [];
    const reads = this.redis.pipeline() as unknown as Pipeline;
    for (const r of refs) void reads.get(reservationKey(r.campaignId, r.requestId, r.impId));
    const states = await this.exec(reads, 'reading lost reservations');
    const results: LossResult[] = refs.map(() => 'not_pending');
    const releases = this.redis.pipeline() as unknown as Pipeline;
    const released: number[] = [];
    refs.forEach((r, i) => {
      const member = states[i];
      const p = typeof member === 'string' ? parsePendingMember(member) : null;
      if (!p) return;
      const keys = releaseKeys(r.campaignId, p);
      void releases.rtbRelease(keys.length, ...keys, member as string);
      released.push(i);
    });
    if (released.length === 0) return results;
    (await this.exec(releases, 'releasing lost reservations')).forEach((reply, j) => {
      if (reply === 1) results[released[j]!] = 'released';
    });
    return results;
  }

  /** Counts each impression or click once per event id into its campaign's performance counter (one round trip). */
  async countPerf(refs: readonly PerfRef[]): Promise<PerfResult[]> {
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as Pipeline;
    for (const r of refs) {
      const keys = perfKeys(r);
      void pipeline.rtbPerf(keys.length, ...keys, String(this.dedupTtlMs));
    }
    return (await this.exec(pipeline, 'counting impressions and clicks')).map((reply) => (reply === 1 ? 'counted' : 'duplicate'));
  }

  /** Releases every pending reservation scored before `cutoffMs`, over all indexed campaigns. */
  async releaseBefore(cutoffMs: number): Promise<ReleaseCounts> {
    const total: ReleaseCounts = { released: 0, invalid: 0 };
    let cursor = '0';
    do {
      const [next, campaigns] = await this.redis.sscan(this.indexKey, cursor, 'COUNT', PAGE);
      cursor = next;
      const counts = await Promise.all(campaigns.map((c) => this.releaseCampaign(c, cutoffMs)));
      for (const c of counts) {
        total.released += c.released;
        total.invalid += c.invalid;
      }
    } while (cursor !== '0');
    return total;
  }

  /** Releases one campaign's reservations scored before `cutoffMs`, and drops it from the index once it has none. */
  async releaseCampaign(campaignId: string, cutoffMs: number): Promise<ReleaseCounts> {
    const counts: ReleaseCounts = { released: 0, invalid: 0 };
    const set = pendingKey(campaignId);
    const commands = this.redis as unknown as ScriptCommands;
    for (;;) {
      const members = await this.redis.zrangebyscore(set, '-inf', cutoffMs, 'LIMIT', 0, PAGE);
      const replies = await Promise.all(members.map(async (member) => {
        const p = parsePendingMember(member);
        if (!p) {
          this.log?.warn({ campaignId, member }, 'pending member does not decode: removed without release');
          return (await this.redis.zrem(set, member)) === 1 ? 'invalid' : 0;
        }
        const keys = releaseKeys(campaignId, p);
        return commands.rtbRelease(keys.length, ...keys, member);
      }));
      for (const r of replies) {
        if (r === 1) counts.released++;
        else if (r === 'invalid') counts.invalid++;
      }
      if (members.length < PAGE) break;
    }
    if ((await this.redis.zcard(set)) === 0) {
      await this.redis.srem(this.indexKey, campaignId);
      // A reservation may have been added after the count: put the campaign back so it is not stranded.
      if ((await this.redis.zcard(set)) > 0) await this.redis.sadd(this.indexKey, campaignId);
    }
    return counts;
  }

  /** Runs a pipeline; any command's error fails the whole batch as a retryable dependency failure. */
  private async exec(pipeline: Pipeline, what: string): Promise<unknown[]> {
    const replies = await this.redisCall(() => pipeline.exec(), what);
    return (replies ?? []).map(([err, reply]) => {
      if (err) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `${what}: script failed: ${err.message}`, { cause: err });
      return reply;
    });
  }

  private async redisCall<R>(fn: () => Promise<R>, what: string): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `${what} in Redis failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
