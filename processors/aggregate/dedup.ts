/**
 * Removes duplicate notices and auction outcomes where an event id is first seen. Redis remembers each event id with the
 * position (topic/partition/offset) of the record that first carried it. A later record with the same
 * id elsewhere is a duplicate; the SAME record seen again (its batch re-processed after a crash, or a
 * replay) is recognised as the first sighting and counted again, so re-processing never loses a count.
 * One pipelined round trip per batch.
 */
import type { Redis } from 'ioredis';
import { PipelineError } from '../../schemas/errors.js';

export const FIRST_SEEN_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
`;

export const seenKey = (eventId: string): string => `rtb:seen:${eventId}`;

export interface Sighting {
  readonly eventId: string;
  /** `topic/partition/offset` of the record carrying it. */
  readonly position: string;
  /** How long this id is remembered, when not the default given to redisFirstSeen. */
  readonly ttlMs?: number;
}

/** For each sighting, true when it is the first (or the same first record again), false for a duplicate. */
export type FirstSeen = (sightings: readonly Sighting[]) => Promise<boolean[]>;

export function redisFirstSeen(redis: Redis, ttlMs: number): FirstSeen {
  redis.defineCommand('rtbFirstSeen', { numberOfKeys: 1, lua: FIRST_SEEN_SCRIPT });
  return async (sightings) => {
    if (sightings.length === 0) return [];
    const pipe = redis.pipeline();
    for (const s of sightings) (pipe as unknown as { rtbFirstSeen(k: string, v: string, ttl: string): void }).rtbFirstSeen(seenKey(s.eventId), s.position, String(s.ttlMs ?? ttlMs));
    const replies = await pipe.exec().catch((err: unknown) => {
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `event de-duplication in Redis failed: ${(err as Error).message}`, { cause: err });
    });
    return (replies ?? []).map(([err, v]) => {
      if (err) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `event de-duplication in Redis failed: ${err.message}`, { cause: err });
      return v === 1;
    });
  };
}
