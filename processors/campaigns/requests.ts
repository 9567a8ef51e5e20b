/**
 * Pure validation of the management API's request bodies (no I/O, no clock: the caller passes ids and
 * time). Each answer is either a value or every field error found, for the API's 400 bodies.
 */
import { isObject, readString, type FieldError } from './field-checks.js';
import { validateCampaign, validateCreative } from './validate-campaign.js';
import type { Campaign, Creative } from '../domain/campaign.js';

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly FieldError[] };

/** Ids appear in URL paths and Kafka keys, so they are restricted to URL-safe characters (as the tables check). */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

function checkId(v: unknown, field: string, errors: FieldError[]): void {
  if (v !== undefined && (typeof v !== 'string' || !ID_PATTERN.test(v))) {
    errors.push({ field, message: 'must be 1 to 200 characters of A-Z, a-z, 0-9, ".", "_", ":" or "-"' });
  }
}

/** POST /advertisers: `{name, id?}`; without an id the caller's `newId` is used. */
export function checkAdvertiser(body: unknown, newId: string): Checked<{ id: string; name: string }> {
  if (!isObject(body)) return { ok: false, errors: [{ field: '', message: 'advertiser must be a JSON object' }] };
  const errors: FieldError[] = [];
  checkId(body['id'], 'id', errors);
  const name = readString(body, 'name', 'name', errors, 500);
  for (const key of Object.keys(body)) if (key !== 'id' && key !== 'name') errors.push({ field: key, message: 'unknown field' });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { id: (body['id'] as string | undefined) ?? newId, name: name! } };
}

/**
 * POST /campaigns (`pathId` undefined: the body's id, else `newId`) and PUT /campaigns/:id (`pathId`:
 * the body's id, if any, must match it). `updatedAtMs` in the body is ignored: the store sets it.
 */
export function checkCampaign(body: unknown, ids: { pathId?: string; newId: string }, nowMs: number): Checked<Campaign> {
  if (!isObject(body)) return { ok: false, errors: [{ field: '', message: 'campaign must be a JSON object' }] };
  const errors: FieldError[] = [];
  checkId(body['id'], 'id', errors);
  if (ids.pathId !== undefined && body['id'] !== undefined && body['id'] !== ids.pathId) {
    errors.push({ field: 'id', message: 'must match the id in the URL (or be left out)' });
  }
  const id = ids.pathId ?? (typeof body['id'] === 'string' ? body['id'] : ids.newId);
  const r = validateCampaign({ ...body, id, updatedAtMs: nowMs });
  if (!r.ok) errors.push(...r.errors);
  return errors.length > 0 || !r.ok ? { ok: false, errors } : { ok: true, value: r.campaign };
}

/** POST /campaigns/:id/creatives: one creative. */
export function checkCreative(body: unknown): Checked<Creative> {
  const r = validateCreative(body);
  if (!r.ok) return { ok: false, errors: r.errors.map((e) => (e.field === '' ? { ...e, message: `creative ${e.message}` } : e)) };
  const errors: FieldError[] = [];
  checkId(r.creative.id, 'id', errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: r.creative };
}

/** POST /tokens: `{scope: 'operator'}` or `{scope: 'advertiser', advertiserId}`, with an optional `name` label. */
export type TokenRequest = { scope: 'operator'; name: string | null } | { scope: 'advertiser'; advertiserId: string; name: string | null };

export function checkTokenRequest(body: unknown): Checked<TokenRequest> {
  if (!isObject(body)) return { ok: false, errors: [{ field: '', message: "token request must be a JSON object {scope: 'operator' | 'advertiser', advertiserId?, name?}" }] };
  const errors: FieldError[] = [];
  const scope = body['scope'];
  if (scope !== 'operator' && scope !== 'advertiser') errors.push({ field: 'scope', message: 'must be one of operator, advertiser' });
  const advertiserId = body['advertiserId'];
  if (scope === 'advertiser' && advertiserId === undefined) errors.push({ field: 'advertiserId', message: 'is required for an advertiser token' });
  else if (scope === 'operator' && advertiserId !== undefined) errors.push({ field: 'advertiserId', message: 'must be left out of an operator token' });
  else checkId(advertiserId, 'advertiserId', errors);
  const name = body['name'] === undefined || body['name'] === null ? null : readString(body, 'name', 'name', errors, 200);
  for (const key of Object.keys(body)) if (!['scope', 'advertiserId', 'name'].includes(key)) errors.push({ field: key, message: 'unknown field' });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: scope === 'advertiser' ? { scope, advertiserId: advertiserId as string, name: name ?? null } : { scope: 'operator', name: name ?? null } };
}

/** The body of an action without parameters (pause, resume, revoke): an empty JSON object, `{}`. */
export function checkEmptyObject(body: unknown): Checked<Record<string, never>> {
  if (!isObject(body)) return { ok: false, errors: [{ field: '', message: 'must be an empty JSON object: {}' }] };
  const keys = Object.keys(body);
  return keys.length === 0 ? { ok: true, value: {} } : { ok: false, errors: keys.map((field) => ({ field, message: 'unknown field (send {})' })) };
}
