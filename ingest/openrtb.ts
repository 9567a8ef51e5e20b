/**
 * OpenRTB 2.x bid request JSON -> the pipeline's BidRequest record. Pure: validates every mapped field
 * (throwing InvalidFieldError naming it) and keeps every unmapped field as JSON in the `ext` of its object.
 */
import type { App, Banner, BidRequest, Device, Geo, Imp, Site, User, Video } from '../schemas/bid-request.js';
import {
  InvalidFieldError, at, extOf, object, optArray, optFlag, optInt, optObject, optPriceMicros, optString, reqString, stringArray,
  type Json,
} from './fields.js';

export interface Envelope {
  receivedAtMs: number;
  ingestNodeId: string;
  openrtbVersion: string | null;
}

const MAX_DIM = 100_000;
const known = (...keys: string[]): ReadonlySet<string> => new Set(keys);
const K = {
  top: known('id', 'imp', 'site', 'app', 'device', 'user', 'tmax', 'at', 'cur', 'bcat', 'badv', 'test'),
  imp: known('id', 'banner', 'video', 'bidfloor', 'bidfloorcur', 'tagid', 'secure'),
  banner: known('w', 'h', 'format'),
  video: known('mimes', 'w', 'h'),
  site: known('id', 'domain', 'page', 'cat', 'publisher'),
  app: known('id', 'bundle', 'domain', 'cat', 'publisher'),
  device: known('ua', 'ip', 'devicetype', 'os', 'geo'),
  geo: known('country', 'region', 'city'),
  user: known('id', 'buyeruid', 'data', 'keywords'),
};

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
  };
}

function video(o: Json, path: string): Video {
  return { mimes: stringArray(o, 'mimes', path), w: optInt(o, 'w', path, 0, MAX_DIM), h: optInt(o, 'h', path, 0, MAX_DIM), ext: extOf(o, K.video) };
}

function imp(v: unknown, path: string): Imp {
  const o = object(v, path);
  const b = optObject(o, 'banner', path);
  const vid = optObject(o, 'video', path);
  const cur = optString(o, 'bidfloorcur', path, 3);
  if (cur !== null && !/^[A-Za-z]{3}$/.test(cur)) throw new InvalidFieldError(at(path, 'bidfloorcur'), 'must be a 3-letter ISO-4217 code');
  return {
    id: reqString(o, 'id', path, 128),
    banner: b && banner(b, at(path, 'banner')),
    video: vid && video(vid, at(path, 'video')),
    bidfloorMicros: optPriceMicros(o, 'bidfloor', path),
    bidfloorcur: (cur ?? 'USD').toUpperCase(),
    tagid: optString(o, 'tagid', path),
    secure: optFlag(o, 'secure', path),
    ext: extOf(o, K.imp),
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
    ua: optString(o, 'ua', path), ip: optString(o, 'ip', path, 64), devicetype: optInt(o, 'devicetype', path, 1, 7),
    os: optString(o, 'os', path), geo: g && geo(g, at(path, 'geo')), ext: extOf(o, K.device),
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
  return {
    id: optString(o, 'id', path, 256), buyeruid: optString(o, 'buyeruid', path, 256), segments,
    interests: keywords ? keywords.split(',').map((k) => k.trim()).filter(Boolean) : [],
    // data[] is kept whole in ext: segments carry names and values we do not map.
    ext: extOf(o, known('id', 'buyeruid', 'keywords')),
  };
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
  const auctionType = optInt(o, 'at', '', 1, 2) ?? 2;
  return {
    id,
    imp: imps.map((v, i) => imp(v, at('imp', i))),
    site: s && site(s, 'site'),
    app: a && app(a, 'app'),
    device: d && device(d, 'device'),
    user: u && user(u, 'user'),
    tmax: optInt(o, 'tmax', '', 1, 60_000),
    at: auctionType,
    cur: stringArray(o, 'cur', ''),
    bcat: stringArray(o, 'bcat', ''),
    badv: stringArray(o, 'badv', ''),
    test: optFlag(o, 'test', '') ?? false,
    ext: extOf(o, K.top),
    receivedAtMs: env.receivedAtMs,
    ingestNodeId: env.ingestNodeId,
    sourceFormat: 'OPENRTB',
    openrtbVersion: env.openrtbVersion,
    enrichment: 'NOT_ATTEMPTED',
    profile: null,
  };
}
