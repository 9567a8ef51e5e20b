/**
 * How user profiles live in Redis: one string key per user, `rtb:profile:<userId>` (redis-keys.ts
 * profileKey), holding JSON `{"interests":{"sports":80,...},"segments":["s1",...],"engagement":42}`
 * (scores 0..100). Written by the seed script (or a DMP loader), read by the enrich processor with one
 * MGET per batch.
 */
import type { UserProfileRecord } from '../../schemas/bid-request.js';

export function encodeProfile(p: UserProfileRecord): string {
  return JSON.stringify(p);
}

/** Parses a stored profile; returns null for anything that is not a well-formed profile (never throws). */
export function decodeProfile(raw: string | null): UserProfileRecord | null {
  if (raw === null) return null;
  try {
    const o = JSON.parse(raw) as Partial<UserProfileRecord>;
    if (typeof o !== 'object' || o === null) return null;
    const interests: Record<string, number> = {};
    for (const [k, v] of Object.entries(o.interests ?? {})) if (Number.isInteger(v) && v >= 0 && v <= 100) interests[k] = v;
    const segments = Array.isArray(o.segments) ? o.segments.filter((s): s is string => typeof s === 'string') : [];
    const engagement = Number.isInteger(o.engagement) && (o.engagement as number) >= 0 && (o.engagement as number) <= 100 ? (o.engagement as number) : 0;
    return { interests, segments, engagement };
  } catch {
    return null;
  }
}
