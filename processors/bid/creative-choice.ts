/**
 * Which creative a campaign shows in an impression: one of those allowed there (creative-fit.ts: the
 * format fits and no block list excludes it), chosen by a hash of the request, imp and campaign ids.
 * Hashing rather than a random draw keeps the choice reproducible on replay and spreads creatives evenly
 * across requests.
 */

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
 * One of `allowed` chosen by `seed`, or null when it is empty. `seed` may be a function: it is only built
 * when there is a choice to make (this runs per campaign per imp, and most campaigns have one creative per size).
 */
export function chooseCreative<T>(allowed: readonly T[], seed: string | (() => string)): T | null {
  if (allowed.length <= 1) return allowed[0] ?? null;
  return allowed[fnv1a32(typeof seed === 'string' ? seed : seed()) % allowed.length] ?? null;
}
