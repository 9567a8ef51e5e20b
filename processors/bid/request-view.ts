/**
 * Maps the pipeline's (enriched) BidRequest record onto the bidder's plain view of it.
 *
 * Privacy: when the edge decided that personal data may not be used (privacy.personalData false; README
 * "Privacy"), the view has no user id and `toProfile` returns nothing: no enriched profile, and none of
 * the request's own interests or segments, so interest/segment rules cannot match and a frequency-capped
 * campaign does not bid (its cap cannot be enforced without counting the user). A request without a
 * privacy decision (recorded before the edge made one) is unrestricted.
 */
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidRequestView, UserProfile } from './types.js';

export function toRequestView(r: BidRequest): BidRequestView {
  return {
    id: r.id,
    imps: r.imp.map((imp) => ({
      id: imp.id,
      bidFloorMicros: imp.bidfloorMicros,
      bidFloorCur: imp.bidfloorcur,
      w: imp.banner?.w ?? imp.video?.w ?? null,
      h: imp.banner?.h ?? imp.video?.h ?? null,
      formats: imp.banner?.format ?? [],
      banner: imp.banner ? { btype: imp.banner.btype ?? [], battr: imp.banner.battr ?? [] } : null,
      video: imp.video
        ? {
            mimes: imp.video.mimes, minDurationSec: imp.video.minduration ?? null, maxDurationSec: imp.video.maxduration ?? null,
            protocols: imp.video.protocols ?? [], w: imp.video.w, h: imp.video.h, battr: imp.video.battr ?? [],
          }
        : null,
      native: imp.native ?? false,
      pmp: imp.pmp
        ? {
            privateAuction: imp.pmp.privateAuction,
            deals: imp.pmp.deals.map((d) => ({ id: d.id, bidFloorMicros: d.bidfloorMicros, bidFloorCur: d.bidfloorcur, at: d.at ?? null, wseat: d.wseat, wadomain: d.wadomain })),
          }
        : null,
    })),
    country: r.device?.geo?.country ?? null,
    deviceType: r.device?.devicetype ?? null,
    domain: r.site?.domain ?? r.app?.domain ?? r.app?.bundle ?? null,
    categories: r.site?.cat ?? r.app?.cat ?? [],
    userId: personalDataAllowed(r) ? userIdOf(r) : null,
    bcat: r.bcat,
    cattax: r.cattax ?? 1,
    badv: r.badv,
    bapp: r.bapp ?? [],
    cur: r.cur,
  };
}

/** The edge's privacy decision; a record without one is unrestricted. */
export function personalDataAllowed(r: BidRequest): boolean {
  return r.privacy?.personalData ?? true;
}

/** The privacy basis recorded on the bid set and outcome ('unrestricted' for a request without a decision). */
export function privacyBasisOf(r: BidRequest): string {
  return r.privacy?.basis ?? 'unrestricted';
}

export function userIdOf(r: BidRequest): string | null {
  return r.user?.id ?? r.user?.buyeruid ?? null;
}

/** What targeting sees of the user: the exchange's segments/keywords plus the enriched profile's; nothing without personal data. */
export function toProfile(r: BidRequest): UserProfile | null {
  if (!personalDataAllowed(r)) return null;
  const interests = new Set(r.user?.interests ?? []);
  const segments = new Set(r.user?.segments ?? []);
  if (r.profile) {
    for (const name of Object.keys(r.profile.interests)) interests.add(name);
    for (const s of r.profile.segments) segments.add(s);
  }
  if (interests.size === 0 && segments.size === 0) return null;
  return { interests: [...interests], segments: [...segments] };
}
