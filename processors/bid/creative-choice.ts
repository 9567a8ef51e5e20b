/**
 * Which creative a campaign shows in an impression: one whose size the slot accepts (banner w/h or any
 * banner.format entry), chosen by a hash of the request, imp and campaign ids. Hashing rather than a
 * random draw keeps the choice reproducible on replay and spreads creatives evenly across requests.
 */
import type { Creative } from '../domain/campaign.js';

/** 32-bit FNV-1a over UTF-16 code units: tiny, fast, and good enough to spread ids. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A fitting creative chosen by `seed`, or null when none of the campaign's creatives fits the slot.
 * `seed` may be a function: it is only built when there is a choice to make (this runs per campaign
 * per imp, and most campaigns have one creative per size).
 */
export function chooseCreative(creatives: readonly Creative[], sizes: readonly { w: number; h: number }[], seed: string | (() => string)): Creative | null {
  const fitting = creatives.filter((c) => sizes.some((s) => s.w === c.width && s.h === c.height));
  if (fitting.length <= 1) return fitting[0] ?? null;
  return fitting[fnv1a32(typeof seed === 'string' ? seed : seed()) % fitting.length] ?? null;
}
