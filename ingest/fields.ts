/**
 * Typed field readers for untrusted JSON. Each throws an InvalidFieldError naming the field's path,
 * which the edge turns into a 400 answer. Unmapped keys of an object are kept as JSON (`extOf`).
 */
import { PipelineError } from '../schemas/errors.js';

export type Json = Record<string, unknown>;

export class InvalidFieldError extends PipelineError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('BAD_REQUEST', `${field} ${message}`);
    this.field = field;
  }
}

const MAX_STRING = 4096;
const MAX_ARRAY = 256;
export const at = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

export function object(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidFieldError(path || 'body', 'must be a JSON object');
  return v as Json;
}

export function optObject(o: Json, key: string, path: string): Json | null {
  const v = o[key];
  return v === undefined || v === null ? null : object(v, at(path, key));
}

// A lone UTF-16 surrogate cannot be encoded as UTF-8 (Avro strings): it would silently become U+FFFD.
// String.prototype.isWellFormed (Node 20+) checks exactly that, natively.

function checkString(v: unknown, path: string, max: number): string {
  if (typeof v !== 'string') throw new InvalidFieldError(path, 'must be a string');
  if (v.length > max) throw new InvalidFieldError(path, `must be at most ${max} characters`);
  if (!v.isWellFormed()) throw new InvalidFieldError(path, 'must be valid Unicode');
  return v;
}

export function optString(o: Json, key: string, path: string, max = MAX_STRING): string | null {
  const v = o[key];
  return v === undefined || v === null ? null : checkString(v, at(path, key), max);
}

export function reqString(o: Json, key: string, path: string, max = MAX_STRING): string {
  const v = optString(o, key, path, max);
  if (v === null || v.trim() === '') throw new InvalidFieldError(at(path, key), 'is required (a non-empty string)');
  return v;
}

export function optInt(o: Json, key: string, path: string, min: number, max: number): number | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidFieldError(at(path, key), 'must be an integer');
  if (v < min || v > max) throw new InvalidFieldError(at(path, key), `must be between ${min} and ${max}`);
  return v;
}

/** A non-negative price in currency units (CPM) converted to integer micros. */
export function optPriceMicros(o: Json, key: string, path: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidFieldError(at(path, key), 'must be a number');
  if (v < 0) throw new InvalidFieldError(at(path, key), 'must not be negative');
  if (v > 1_000_000) throw new InvalidFieldError(at(path, key), 'must be at most 1000000');
  return Math.round(v * 1_000_000);
}

export function optArray(o: Json, key: string, path: string, max = MAX_ARRAY): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidFieldError(at(path, key), 'must be an array');
  if (v.length > max) throw new InvalidFieldError(at(path, key), `must have at most ${max} items`);
  return v;
}

export function stringArray(o: Json, key: string, path: string): string[] {
  return optArray(o, key, path).map((item, i) => checkString(item, at(at(path, key), i), MAX_STRING));
}

/** An array of integers in [min, max] (OpenRTB enumerated lists: btype, battr, protocols, gpp_sid). */
export function intArray(o: Json, key: string, path: string, min: number, max: number): number[] {
  return optArray(o, key, path).map((item, i) => {
    const p = at(at(path, key), i);
    if (typeof item !== 'number' || !Number.isInteger(item)) throw new InvalidFieldError(p, 'must be an integer');
    if (item < min || item > max) throw new InvalidFieldError(p, `must be between ${min} and ${max}`);
    return item;
  });
}

/** OpenRTB booleans are 0/1 integers; JSON true/false is accepted too. */
export function optFlag(o: Json, key: string, path: string): boolean | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (v === 0 || v === 1 || typeof v === 'boolean') return v === 1 || v === true;
  throw new InvalidFieldError(at(path, key), 'must be 0 or 1');
}

/** The keys of `o` not in `known`, as a JSON object string (null when there are none). */
export function extOf(o: Json, known: ReadonlySet<string>): string | null {
  let rest: Json | null = null;
  for (const k of Object.keys(o)) {
    if (!known.has(k)) (rest ??= {})[k] = o[k];
  }
  return rest === null ? null : JSON.stringify(rest);
}
