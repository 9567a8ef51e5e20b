/** Maps the pipeline's (enriched) BidRequest record onto the bidder's plain view of it. */
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidRequestView, UserProfile } from './types.js';

export function toRequestView(r: BidRequest): BidRequestView {
  return {
    id: r.id,
    imps: r.imp.map((imp) => ({
      id: imp.id,
      bidFloorMicros: imp.bidfloorMicros,
      w: imp.banner?.w ?? imp.video?.w ?? null,
      h: imp.banner?.h ?? imp.video?.h ?? null,
      formats: imp.banner?.format ?? [],
    })),
    country: r.device?.geo?.country ?? null,
    deviceType: r.device?.devicetype ?? null,
    domain: r.site?.domain ?? r.app?.domain ?? r.app?.bundle ?? null,
    categories: r.site?.cat ?? r.app?.cat ?? [],
    userId: userIdOf(r),
  };
}

export function userIdOf(r: BidRequest): string | null {
  return r.user?.id ?? r.user?.buyeruid ?? null;
}

/** What targeting sees of the user: the exchange's segments/keywords plus the enriched profile's. */
export function toProfile(r: BidRequest): UserProfile | null {
  const interests = new Set(r.user?.interests ?? []);
  const segments = new Set(r.user?.segments ?? []);
  if (r.profile) {
    for (const name of Object.keys(r.profile.interests)) interests.add(name);
    for (const s of r.profile.segments) segments.add(s);
  }
  if (interests.size === 0 && segments.size === 0) return null;
  return { interests: [...interests], segments: [...segments] };
}
