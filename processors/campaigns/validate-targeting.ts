/**
 * Validation of the targeting rules and dayparting windows of a campaign (see validate-campaign.ts).
 * A rule value that could never match (an unknown device name, a malformed size) is an error rather
 * than a silent no-match, so the advertiser learns about it from the 400 answer, not from zero spend.
 */
import { DEVICE_TYPES, TARGETING_DIMENSIONS } from '../domain/campaign.js';
import type { DaypartWindow, Targeting, TargetingDimension } from '../domain/campaign.js';
import { normalizeCountry } from '../domain/country-codes.js';
import { isDomain, isObject, readInt } from './field-checks.js';
import type { FieldError } from './field-checks.js';

const MAX_RULES_PER_DIMENSION = 10_000;

/** Why a rule value is invalid for its dimension, or null when it is fine. */
function ruleProblem(dim: TargetingDimension, value: string): string | null {
  const v = value.trim().toLowerCase();
  switch (dim) {
    case 'country':
      return normalizeCountry(v) === null ? 'must be an ISO 3166-1 alpha-3 code (or a common alpha-2 code)' : null;
    case 'deviceType':
      return (DEVICE_TYPES as readonly string[]).includes(v) ? null : `must be one of ${DEVICE_TYPES.join(', ')}`;
    case 'domain':
      return isDomain(v) ? null : "must be a domain such as 'example.com' (subdomains match too)";
    case 'category':
      // IAB content taxonomy 1.0 codes ('IAB1', 'IAB1-2') or numeric ids of taxonomy 2.x/3.x.
      return /^iab\d+(-\d+)?$/.test(v) || /^\d+$/.test(v) ? null : "must be an IAB category such as 'IAB1' or 'IAB1-2'";
    case 'size':
      return /^[1-9]\d{0,4}x[1-9]\d{0,4}$/.test(v) ? null : "must be WIDTHxHEIGHT such as '300x250'";
    case 'interest':
    case 'segment':
      return v === '' || v.length > 200 ? 'must be a non-empty string of at most 200 characters' : null;
  }
}

/** Validates `targeting`; undefined input means no rules at all. */
export function validateTargeting(input: unknown, errors: FieldError[]): Targeting | undefined {
  if (input === undefined || input === null) return {};
  if (!isObject(input)) {
    errors.push({ field: 'targeting', message: 'must be an object' });
    return undefined;
  }
  const out: { [D in TargetingDimension]?: string[] } = {};
  const before = errors.length;
  for (const [key, list] of Object.entries(input)) {
    if (!(TARGETING_DIMENSIONS as readonly string[]).includes(key)) {
      errors.push({ field: `targeting.${key}`, message: `unknown targeting type; expected one of ${TARGETING_DIMENSIONS.join(', ')}` });
      continue;
    }
    const dim = key as TargetingDimension;
    if (!Array.isArray(list) || list.length > MAX_RULES_PER_DIMENSION) {
      errors.push({ field: `targeting.${dim}`, message: `must be an array of at most ${MAX_RULES_PER_DIMENSION} strings` });
      continue;
    }
    list.forEach((value: unknown, i) => {
      const problem = typeof value === 'string' ? ruleProblem(dim, value) : 'must be a string';
      if (problem !== null) errors.push({ field: `targeting.${dim}[${i}]`, message: problem });
    });
    out[dim] = (list as unknown[]).filter((v): v is string => typeof v === 'string').map((v) => v.trim());
  }
  return errors.length === before ? out : undefined;
}

/** Validates `dayparting`; undefined input means always active. */
export function validateDayparting(input: unknown, errors: FieldError[]): DaypartWindow[] | undefined {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) {
    errors.push({ field: 'dayparting', message: 'must be an array of windows' });
    return undefined;
  }
  const before = errors.length;
  const out: DaypartWindow[] = [];
  input.forEach((w: unknown, i) => {
    const path = `dayparting[${i}]`;
    if (!isObject(w)) {
      errors.push({ field: path, message: 'must be an object {days, startMinute, endMinute}' });
      return;
    }
    const days = w['days'];
    const daysOk = Array.isArray(days) && days.length > 0 && days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6);
    if (!daysOk) errors.push({ field: `${path}.days`, message: 'must be a non-empty array of weekdays 0-6 (Sunday = 0)' });
    const start = readInt(w, 'startMinute', `${path}.startMinute`, errors, 0, 1439);
    const end = readInt(w, 'endMinute', `${path}.endMinute`, errors, 1, 1440);
    if (start !== undefined && end !== undefined && start >= end) {
      errors.push({ field: `${path}.endMinute`, message: 'must be after startMinute (split an overnight window in two)' });
    }
    if (daysOk && start !== undefined && end !== undefined) {
      out.push({ days: [...new Set(days as number[])], startMinute: start, endMinute: end });
    }
  });
  return errors.length === before ? out : undefined;
}
