/**
 * Which creative a campaign shows in an impression: one whose size the slot accepts (banner w/h or any
 * banner.format entry), chosen by a hash of the request, imp and campaign ids. Hashing rather than a
 * random draw keeps the choice reproducible on replay and spreads creatives evenly across requests.
 */
import type { Creative } from '../campaigns/types.js';

/** 32-bit FNV-1a over UTF-16 code units: tiny, fast, and good enough to spread ids. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A fitting creative chosen by `seed`, or null when none of the campaign's creatives fits the slot. */
export function chooseCreative(creatives: readonly Creative[], sizes: readonly { w: number; h: number }[], seed: string): Creative | null {
  const accepted = new Set(sizes.map((s) => `${s.w}x${s.h}`));
  const fitting = creatives.filter((c) => accepted.has(`${c.width}x${c.height}`));
  if (fitting.length === 0) return null;
  return fitting[fnv1a32(seed) % fitting.length] ?? null;
}
