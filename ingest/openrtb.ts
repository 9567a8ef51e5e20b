/**
 * OpenRTB 2.x bid request JSON -> the pipeline's BidRequest record. Pure: validates every mapped field
 * (throwing InvalidFieldError naming it) and keeps every unmapped field as JSON in the `ext` of its object
 * (objects without an `ext` of their own, regs and pmp, are kept whole in their parent's when they have
 * unmapped fields). It also takes the request's privacy decision (processors/domain/privacy.ts) from its
 * regs, device and user signals, so every record the edge writes says whether personal data may be used.
 *
 * OpenRTB 2.6 with the 2.5 forms still in use: regs.ext.gdpr, regs.ext.us_privacy and user.ext.consent
 * are read when the 2.6 field (regs.gdpr, regs.us_privacy, user.consent) is absent. A consent string that
 * cannot be decoded is not refused: it means no consent (privacy.ts); a consent field of the wrong type is.
 */
import type { App, Banner, BidRequest, Deal, Device, Geo, Imp, Pmp, Regs, Site, User, Video } from '../schemas/bid-request.js';
import { decidePrivacy } from '../processors/domain/privacy.js';
import { isCurrencyCode } from '../processors/domain/currency-codes.js';
import {
  InvalidFieldError, at, extOf, intArray, object, optArray, optFlag, optInt, optObject, optPriceMicros, optString, reqString, stringArray,
  type Json,
} from './fields.js';

export interface Envelope {
  receivedAtMs: number;
  ingestNodeId: string;
  openrtbVersion: string | null;
  /** The sending exchange's own auction types (`at` >= 500 -> 1 | 2; exchanges.ts); absent or unlisted: second price. */
  auctionTypes?: Readonly<Record<string, 1 | 2>>;
  /** Our IAB GVL vendor id (INGEST_GVL_VENDOR_ID): GDPR consent then needs it too; null/absent = purposes only. */
  gvlVendorId?: number | null;
}

const MAX_DIM = 100_000;
/** Avro `int`: enumerated codes (500+ exchange-specific ones included) must fit. */
const MAX_INT = 2_147_483_647;
/** OpenRTB 2.6 devicetype (AdCOM Device Types): 1..8, 8 = out-of-home. */
const MAX_DEVICE_TYPE = 8;
/** OpenRTB: codes from 500 up are exchange-specific (auction types, category taxonomies). */
const EXCHANGE_SPECIFIC = 500;
/** OpenRTB/AdCOM category taxonomies: 1 IAB 1.0 ... 7 IAB Content 3.0. */
const CATTAX = [1, 2, 3, 4, 5, 6, 7];
/** Auction types of a request (1 first, 2 second price) and of a deal (3: the bidfloor is the agreed deal price). */
const REQUEST_AT = [1, 2];
const DEAL_AT = [1, 2, 3];
const known = (...keys: string[]): ReadonlySet<string> => new Set(keys);
const TOP = ['id', 'imp', 'site', 'app', 'device', 'user', 'tmax', 'at', 'cur', 'bcat', 'badv', 'test', 'cattax', 'bapp'];
// native is recorded as a flag only: its object stays in ext.
const IMP = ['id', 'banner', 'video', 'bidfloor', 'bidfloorcur', 'tagid', 'secure'];
const K = {
  top: known(...TOP, 'regs'),
  /** The top-level keys mapped when regs is kept whole in ext. */
  topKeepingRegs: known(...TOP),
  imp: known(...IMP, 'pmp'),
  impKeepingPmp: known(...IMP),
  banner: known('w', 'h', 'format', 'btype', 'battr'),
  video: known('mimes', 'w', 'h', 'minduration', 'maxduration', 'protocols', 'battr'),
  site: known('id', 'domain', 'page', 'cat', 'publisher'),
  app: known('id', 'bundle', 'domain', 'cat', 'publisher'),
  device: known('ua', 'ip', 'devicetype', 'os', 'geo', 'lmt', 'dnt'),
  geo: known('country', 'region', 'city'),
  pmp: known('private_auction', 'deals'),
  deal: known('id', 'bidfloor', 'bidfloorcur', 'at', 'wseat', 'wadomain'),
  regs: known('coppa', 'gdpr', 'us_privacy', 'gpp', 'gpp_sid'),
};

/** An ISO 4217 code (any case; upper-cased), or null when absent. `field`: the name errors give (default path.key). */
function currencyCode(o: Json, key: string, path: string, field = at(path, key)): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !/^[A-Za-z]{3}$/.test(v)) throw new InvalidFieldError(field, 'must be a 3-letter ISO-4217 code');
  const code = v.toUpperCase();
  if (!isCurrencyCode(code)) throw new InvalidFieldError(field, `is not a known ISO-4217 currency code (${JSON.stringify(v)})`);
  return code;
}

/** An integer that is one of `allowed` or an exchange-specific value (>= 500). */
function enumOrExchangeSpecific(o: Json, key: string, path: string, allowed: readonly number[], what: string): number | null {
  const v = optInt(o, key, path, Number.MIN_SAFE_INTEGER, MAX_INT);
  if (v !== null && !allowed.includes(v) && v < EXCHANGE_SPECIFIC) throw new InvalidFieldError(at(path, key), `must be ${what} or an exchange-specific value >= ${EXCHANGE_SPECIFIC}`);
  return v;
}

/**
 * The auction type applied: 1 -> first price, 2 or absent -> second price, an exchange-specific type
 * (>= 500) -> what the exchange's configuration says (exchanges.ts `auctionTypes`), else second price.
 */
export function appliedAuctionType(requested: number | null, auctionTypes: Readonly<Record<string, 1 | 2>> = {}): 1 | 2 {
  if (requested === 1) return 1;
  if (requested === null || requested < EXCHANGE_SPECIFIC) return 2;
  return auctionTypes[String(requested)] ?? 2;
}

function banner(o: Json, path: string): Banner {
  return {
    w: optInt(o, 'w', path, 0, MAX_DIM),
    h: optInt(o, 'h', path, 0, MAX_DIM),
    format: optArray(o, 'format', path).map((f, i) => {
      const fp = at(at(path, 'format'), i);
      const fo = object(f, fp);
      const w = optInt(fo, 'w', fp, 0, MAX_DIM);
      const h = optInt(fo, 'h', fp, 0, MAX_DIM);
      if (w === null || h === null) throw new InvalidFieldError(fp, 'must have integer w and h');
      return { w, h };
    }),
    ext: extOf(o, K.banner),
    btype: intArray(o, 'btype', path, 1, MAX_INT),
    battr: intArray(o, 'battr', path, 1, MAX_INT),
  };
}

/** Seconds in a video duration bound. */
const MAX_DURATION = 86_400;

function video(o: Json, path: string): Video {
  const minduration = optInt(o, 'minduration', path, 0, MAX_DURATION);
  const maxduration = optInt(o, 'maxduration', path, 0, MAX_DURATION);
  if (minduration !== null && maxduration !== null && maxduration < minduration) {
    throw new InvalidFieldError(at(path, 'maxduration'), `must not be less than minduration (${minduration})`);
  }
  return {
    mimes: stringArray(o, 'mimes', path), w: optInt(o, 'w', path, 0, MAX_DIM), h: optInt(o, 'h', path, 0, MAX_DIM), ext: extOf(o, K.video),
    minduration, maxduration, protocols: intArray(o, 'protocols', path, 1, MAX_INT), battr: intArray(o, 'battr', path, 1, MAX_INT),
  };
}

function deal(v: unknown, path: string): Deal {
  const o = object(v, path);
  return {
    id: reqString(o, 'id', path, 256),
    bidfloorMicros: optPriceMicros(o, 'bidfloor', path),
    bidfloorcur: currencyCode(o, 'bidfloorcur', path) ?? 'USD',
    at: enumOrExchangeSpecific(o, 'at', path, DEAL_AT, '1, 2 or 3'),
    wseat: stringArray(o, 'wseat', path),
    wadomain: stringArray(o, 'wadomain', path),
  };
}

function pmp(o: Json, path: string): Pmp {
  return {
    privateAuction: optFlag(o, 'private_auction', path) ?? false,
    deals: optArray(o, 'deals', path).map((d, i) => deal(d, at(at(path, 'deals'), i))),
  };
}

/** pmp and its deals have no ext of their own: with any unmapped field, the whole pmp object stays in the imp's ext. */
function pmpHasUnmapped(o: Json): boolean {
  if (extOf(o, K.pmp) !== null) return true;
  const deals = o.deals;
  return Array.isArray(deals) && deals.some((d) => extOf(d as Json, K.deal) !== null);
}

function imp(v: unknown, path: string): Imp {
  const o = object(v, path);
  const b = optObject(o, 'banner', path);
  const vid = optObject(o, 'video', path);
  const n = optObject(o, 'native', path);
  const p = optObject(o, 'pmp', path);
  // Validated before pmpHasUnmapped looks into its deals.
  const mappedPmp = p && pmp(p, at(path, 'pmp'));
  return {
    id: reqString(o, 'id', path, 128),
    banner: b && banner(b, at(path, 'banner')),
    video: vid && video(vid, at(path, 'video')),
    bidfloorMicros: optPriceMicros(o, 'bidfloor', path),
    bidfloorcur: currencyCode(o, 'bidfloorcur', path) ?? 'USD',
    tagid: optString(o, 'tagid', path),
    secure: optFlag(o, 'secure', path),
    ext: p && pmpHasUnmapped(p) ? extOf(o, K.impKeepingPmp) : extOf(o, K.imp),
    native: n !== null,
    pmp: mappedPmp,
  };
}

function publisherId(o: Json, path: string): string | null {
  const p = optObject(o, 'publisher', path);
  return p && optString(p, 'id', at(path, 'publisher'));
}

function site(o: Json, path: string): Site {
  return {
    id: optString(o, 'id', path), domain: optString(o, 'domain', path), page: optString(o, 'page', path),
    cat: stringArray(o, 'cat', path), publisherId: publisherId(o, path), ext: extOf(o, K.site),
  };
}

function app(o: Json, path: string): App {
  return {
    id: optString(o, 'id', path), bundle: optString(o, 'bundle', path), domain: optString(o, 'domain', path),
    cat: stringArray(o, 'cat', path), publisherId: publisherId(o, path), ext: extOf(o, K.app),
  };
}

function geo(o: Json, path: string): Geo {
  const country = optString(o, 'country', path, 3);
  if (country !== null && !/^[A-Za-z]{2,3}$/.test(country)) throw new InvalidFieldError(at(path, 'country'), 'must be an ISO-3166 alpha-3 (or alpha-2) code');
  return { country: country?.toUpperCase() ?? null, region: optString(o, 'region', path), city: optString(o, 'city', path), ext: extOf(o, K.geo) };
}

function device(o: Json, path: string): Device {
  const g = optObject(o, 'geo', path);
  return {
    ua: optString(o, 'ua', path), ip: optString(o, 'ip', path, 64), devicetype: optInt(o, 'devicetype', path, 1, MAX_DEVICE_TYPE),
    os: optString(o, 'os', path), geo: g && geo(g, at(path, 'geo')), ext: extOf(o, K.device),
    lmt: optFlag(o, 'lmt', path), dnt: optFlag(o, 'dnt', path),
  };
}

function user(o: Json, path: string): User {
  const segments: string[] = [];
  optArray(o, 'data', path).forEach((d, i) => {
    const dp = at(at(path, 'data'), i);
    optArray(object(d, dp), 'segment', dp).forEach((s, j) => {
      const id = optString(object(s, at(at(dp, 'segment'), j)), 'id', at(at(dp, 'segment'), j));
      if (id !== null) segments.push(id);
    });
  });
  const keywords = optString(o, 'keywords', path);
  const ext = extObject(o);
  return {
    id: optString(o, 'id', path, 256), buyeruid: optString(o, 'buyeruid', path, 256), segments,
    interests: keywords ? keywords.split(',').map((k) => k.trim()).filter(Boolean) : [],
    // data[] is kept whole in ext: segments carry names and values we do not map.
    ext: extOf(o, known('id', 'buyeruid', 'keywords', 'consent')),
    // 2.6 user.consent, else the 2.5 form user.ext.consent (ext is kept whole as well).
    consent: optString(o, 'consent', path) ?? (ext && optString(ext, 'consent', at(path, 'ext'))),
  };
}

/**
 * An object's `ext` when it is an object, else null: the 2.5 forms are read from it, but an ext of another
 * shape is the exchange's business (kept as sent), not a reason to refuse the request.
 */
function extObject(o: Json): Json | null {
  const v = o.ext;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
}

function regs(o: Json, path: string): Regs {
  const ext = extObject(o);
  const extPath = at(path, 'ext');
  return {
    coppa: optFlag(o, 'coppa', path) ?? false,
    // 2.6 fields win; the 2.5 forms under regs.ext are read only in their absence.
    gdpr: optFlag(o, 'gdpr', path) ?? (ext && optFlag(ext, 'gdpr', extPath)),
    usPrivacy: optString(o, 'us_privacy', path, 64) ?? (ext && optString(ext, 'us_privacy', extPath, 64)),
    gpp: optString(o, 'gpp', path),
    gppSid: intArray(o, 'gpp_sid', path, 1, MAX_INT),
  };
}

/** Each imp id once: bids and notices name an impression by it. */
function checkDistinctImpIds(imps: readonly Imp[]): void {
  const first = new Map<string, number>();
  imps.forEach((imp, i) => {
    const earlier = first.get(imp.id);
    if (earlier !== undefined) throw new InvalidFieldError(at(at('imp', i), 'id'), `duplicates imp[${earlier}].id`);
    first.set(imp.id, i);
  });
}

/** Parses a decoded OpenRTB 2.x JSON body. Throws InvalidFieldError naming the first offending field. */
export function parseOpenRtb(body: unknown, env: Envelope): BidRequest {
  const o = object(body, '');
  const id = reqString(o, 'id', '', 128);
  const imps = optArray(o, 'imp', '', 64);
  if (imps.length === 0) throw new InvalidFieldError('imp', 'must contain at least one impression');
  const s = optObject(o, 'site', '');
  const a = optObject(o, 'app', '');
  if (s && a) throw new InvalidFieldError('site', 'and app must not both be present');
  const d = optObject(o, 'device', '');
  const u = optObject(o, 'user', '');
  const r = optObject(o, 'regs', '');
  const requestedAt = enumOrExchangeSpecific(o, 'at', '', REQUEST_AT, '1 (first price), 2 (second price)');
  const mappedImps = imps.map((v, i) => imp(v, at('imp', i)));
  checkDistinctImpIds(mappedImps);
  const mappedDevice = d && device(d, 'device');
  const mappedUser = u && user(u, 'user');
  const mappedRegs = r && regs(r, 'regs');
  const cur = stringArray(o, 'cur', '').map((code, i) => currencyCode({ code }, 'code', '', at('cur', i))!);
  const privacy = decidePrivacy({
    coppa: mappedRegs?.coppa ?? false, gdpr: mappedRegs?.gdpr ?? null, consent: mappedUser?.consent ?? null,
    usPrivacy: mappedRegs?.usPrivacy ?? null, gpp: mappedRegs?.gpp ?? null, gppSid: mappedRegs?.gppSid ?? [],
    lmt: mappedDevice?.lmt ?? null, dnt: mappedDevice?.dnt ?? null,
  }, { vendorId: env.gvlVendorId ?? null });
  return {
    id,
    imp: mappedImps,
    site: s && site(s, 'site'),
    app: a && app(a, 'app'),
    device: mappedDevice,
    user: mappedUser,
    tmax: optInt(o, 'tmax', '', 1, 60_000),
    at: appliedAuctionType(requestedAt, env.auctionTypes),
    cur,
    bcat: stringArray(o, 'bcat', ''),
    badv: stringArray(o, 'badv', ''),
    test: optFlag(o, 'test', '') ?? false,
    // regs has no ext of its own: with unmapped fields (regs.ext, ...) it stays whole in the request's.
    ext: extOf(o, r && extOf(r, K.regs) !== null ? K.topKeepingRegs : K.top),
    receivedAtMs: env.receivedAtMs,
    ingestNodeId: env.ingestNodeId,
    sourceFormat: 'OPENRTB',
    openrtbVersion: env.openrtbVersion,
    enrichment: 'NOT_ATTEMPTED',
    profile: null,
    atRequested: requestedAt ?? 0,
    cattax: enumOrExchangeSpecific(o, 'cattax', '', CATTAX, '1..7') ?? 1,
    bapp: stringArray(o, 'bapp', ''),
    regs: mappedRegs,
    privacy,
  };
}
