/**
 * Which of a campaign's creatives may serve in an imp: the format fits the slot, and no block list of
 * the request or the imp excludes it. Pure; decide.ts asks it per candidate campaign and imp.
 *
 * Format (OpenRTB 2.6 bid.mtype): a banner creative (video null) needs imp.banner and a size the slot
 * accepts (banner w/h or a banner.format entry); a video creative needs imp.video, and then
 *   mimes     one of the creative's media types among imp.video.mimes (case-insensitive; [] = any),
 *   duration  within [minduration, maxduration] where given,
 *   protocols one in common when the imp lists protocols,
 *   size      equal to imp.video w x h when the imp gives both.
 * An imp with both banner and video may take either.
 *
 * Block lists, per creative:
 *   bcat   the creative's cat, expanded to parent categories ('IAB1-2' is blocked by 'IAB1'), meets bcat;
 *          when bcat is non-empty and written in another taxonomy (cattax) than the creative's, the
 *          creative counts as blocked: we cannot show it is not in a blocked category;
 *   badv   an adomain equals a badv entry or is a subdomain of one (case-insensitive);
 *   bapp   the creative's app bundle is in bapp (case-insensitive);
 *   battr  the creative's attr meets the battr of the imp object it would serve in (banner or video);
 *   btype  a banner creative, and imp.banner.btype lists our banner type (domain/campaign.ts OUR_BANNER_TYPE).
 */
import { DEFAULT_CATTAX, OUR_BANNER_TYPE } from '../domain/campaign.js';
import type { Creative } from '../domain/campaign.js';
import { categoryKeys, domainKeys, normalizeDomain } from './targeting.js';
import type { BidRequestView, ImpView } from './types.js';

export const MTYPE_BANNER = 1;
export const MTYPE_VIDEO = 2;

/** The request-level block lists, normalised once per request. */
export interface RequestBlocks {
  readonly bcat: ReadonlySet<string>;
  readonly cattax: number;
  readonly badv: ReadonlySet<string>;
  readonly bapp: ReadonlySet<string>;
}

const lower = (values: readonly string[] | undefined): Set<string> => new Set((values ?? []).map((v) => v.trim().toLowerCase()).filter((v) => v !== ''));

export function requestBlocks(request: BidRequestView): RequestBlocks {
  const badv = new Set<string>();
  for (const d of request.badv ?? []) {
    const host = normalizeDomain(d);
    if (host !== null) badv.add(host);
  }
  return { bcat: lower(request.bcat), cattax: request.cattax ?? DEFAULT_CATTAX, badv, bapp: lower(request.bapp) };
}

/** An imp view without banner/video fields (built before video existed) is a banner imp. */
export function impTakesBanner(imp: ImpView): boolean {
  return imp.banner !== undefined ? imp.banner !== null : !imp.video;
}

/** The creative's mtype when its format fits the imp, else null. `sizes` is impSizes(imp), computed once per imp. */
export function fitMtype(c: Creative, imp: ImpView, sizes: readonly { w: number; h: number }[]): number | null {
  const v = c.video ?? null;
  if (v === null) {
    return impTakesBanner(imp) && sizes.some((s) => s.w === c.width && s.h === c.height) ? MTYPE_BANNER : null;
  }
  const iv = imp.video;
  if (!iv) return null;
  if (iv.mimes.length > 0) {
    const accepted = lower(iv.mimes);
    if (!v.mimes.some((m) => accepted.has(m.toLowerCase()))) return null;
  }
  if (iv.minDurationSec !== null && v.durationSec < iv.minDurationSec) return null;
  if (iv.maxDurationSec !== null && iv.maxDurationSec > 0 && v.durationSec > iv.maxDurationSec) return null;
  if (iv.protocols.length > 0 && !v.protocols.some((p) => iv.protocols.includes(p))) return null;
  if (iv.w && iv.h && (iv.w !== c.width || iv.h !== c.height)) return null;
  return MTYPE_VIDEO;
}

/** True when a block list of the request or of the imp (for the creative's format `mtype`) excludes the creative. */
export function isBlocked(c: Creative, mtype: number, imp: ImpView, blocks: RequestBlocks): boolean {
  if (blocks.bcat.size > 0) {
    if ((c.cattax ?? DEFAULT_CATTAX) !== blocks.cattax) return true;
    for (const cat of c.cat ?? []) for (const k of categoryKeys(cat)) if (blocks.bcat.has(k)) return true;
  }
  if (blocks.badv.size > 0) {
    for (const d of c.adomain) {
      const host = normalizeDomain(d);
      if (host !== null && domainKeys(host).some((k) => blocks.badv.has(k))) return true;
    }
  }
  if (blocks.bapp.size > 0 && c.bundle && blocks.bapp.has(c.bundle.trim().toLowerCase())) return true;
  const battr = mtype === MTYPE_VIDEO ? imp.video?.battr : imp.banner?.battr;
  if (battr && battr.length > 0 && (c.attr ?? []).some((a) => battr.includes(a))) return true;
  if (mtype === MTYPE_BANNER && (imp.banner?.btype ?? []).includes(OUR_BANNER_TYPE)) return true;
  return false;
}
