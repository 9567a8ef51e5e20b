/**
 * Pending reservations in Redis: settling them from notices (one pipelined round trip per batch) and
 * releasing the ones never won. The scripts (settle-scripts.ts) make each reservation end exactly once;
 * this module only finds candidates and calls them.
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
import { PENDING_CAMPAIGNS_KEY, pendingKey } from '../domain/redis-keys.js';
import { parsePendingMember } from '../domain/pending-reservation.js';
import { RELEASE_SCRIPT, SETTLE_SCRIPT, parseSettleReply, releaseKeys, settleKeys, type ReservationRef, type SettleResult } from './settle-scripts.js';

/** Members released per ZRANGE page, and campaigns per SSCAN page: bounded memory and round trips. */
const PAGE = 500;

interface ScriptCommands {
  rtbSettle(n: number, ...args: string[]): Promise<unknown>;
  rtbRelease(n: number, ...args: string[]): Promise<unknown>;
}

export interface ReleaseCounts {
  released: number;
  /** Members that do not decode (not written by the authorize script): removed, nothing given back. */
  invalid: number;
}

export class PendingReservations {
  private readonly indexKey: string;
  private readonly log: Logger | undefined;

  constructor(
    private readonly redis: Redis,
    opts: { indexKey?: string; log?: Logger } = {},
  ) {
    this.indexKey = opts.indexKey ?? PENDING_CAMPAIGNS_KEY;
    this.log = opts.log;
    redis.defineCommand('rtbSettle', { lua: SETTLE_SCRIPT });
    redis.defineCommand('rtbRelease', { lua: RELEASE_SCRIPT });
  }

  /** Settles each reservation (in order, one round trip); a Redis failure is retryable. */
  async settle(refs: readonly ReservationRef[]): Promise<SettleResult[]> {
    if (refs.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as ScriptCommands & { exec(): Promise<Array<[Error | null, unknown]> | null> };
    for (const ref of refs) {
      const keys = settleKeys(ref);
      void pipeline.rtbSettle(keys.length, ...keys);
    }
    const replies = await this.redisCall(() => pipeline.exec(), 'settling reservations');
    return (replies ?? []).map(([err, reply]) => {
      if (err) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `settle script failed: ${err.message}`, { cause: err });
      return parseSettleReply(reply);
    });
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

  private async redisCall<R>(fn: () => Promise<R>, what: string): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `${what} in Redis failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
