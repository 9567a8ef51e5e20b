/**
 * Pure validation of a campaign as the management API receives it, for its 201/400 answers.
 * The API assigns `id` and `updatedAtMs` before calling this (validation reads no clock).
 * Defaults: status 'active', endMs null, timezone 'UTC', dayparting [], frequencyCap null,
 * pacing 'even', targeting {}. Every error names the field path it is about.
 */
import type { Campaign, Creative, FrequencyCap } from '../domain/campaign.js';
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
  const imageUrl = readUrl(c, 'imageUrl', at('imageUrl'), errors);
  const landingUrl = readUrl(c, 'landingUrl', at('landingUrl'), errors);
  const width = readInt(c, 'width', at('width'), errors, 1, MAX_CREATIVE_SIDE);
  const height = readInt(c, 'height', at('height'), errors, 1, MAX_CREATIVE_SIDE);
  const adomain = c['adomain'] ?? [];
  if (!Array.isArray(adomain) || adomain.length > MAX_ADOMAINS || !adomain.every((d) => typeof d === 'string' && isDomain(d))) {
    errors.push({ field: at('adomain'), message: `must be an array of at most ${MAX_ADOMAINS} advertiser domains such as 'brand.com'` });
  }
  if (errors.length !== before) return undefined;
  return { id: id!, title: title!, imageUrl: imageUrl!, landingUrl: landingUrl!, width: width!, height: height!, adomain: (adomain as string[]).map((d) => d.toLowerCase()) };
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
  // Set by the API from its clock; bounded only by what the schema's long can carry.
  const updatedAtMs = readInt(o, 'updatedAtMs', 'updatedAtMs', errors, 0, LIMITS.maxTimeMs);
  if (errors.length > 0) return { ok: false, errors };
  // Every reader returned a value when no error was recorded, so the assertions below hold.
  const campaign: Campaign = {
    id: id!, advertiserId: advertiserId!, name: name!, status: status!, bidCpmMicros: bidCpmMicros!,
    dailyBudgetMicros: dailyBudgetMicros!, lifetimeBudgetMicros: lifetimeBudgetMicros!, startMs: startMs!,
    endMs: endMs ?? null, timezone: timezone!, dayparting: dayparting!, frequencyCap: frequencyCap ?? null,
    pacing: pacing!, targeting: targeting!, creatives: creatives!, updatedAtMs: updatedAtMs!,
  };
  return { ok: true, campaign };
}
