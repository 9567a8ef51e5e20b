/**
 * Which request a record is about. An OpenRTB request id is unique only within the exchange that sent
 * it, so every piece of state keyed by a request id (the edge's waiter for the synchronous answer, the
 * auction's budget reservation and its pending member, the tracking token and so the notices' event ids,
 * the aggregate's outcome de-duplication) is keyed by `requestKey(exchange, id)` instead of the bare id.
 *
 * The encoding is injective: each part has `%` and `:` escaped (as `%25` and `%3A`), so the first `:`
 * always separates the exchange from the id, and two different (exchange, id) pairs never give the same
 * key. Ids made of the usual characters (letters, digits, `-`, `_`, `.`) are unchanged, so keys stay
 * readable: `exchange-a:8d3f-...`. A record without an exchange (written before exchanges were
 * introduced: the Avro default '') keys by its bare id, as it did then, so records in flight across
 * the upgrade still find their reservation; every record the edge writes now has an exchange.
 */

const ESCAPES = /[%:]/g;
const UNESCAPES = /%(25|3A)/g;

/** Escapes `%` and `:` so that the part can be joined with `:` unambiguously (used for Redis key parts too). */
export function escapeKeyPart(part: string): string {
  return part.replace(ESCAPES, (c) => (c === '%' ? '%25' : '%3A'));
}

export function unescapeKeyPart(part: string): string {
  return part.replace(UNESCAPES, (m) => (m === '%25' ? '%' : ':'));
}

/** The key of request `id` from `exchange` ('' or absent: a record from before exchanges, keyed by its bare id). */
export function requestKey(exchange: string | undefined, id: string): string {
  if (exchange === undefined || exchange === '') return id;
  return `${escapeKeyPart(exchange)}:${escapeKeyPart(id)}`;
}

/**
 * The exchange and request id of a key requestKey() made. A key without `:` is a bare id (no exchange).
 * A bare id from before exchanges that itself contains `:` cannot be told apart from a scoped key; only
 * log lines and record headers use this (the OpenRTB id of a notice), never state.
 */
export function parseRequestKey(key: string): { exchange: string; id: string } {
  const i = key.indexOf(':');
  if (i < 0) return { exchange: '', id: key };
  return { exchange: unescapeKeyPart(key.slice(0, i)), id: unescapeKeyPart(key.slice(i + 1)) };
}
