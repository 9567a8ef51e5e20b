/**
 * Pure validation of a campaign as the management API receives it, for its 201/400 answers.
 * The API assigns `id` and `updatedAtMs` before calling this (validation reads no clock).
 * Defaults: status 'active', endMs null, timezone 'UTC', dayparting [], frequencyCap null,
 * pacing 'even', targeting {}, deals [], openAuction true; per creative cat [], cattax 1, bundle null,
 * attr [], video null (a banner). Every error names the field path it is about.
 *
 * A creative is a banner (imageUrl, width, height) or a video: `video` {vastXml | vastTagUrl (exactly one:
 * a document starting with <VAST, or an https URL), durationSec, mimes[], protocols[], w, h}; a video
 * creative's size is video.w x video.h (or, without them, width x height) and its imageUrl is optional
 * ('' when absent).
 */
import { DEFAULT_CATTAX } from '../domain/campaign.js';
import type { Campaign, CampaignDeal, Creative, CreativeVideo, FrequencyCap } from '../domain/campaign.js';
import { isDomain, isObject, readEnum, readInt, readString, readUrl } from './field-checks.js';
import type { FieldError, Obj } from './field-checks.js';
import { validateDayparting, validateTargeting } from './validate-targeting.js';

export type { FieldError } from './field-checks.js';

export type CampaignValidation =
  | { readonly ok: true; readonly campaign: Campaign }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/** Creatives per campaign; the add-creative route enforces it too. */
export const MAX_CREATIVES = 100;
const MAX_CREATIVE_SIDE = 10_000;
const MAX_ADOMAINS = 50;
const MAX_CATS = 50;
const MAX_ATTRS = 50;
const MAX_DEALS = 100;
const MAX_VAST_XML = 100_000;
/** OpenRTB cattax values: 1-7 are AdCOM's list, 500+ exchange-specific. */
const MAX_CATTAX = 1_000;
const MIME = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i;

/**
 * Bounds on money and time. Every value must cross every hop exactly: avsc writes an Avro long only
 * within +-(2^53 - 2) (a larger one made the campaign unpublishable, and stopped the republisher), the
 * auction's Redis Lua script adds spend and compares budgets in doubles, and spend sums must stay exact.
 * So the caps sit far below 2^53 (about 9.007e15) and still far above any real campaign.
 */
export const LIMITS = {
  /** 10^9 micros = a $1,000 CPM (real CPMs run from cents to tens of dollars); the bid may be doubled by pricing. */
  maxBidCpmMicros: 1_000_000_000,
  /** 10^15 micros = $1,000,000,000, for the daily and the lifetime budget (daily <= lifetime): 9x headroom below 2^53. */
  maxBudgetMicros: 1_000_000_000_000_000,
  /** startMs and endMs (UTC epoch ms) within 2000-01-01 .. 2100-01-01. */
  minTimeMs: Date.UTC(2000, 0, 1),
  maxTimeMs: Date.UTC(2100, 0, 1),
} as const;
const TIME_RANGE = '2000-01-01 to 2100-01-01 UTC, epoch ms';

/** True when Intl knows the IANA zone; a bad zone would otherwise throw on every bid. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An optional array of at most `max` items, each passing `ok`; records one error naming the field. */
function readList<T>(c: Obj, key: string, path: string, errors: FieldError[], max: number, ok: (v: unknown) => boolean, what: string): T[] | undefined {
  const v = c[key] ?? [];
  if (!Array.isArray(v) || v.length > max || !v.every(ok)) {
    errors.push({ field: path, message: `must be an array of at most ${max} ${what}` });
    return undefined;
  }
  return v as T[];
}

const isSmallInt = (min: number, max: number) => (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Reads a creative's `video` object (path is the creative's `video` path). */
function readVideo(v: unknown, path: string, errors: FieldError[]): (CreativeVideo & { w?: number; h?: number }) | undefined {
  if (!isObject(v)) {
    errors.push({ field: path, message: 'must be an object {vastXml | vastTagUrl, durationSec, mimes, protocols, w, h}' });
    return undefined;
  }
  const before = errors.length;
  const hasXml = v['vastXml'] !== undefined && v['vastXml'] !== null && v['vastXml'] !== '';
  const hasTag = v['vastTagUrl'] !== undefined && v['vastTagUrl'] !== null && v['vastTagUrl'] !== '';
  let vastXml = '';
  let vastTagUrl = '';
  if (hasXml === hasTag) {
    errors.push({ field: `${path}.vastXml`, message: 'exactly one of vastXml and vastTagUrl must be given' });
  } else if (hasXml) {
    const xml = readString(v, 'vastXml', `${path}.vastXml`, errors, MAX_VAST_XML);
    if (xml !== undefined && !xml.startsWith('<VAST')) errors.push({ field: `${path}.vastXml`, message: 'must be a VAST document starting with <VAST' });
    vastXml = xml ?? '';
  } else {
    const url = readUrl(v, 'vastTagUrl', `${path}.vastTagUrl`, errors);
    if (url !== undefined && !url.startsWith('https:')) errors.push({ field: `${path}.vastTagUrl`, message: 'must be an https URL' });
    vastTagUrl = url ?? '';
  }
  const durationSec = readInt(v, 'durationSec', `${path}.durationSec`, errors, 1, 3_600, 'seconds');
  const mimes = readList<string>(v, 'mimes', `${path}.mimes`, errors, 20, (m) => typeof m === 'string' && MIME.test(m), "MIME types such as 'video/mp4'");
  if (mimes !== undefined && mimes.length === 0) errors.push({ field: `${path}.mimes`, message: "must list at least one MIME type such as 'video/mp4'" });
  const protocols = readList<number>(v, 'protocols', `${path}.protocols`, errors, 20, isSmallInt(1, 100), 'OpenRTB protocol ids (2 VAST 2.0 ... 7 VAST 4.0)');
  if (protocols !== undefined && protocols.length === 0) errors.push({ field: `${path}.protocols`, message: 'must list at least one OpenRTB protocol id (e.g. 7 = VAST 4.0)' });
  // The size may be given here (w, h) or as the creative's width/height.
  const w = v['w'] === undefined ? undefined : readInt(v, 'w', `${path}.w`, errors, 1, MAX_CREATIVE_SIDE);
  const h = v['h'] === undefined ? undefined : readInt(v, 'h', `${path}.h`, errors, 1, MAX_CREATIVE_SIDE);
  if (errors.length !== before) return undefined;
  return { vastXml, vastTagUrl, durationSec: durationSec!, mimes: mimes!.map((m) => m.toLowerCase()), protocols: protocols!, w, h };
}

/** Reads one creative; `path` prefixes the field names of its errors ('' for a creative on its own). */
function readCreative(c: unknown, path: string, errors: FieldError[]): Creative | undefined {
  const at = (field: string): string => (path === '' ? field : `${path}.${field}`);
  if (!isObject(c)) {
    errors.push({ field: path, message: 'must be an object' });
    return undefined;
  }
  const before = errors.length;
  const id = readString(c, 'id', at('id'), errors, 200);
  const title = readString(c, 'title', at('title'), errors);
  const isVideo = c['video'] !== undefined && c['video'] !== null;
  const video = isVideo ? readVideo(c['video'], at('video'), errors) : undefined;
  // A video's image is optional (its media are in the VAST); a banner's is the ad.
  const imageUrl = isVideo && (c['imageUrl'] === undefined || c['imageUrl'] === '') ? '' : readUrl(c, 'imageUrl', at('imageUrl'), errors);
  const landingUrl = readUrl(c, 'landingUrl', at('landingUrl'), errors);
  // A video whose object is wrong has its error already; its size is not read again.
  const sized = !isVideo || video !== undefined;
  const width = video?.w ?? (sized ? readInt(c, 'width', at(isVideo ? 'video.w' : 'width'), errors, 1, MAX_CREATIVE_SIDE) : undefined);
  const height = video?.h ?? (sized ? readInt(c, 'height', at(isVideo ? 'video.h' : 'height'), errors, 1, MAX_CREATIVE_SIDE) : undefined);
  const adomain = c['adomain'] ?? [];
  if (!Array.isArray(adomain) || adomain.length > MAX_ADOMAINS || !adomain.every((d) => typeof d === 'string' && isDomain(d))) {
    errors.push({ field: at('adomain'), message: `must be an array of at most ${MAX_ADOMAINS} advertiser domains such as 'brand.com'` });
  }
  const cat = readList<string>(c, 'cat', at('cat'), errors, MAX_CATS, (v) => typeof v === 'string' && v.trim() !== '' && v.length <= 100, "content category codes such as 'IAB1-2'");
  const cattax = c['cattax'] === undefined ? DEFAULT_CATTAX : readInt(c, 'cattax', at('cattax'), errors, 1, MAX_CATTAX, 'OpenRTB cattax: 1 = IAB 1.0, 2 = IAB 2.0, ...');
  const bundle = c['bundle'] === undefined || c['bundle'] === null ? null : readString(c, 'bundle', at('bundle'), errors, 500);
  const attr = readList<number>(c, 'attr', at('attr'), errors, MAX_ATTRS, isSmallInt(1, 1_000), 'OpenRTB creative attribute ids');
  if (errors.length !== before) return undefined;
  return {
    id: id!, title: title!, imageUrl: imageUrl!, landingUrl: landingUrl!, width: width!, height: height!, adomain: (adomain as string[]).map((d) => d.toLowerCase()),
    cat: cat!.map((x) => x.trim()), cattax: cattax!, bundle: bundle ?? null, attr: attr!,
    video: video === undefined ? null : { vastXml: video.vastXml, vastTagUrl: video.vastTagUrl, durationSec: video.durationSec, mimes: video.mimes, protocols: video.protocols },
  };
}

/** Reads `deals` (default []): ids unique, a fixed price in the bid bounds or null (the campaign's price). */
function readDeals(o: Obj, errors: FieldError[]): CampaignDeal[] | undefined {
  const list = o['deals'] ?? [];
  if (!Array.isArray(list) || list.length > MAX_DEALS) {
    errors.push({ field: 'deals', message: `must be an array of at most ${MAX_DEALS} deals {id, bidCpmMicros | null}` });
    return undefined;
  }
  const before = errors.length;
  const seen = new Set<string>();
  const deals = list.map((d: unknown, i): CampaignDeal | undefined => {
    if (!isObject(d)) {
      errors.push({ field: `deals[${i}]`, message: 'must be an object {id, bidCpmMicros | null}' });
      return undefined;
    }
    const id = readString(d, 'id', `deals[${i}].id`, errors, 200);
    if (id !== undefined && seen.has(id)) errors.push({ field: `deals[${i}].id`, message: `duplicate deal id '${id}'` });
    if (id !== undefined) seen.add(id);
    const price = d['bidCpmMicros'] === undefined || d['bidCpmMicros'] === null
      ? null
      : readInt(d, 'bidCpmMicros', `deals[${i}].bidCpmMicros`, errors, 1, LIMITS.maxBidCpmMicros, 'micros per 1000 impressions, or null for the campaign bid');
    return id === undefined || price === undefined ? undefined : { id, bidCpmMicros: price };
  });
  return errors.length === before ? (deals as CampaignDeal[]) : undefined;
}

function readCreatives(o: Obj, errors: FieldError[]): Creative[] | undefined {
  const list = o['creatives'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CREATIVES) {
    errors.push({ field: 'creatives', message: `must be an array of 1 to ${MAX_CREATIVES} creatives` });
    return undefined;
  }
  const creatives = list.map((c: unknown, i) => readCreative(c, `creatives[${i}]`, errors));
  const seen = new Set<string>();
  creatives.forEach((c, i) => {
    if (c === undefined) return;
    if (seen.has(c.id)) errors.push({ field: `creatives[${i}].id`, message: `duplicate creative id '${c.id}'` });
    seen.add(c.id);
  });
  return creatives.every((c) => c !== undefined) ? (creatives as Creative[]) : undefined;
}

/** Validates one creative on its own (the API's add-creative route); error fields are 'id', 'imageUrl', ... */
export function validateCreative(input: unknown): { readonly ok: true; readonly creative: Creative } | { readonly ok: false; readonly errors: readonly FieldError[] } {
  const errors: FieldError[] = [];
  const creative = readCreative(input, '', errors);
  return creative === undefined ? { ok: false, errors } : { ok: true, creative };
}

function readFrequencyCap(v: unknown, errors: FieldError[]): FrequencyCap | null | undefined {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) {
    errors.push({ field: 'frequencyCap', message: "must be {count, per: 'day'} or null" });
    return undefined;
  }
  const count = readInt(v, 'count', 'frequencyCap.count', errors, 1, 1_000_000);
  const per = readEnum(v, 'per', 'frequencyCap.per', errors, ['day'] as const, 'day');
  return count === undefined || per === undefined ? undefined : { count, per };
}

/** Validates untrusted input into a Campaign, or lists every problem found (not just the first). */
export function validateCampaign(input: unknown): CampaignValidation {
  if (!isObject(input)) return { ok: false, errors: [{ field: '', message: 'campaign must be a JSON object' }] };
  const errors: FieldError[] = [];
  const o = input;
  const id = readString(o, 'id', 'id', errors, 200);
  const advertiserId = readString(o, 'advertiserId', 'advertiserId', errors, 200);
  const name = readString(o, 'name', 'name', errors);
  const status = readEnum(o, 'status', 'status', errors, ['active', 'paused', 'ended'] as const, 'active');
  const bidCpmMicros = readInt(o, 'bidCpmMicros', 'bidCpmMicros', errors, 1, LIMITS.maxBidCpmMicros, 'micros per 1000 impressions: at most a $1,000 CPM');
  const dailyBudgetMicros = readInt(o, 'dailyBudgetMicros', 'dailyBudgetMicros', errors, 1, LIMITS.maxBudgetMicros, 'micros: at most $1,000,000,000');
  const lifetimeBudgetMicros = readInt(o, 'lifetimeBudgetMicros', 'lifetimeBudgetMicros', errors, 1, LIMITS.maxBudgetMicros, 'micros: at most $1,000,000,000');
  if (dailyBudgetMicros !== undefined && lifetimeBudgetMicros !== undefined && dailyBudgetMicros > lifetimeBudgetMicros) {
    errors.push({ field: 'dailyBudgetMicros', message: 'must not exceed lifetimeBudgetMicros' });
  }
  const startMs = readInt(o, 'startMs', 'startMs', errors, LIMITS.minTimeMs, LIMITS.maxTimeMs, TIME_RANGE);
  const endMs = o['endMs'] === undefined || o['endMs'] === null ? null : readInt(o, 'endMs', 'endMs', errors, LIMITS.minTimeMs, LIMITS.maxTimeMs, TIME_RANGE);
  if (startMs !== undefined && typeof endMs === 'number' && endMs <= startMs) {
    errors.push({ field: 'endMs', message: 'must be after startMs' });
  }
  const timezone = o['timezone'] === undefined ? 'UTC' : readString(o, 'timezone', 'timezone', errors, 100);
  if (timezone !== undefined && !isValidTimeZone(timezone)) {
    errors.push({ field: 'timezone', message: `unknown IANA time zone '${timezone}'` });
  }
  const dayparting = validateDayparting(o['dayparting'], errors);
  const frequencyCap = readFrequencyCap(o['frequencyCap'], errors);
  const pacing = readEnum(o, 'pacing', 'pacing', errors, ['even', 'asap'] as const, 'even');
  const targeting = validateTargeting(o['targeting'], errors);
  const creatives = readCreatives(o, errors);
  const deals = readDeals(o, errors);
  let openAuction: boolean | undefined = true;
  if (o['openAuction'] !== undefined && typeof o['openAuction'] !== 'boolean') {
    errors.push({ field: 'openAuction', message: 'must be true or false' });
    openAuction = undefined;
  } else if (o['openAuction'] === false) {
    openAuction = false;
    // A deal-only campaign without deals could never bid.
    if (deals !== undefined && deals.length === 0) errors.push({ field: 'openAuction', message: 'false (deal-only) needs at least one entry in deals' });
  }
  // Set by the API from its clock; bounded only by what the schema's long can carry.
  const updatedAtMs = readInt(o, 'updatedAtMs', 'updatedAtMs', errors, 0, LIMITS.maxTimeMs);
  if (errors.length > 0) return { ok: false, errors };
  // Every reader returned a value when no error was recorded, so the assertions below hold.
  const campaign: Campaign = {
    id: id!, advertiserId: advertiserId!, name: name!, status: status!, bidCpmMicros: bidCpmMicros!,
    dailyBudgetMicros: dailyBudgetMicros!, lifetimeBudgetMicros: lifetimeBudgetMicros!, startMs: startMs!,
    endMs: endMs ?? null, timezone: timezone!, dayparting: dayparting!, frequencyCap: frequencyCap ?? null,
    pacing: pacing!, targeting: targeting!, creatives: creatives!, updatedAtMs: updatedAtMs!, deals: deals!, openAuction: openAuction!,
  };
  return { ok: true, campaign };
}
