/**
 * Small typed readers for validating untrusted JSON: each reads one field, records a
 * {field, message} error naming the field's path when it is wrong, and returns the value or undefined.
 * Used by validate-campaign.ts and validate-targeting.ts.
 */

/** One validation failure; `field` is a path such as 'creatives[0].imageUrl' or 'targeting.country[2]'. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export type Obj = Readonly<Record<string, unknown>>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readString(o: Obj, key: string, path: string, errors: FieldError[], maxLen = 500): string | undefined {
  const v = o[key];
  if (typeof v !== 'string' || v.trim() === '') {
    errors.push({ field: path, message: 'must be a non-empty string' });
    return undefined;
  }
  if (v.length > maxLen) {
    errors.push({ field: path, message: `must be at most ${maxLen} characters` });
    return undefined;
  }
  return v.trim();
}

/**
 * A safe integer within [min, max]; money and times must be exact, so fractions are rejected. `unit`
 * explains the bounds in the message (e.g. '2000-01-01 to 2100-01-01 UTC, epoch ms').
 */
export function readInt(o: Obj, key: string, path: string, errors: FieldError[], min: number, max = Number.MAX_SAFE_INTEGER, unit?: string): number | undefined {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    errors.push({ field: path, message: 'must be an integer' });
    return undefined;
  }
  // An integer beyond 2^53 (JSON allows it) is not exact in a double: out of range, whatever the bounds.
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    const bounds = max === Number.MAX_SAFE_INTEGER && Number.isSafeInteger(v) ? `must be >= ${min}` : `must be between ${min} and ${max}`;
    errors.push({ field: path, message: unit ? `${bounds} (${unit})` : bounds });
    return undefined;
  }
  return v;
}

export function readEnum<E extends string>(o: Obj, key: string, path: string, errors: FieldError[], values: readonly E[], dflt?: E): E | undefined {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as E;
  errors.push({ field: path, message: `must be one of ${values.join(', ')}` });
  return undefined;
}

/** An absolute http(s) URL; anything else would break the click redirect or the creative markup. */
export function readUrl(o: Obj, key: string, path: string, errors: FieldError[]): string | undefined {
  const s = readString(o, key, path, errors, 2048);
  if (s === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    errors.push({ field: path, message: 'must be an absolute URL' });
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    errors.push({ field: path, message: 'must be an http or https URL' });
    return undefined;
  }
  return s;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A host name with at least two labels ('example.com'), no scheme, path or port. */
export function isDomain(s: string): boolean {
  return DOMAIN.test(s);
}
