/**
 * Targeting semantics. Rule values and request attributes are normalised to the same lower-case keys,
 * and the request side is expanded to every key a rule could be written as (a domain's parent domains,
 * a category's parent), so "does a rule match" is always a set lookup. The campaign index relies on
 * this: it looks up the same expanded keys in its inverted index.
 *
 * - country: lower-case ISO alpha-3; alpha-2 on either side goes through domain/country-codes.ts.
 * - deviceType: OpenRTB `devicetype` integers become names (DEVICE_TYPE_BY_OPENRTB below).
 * - domain: rule 'example.com' matches 'example.com' and every subdomain ('news.example.com').
 * - category: rule 'IAB1' matches 'IAB1' and its children ('IAB1-2'); 'IAB1-2' matches only itself.
 * - size: 'WxH' from the imp's banner w/h and every banner.format entry.
 * - interest / segment: from the enriched profile; no profile = no values.
 */
import type { DeviceType, Targeting, TargetingDimension } from '../domain/campaign.js';
import { DEVICE_TYPES, TARGETING_DIMENSIONS } from '../domain/campaign.js';
import { normalizeCountry } from '../domain/country-codes.js';
import type { BidRequestView, ImpView, UserProfile } from './types.js';

/** OpenRTB 2.6 `devicetype` (AdCOM list: Device Types) to targeting names. */
export const DEVICE_TYPE_BY_OPENRTB: Readonly<Record<number, DeviceType>> = {
  1: 'mobile', // Mobile/Tablet (legacy "any handheld")
  2: 'desktop', // Personal Computer
  3: 'ctv', // Connected TV
  4: 'mobile', // Phone
  5: 'tablet',
  6: 'connected-device',
  7: 'set-top-box',
};

/** The expanded, normalised keys of one request (for one imp) per dimension. */
export type RequestAttributes = { readonly [D in TargetingDimension]: ReadonlySet<string> };

/** A campaign's rules, normalised; only dimensions with at least one rule are present. */
export type NormalizedTargeting = ReadonlyMap<TargetingDimension, ReadonlySet<string>>;

export function normalizeDeviceType(v: number | string): DeviceType | null {
  if (typeof v === 'number') return DEVICE_TYPE_BY_OPENRTB[v] ?? null;
  const s = v.trim().toLowerCase();
  if (/^\d+$/.test(s)) return DEVICE_TYPE_BY_OPENRTB[Number(s)] ?? null;
  return (DEVICE_TYPES as readonly string[]).includes(s) ? (s as DeviceType) : null;
}

/** Lower-case host without scheme, path, port or trailing dot; null when nothing is left. */
export function normalizeDomain(v: string): string | null {
  let s = v.trim().toLowerCase();
  if (s.includes('/')) {
    try {
      s = new URL(s.includes('://') ? s : `http://${s}`).hostname;
    } catch {
      return null;
    }
  }
  s = s.replace(/:\d+$/, '').replace(/\.$/, '');
  return s === '' ? null : s;
}

/** 'a.b.example.com' → ['a.b.example.com', 'b.example.com', 'example.com', 'com']. */
export function domainKeys(host: string): string[] {
  const labels = host.split('.');
  return labels.map((_, i) => labels.slice(i).join('.'));
}

/** 'IAB1-2' → ['iab1-2', 'iab1']; a code without a parent is just itself. */
export function categoryKeys(cat: string): string[] {
  const c = cat.trim().toLowerCase();
  const dash = c.indexOf('-');
  return dash > 0 ? [c, c.slice(0, dash)] : [c];
}

/** Every size an imp accepts: banner w/h plus banner.format[], deduplicated, in that order. */
export function impSizes(imp: ImpView): { w: number; h: number }[] {
  const all = [...(imp.w && imp.h ? [{ w: imp.w, h: imp.h }] : []), ...(imp.formats ?? [])];
  const out = new Map<string, { w: number; h: number }>();
  for (const s of all) if (s.w > 0 && s.h > 0 && !out.has(`${s.w}x${s.h}`)) out.set(`${s.w}x${s.h}`, { w: s.w, h: s.h });
  return [...out.values()];
}

/** The key a rule value is stored under, or null when it can never match (validation rejects those). */
export function normalizeRule(dim: TargetingDimension, value: string): string | null {
  const v = value.trim().toLowerCase();
  switch (dim) {
    case 'country':
      return normalizeCountry(v);
    case 'deviceType':
      return normalizeDeviceType(v);
    case 'domain':
      return normalizeDomain(v);
    case 'size': {
      const m = /^(\d+)x(\d+)$/.exec(v);
      return m ? `${Number(m[1])}x${Number(m[2])}` : null;
    }
    default:
      return v === '' ? null : v;
  }
}

export function normalizeTargeting(t: Targeting): NormalizedTargeting {
  const out = new Map<TargetingDimension, ReadonlySet<string>>();
  for (const dim of TARGETING_DIMENSIONS) {
    const rules = t[dim];
    if (!rules || rules.length === 0) continue;
    // A list whose every value is unusable still constrains the dimension: it matches nobody,
    // rather than silently widening the campaign to everyone.
    out.set(dim, new Set(rules.map((r) => normalizeRule(dim, r)).filter((r): r is string => r !== null)));
  }
  return out;
}

function lowerSet(values: readonly string[] | undefined): Set<string> {
  return new Set((values ?? []).map((v) => v.trim().toLowerCase()).filter((v) => v !== ''));
}

/** The normalised, expanded attributes of `request` as seen by one of its imps. */
export function requestAttributes(request: BidRequestView, imp: ImpView, profile: UserProfile | null): RequestAttributes {
  const country = request.country ? normalizeCountry(request.country) : null;
  const device = request.deviceType === undefined || request.deviceType === null ? null : normalizeDeviceType(request.deviceType);
  const host = request.domain ? normalizeDomain(request.domain) : null;
  return {
    country: new Set(country ? [country] : []),
    deviceType: new Set(device ? [device] : []),
    interest: lowerSet(profile?.interests),
    segment: lowerSet(profile?.segments),
    domain: new Set(host ? domainKeys(host) : []),
    category: new Set((request.categories ?? []).flatMap(categoryKeys)),
    size: new Set(impSizes(imp).map((s) => `${s.w}x${s.h}`)),
  };
}

/** Types AND together; within a type any one rule suffices; a type without rules matches everyone. */
export function matchesTargeting(t: NormalizedTargeting, attrs: RequestAttributes): boolean {
  for (const [dim, rules] of t) {
    const values = attrs[dim];
    let hit = false;
    for (const v of values) {
      if (rules.has(v)) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  return true;
}
