/**
 * Exchanges as principals. Every bid request is sent by a configured exchange, which it proves with one
 * of the exchange's API keys (several during a rotation). The exchange decides the request's rate limit,
 * its default tmax and the seat of the answer, and namespaces its request ids (schemas/request-key.ts).
 *
 * Configuration: JSON in the file INGEST_EXCHANGES_FILE and/or inline in INGEST_EXCHANGES (the exchanges
 * of both are used), either `{"exchanges": [...]}` or the bare array:
 *
 *   { "exchanges": [ {
 *       "id": "exchange-a",                                   1-64 of A-Z a-z 0-9 . _ -, unique
 *       "keyHashes": ["<64 hex: SHA-256 of the key>", ...],   preferred: the file then holds no secret
 *       "keys": ["<the key itself, 16-512 visible ASCII>"],   accepted too (hashed at start, never kept)
 *       "rateLimit": { "rps": 5000, "burst": 10000 },         optional; else INGEST_RATE_LIMIT_RPS/_BURST
 *       "seat": "seat-123",                                    optional: the BidResponse's seatbid[].seat
 *       "defaultTmaxMs": 120,                                  optional: tmax of requests without one
 *       "notices": { "billOn": "burl" },                       optional, free-form (kept for the notice routes)
 *       "winNotice": "nurl",                                   optional: "nurl" (default) or "burl", the notice that
 *                                                              counts as winning at this exchange (some send only burl)
 *       "billOn": "burl",                                      optional: "burl" (default) or "nurl" for exchanges
 *                                                              that bill on the win notice: its nurl is then the
 *                                                              billing too (spend is final at it)
 *       "noBid": 204,                                          optional: 204 (default) or 200, a no-bid answered
 *                                                              200 {"id": <request id>, "seatbid": [], "nbr": <code>}
 *       "auctionTypes": { "500": 1 }                           optional: this exchange's own `at` codes (>= 500) as
 *                                                              1 first or 2 second price; unlisted ones are second price
 *   } ] }
 *
 * At least one key (hash) per exchange; no key may belong to two exchanges; unknown fields are refused
 * (a misspelt "keyhashes" must not leave an exchange keyless). Any error stops the start with one
 * line naming the source and the field, e.g. `INGEST_EXCHANGES_FILE /etc/rtb/exchanges.json:
 * exchanges[1].keyHashes[0] must be 64 hex characters (the SHA-256 of the key)`.
 *
 * A key is checked by hashing what the request presents (SHA-256), looking the digest up in a Map and
 * comparing the digests with timingSafeEqual: the time taken does not depend on how much of a real
 * key a guess got right (the lookup is on the digest, which a guesser cannot steer).
 *
 * No exchange configured: the edge refuses to start, unless RTB_DEV_MODE=1, in which case every bid
 * request is accepted without a key as exchange `dev` (and a warning says so). INGEST_API_KEY, the
 * earlier single key, still works: it is an exchange with id `default`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PipelineError } from '../schemas/errors.js';

export interface Exchange {
  readonly id: string;
  /** null: the edge-wide default (INGEST_RATE_LIMIT_RPS / INGEST_RATE_LIMIT_BURST). */
  readonly rateLimit: { readonly rps: number; readonly burst: number } | null;
  readonly seat: string | null;
  readonly defaultTmaxMs: number | null;
  readonly notices: Readonly<Record<string, unknown>>;
  /** The notice that counts as the exchange's win (TrackingEvent.exchangeWin): nurl (WIN) or burl (BILLING). */
  readonly winNotice: WinNotice;
  /** The notice that bills: burl, or nurl for exchanges that bill on the win notice (it then also settles the spend). */
  readonly billOn: WinNotice;
  /** How a no-bid is answered: 204, or 200 with an empty seatbid and `nbr`. */
  readonly noBid: NoBidStatus;
  /** Exchange-specific auction types (`at` >= 500) -> 1 first price or 2 second price; absent ones are second price. */
  readonly auctionTypes: Readonly<Record<string, AuctionType>>;
}

export type WinNotice = 'nurl' | 'burl';
export type NoBidStatus = 204 | 200;
export type AuctionType = 1 | 2;
/** The smallest exchange-specific `at` (OpenRTB: 500+ are exchange-specific values). */
export const EXCHANGE_SPECIFIC_AT = 500;

interface ExchangeEntry extends Exchange {
  /** SHA-256 digests of the accepted keys. */
  readonly keyHashes: readonly Buffer[];
}

/** The development exchange: every request without a configured exchange, in RTB_DEV_MODE only. */
export const DEV_EXCHANGE: Exchange = Object.freeze({
  id: 'dev', rateLimit: null, seat: null, defaultTmaxMs: null, notices: Object.freeze({}), winNotice: 'nurl', billOn: 'burl', noBid: 204, auctionTypes: Object.freeze({}),
});

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY = /^[\x21-\x7e]{16,512}$/;
const HASH = /^[0-9a-fA-F]{64}$/;
const FIELDS = new Set(['id', 'keys', 'keyHashes', 'rateLimit', 'seat', 'defaultTmaxMs', 'notices', 'winNotice', 'billOn', 'noBid', 'auctionTypes']);

const sha256 = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The SHA-256 of a key as the configuration's `keyHashes` hold it (lower-case hex). */
export function hashKey(key: string): string {
  return sha256(key).toString('hex');
}

function invalid(source: string, what: string): never {
  throw new PipelineError('CONFIG_INVALID', `${source}: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

/** Parses one source's JSON text into exchanges; throws CONFIG_INVALID naming `source` and the field. */
export function parseExchanges(text: string, source: string): ExchangeEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    invalid(source, `is not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
  let list: unknown = doc;
  let path = 'exchanges';
  if (isObject(doc)) {
    const extra = Object.keys(doc).filter((k) => k !== 'exchanges');
    if (extra.length > 0) invalid(source, `unknown field ${JSON.stringify(extra[0])} (expected {"exchanges": [...]})`);
    list = doc.exchanges;
  } else {
    path = '';
  }
  const at = (i: number): string => (path ? `${path}[${i}]` : `[${i}]`);
  if (!Array.isArray(list)) invalid(source, `${path || 'the document'} must be an array of exchanges`);
  return list.map((raw, i): ExchangeEntry => {
    const where = at(i);
    if (!isObject(raw)) invalid(source, `${where} must be an object`);
    for (const k of Object.keys(raw)) if (!FIELDS.has(k)) invalid(source, `${where}.${k} is not a known field (${[...FIELDS].join(', ')})`);
    if (typeof raw.id !== 'string' || !ID.test(raw.id)) invalid(source, `${where}.id must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    const keyHashes: Buffer[] = [];
    if (raw.keyHashes !== undefined) {
      if (!Array.isArray(raw.keyHashes)) invalid(source, `${where}.keyHashes must be an array of SHA-256 hex digests`);
      raw.keyHashes.forEach((h, j) => {
        if (typeof h !== 'string' || !HASH.test(h)) invalid(source, `${where}.keyHashes[${j}] must be 64 hex characters (the SHA-256 of the key)`);
        keyHashes.push(Buffer.from(h, 'hex'));
      });
    }
    if (raw.keys !== undefined) {
      if (!Array.isArray(raw.keys)) invalid(source, `${where}.keys must be an array of keys`);
      raw.keys.forEach((k, j) => {
        // The value is never echoed: it is a credential.
        if (typeof k !== 'string' || !KEY.test(k)) invalid(source, `${where}.keys[${j}] must be 16-512 visible ASCII characters (value hidden)`);
        keyHashes.push(sha256(k));
      });
    }
    if (keyHashes.length === 0) invalid(source, `${where} (${raw.id}) has no key: give keyHashes (preferred) or keys`);
    let rateLimit: Exchange['rateLimit'] = null;
    if (raw.rateLimit !== undefined) {
      const r = raw.rateLimit;
      if (!isObject(r)) invalid(source, `${where}.rateLimit must be {"rps": n, "burst": n}`);
      for (const k of Object.keys(r)) if (k !== 'rps' && k !== 'burst') invalid(source, `${where}.rateLimit.${k} is not a known field (rps, burst)`);
      if (!positiveInt(r.rps, 1, 10_000_000)) invalid(source, `${where}.rateLimit.rps must be an integer 1..10000000`);
      const burst = r.burst ?? r.rps;
      if (!positiveInt(burst, 1, 10_000_000)) invalid(source, `${where}.rateLimit.burst must be an integer 1..10000000`);
      rateLimit = Object.freeze({ rps: r.rps as number, burst: burst as number });
    }
    if (raw.seat !== undefined && (typeof raw.seat !== 'string' || raw.seat.length === 0 || raw.seat.length > 200)) {
      invalid(source, `${where}.seat must be a string of 1-200 characters`);
    }
    if (raw.defaultTmaxMs !== undefined && !positiveInt(raw.defaultTmaxMs, 10, 60_000)) invalid(source, `${where}.defaultTmaxMs must be an integer 10..60000`);
    if (raw.notices !== undefined && !isObject(raw.notices)) invalid(source, `${where}.notices must be an object`);
    if (raw.winNotice !== undefined && raw.winNotice !== 'nurl' && raw.winNotice !== 'burl') invalid(source, `${where}.winNotice must be "nurl" or "burl"`);
    if (raw.billOn !== undefined && raw.billOn !== 'nurl' && raw.billOn !== 'burl') invalid(source, `${where}.billOn must be "burl" or "nurl"`);
    if (raw.noBid !== undefined && raw.noBid !== 204 && raw.noBid !== 200) invalid(source, `${where}.noBid must be 204 or 200`);
    const auctionTypes: Record<string, AuctionType> = {};
    if (raw.auctionTypes !== undefined) {
      if (!isObject(raw.auctionTypes)) invalid(source, `${where}.auctionTypes must be an object {"<at >= 500>": 1 | 2}`);
      for (const [k, v] of Object.entries(raw.auctionTypes)) {
        if (!/^[1-9]\d{2,8}$/.test(k) || Number(k) < EXCHANGE_SPECIFIC_AT) invalid(source, `${where}.auctionTypes.${k} is not an exchange-specific auction type (an integer >= ${EXCHANGE_SPECIFIC_AT})`);
        if (v !== 1 && v !== 2) invalid(source, `${where}.auctionTypes.${k} must be 1 (first price) or 2 (second price)`);
        auctionTypes[k] = v;
      }
    }
    return Object.freeze({
      id: raw.id,
      keyHashes,
      rateLimit,
      seat: (raw.seat as string | undefined) ?? null,
      defaultTmaxMs: (raw.defaultTmaxMs as number | undefined) ?? null,
      notices: Object.freeze({ ...((raw.notices as Record<string, unknown> | undefined) ?? {}) }),
      winNotice: (raw.winNotice as WinNotice | undefined) ?? 'nurl',
      billOn: (raw.billOn as WinNotice | undefined) ?? 'burl',
      noBid: (raw.noBid as NoBidStatus | undefined) ?? 204,
      auctionTypes: Object.freeze(auctionTypes),
    });
  });
}

/** The configured exchanges and how a presented key finds one. */
export class Exchanges {
  private readonly byHash = new Map<string, { exchange: Exchange; digest: Buffer }>();
  /** Development: no exchange configured and RTB_DEV_MODE=1; every request is DEV_EXCHANGE, no key needed. */
  readonly open: boolean;
  readonly list: readonly Exchange[];

  constructor(entries: readonly ExchangeEntry[], open = false) {
    this.open = open;
    const list: Exchange[] = [];
    for (const e of entries) {
      if (list.some((x) => x.id === e.id)) throw new PipelineError('CONFIG_INVALID', `exchange id ${JSON.stringify(e.id)} is configured twice`);
      const exchange: Exchange = Object.freeze({
        id: e.id, rateLimit: e.rateLimit, seat: e.seat, defaultTmaxMs: e.defaultTmaxMs, notices: e.notices, winNotice: e.winNotice, billOn: e.billOn, noBid: e.noBid, auctionTypes: e.auctionTypes,
      });
      list.push(exchange);
      for (const digest of e.keyHashes) {
        const k = digest.toString('latin1');
        const other = this.byHash.get(k);
        if (other && other.exchange.id !== e.id) {
          throw new PipelineError('CONFIG_INVALID', `exchanges ${JSON.stringify(other.exchange.id)} and ${JSON.stringify(e.id)} share an API key: each key must name one exchange`);
        }
        this.byHash.set(k, { exchange, digest });
      }
    }
    this.list = Object.freeze(list);
  }

  /** Development mode: every request is exchange `dev`. */
  static dev(): Exchanges {
    return new Exchanges([], true);
  }

  /** The exchange whose key this is, or null (empty, unknown). Constant time in the key's content. */
  authenticate(presented: string): Exchange | null {
    if (this.open) return DEV_EXCHANGE;
    if (presented === '') return null;
    const digest = sha256(presented);
    const hit = this.byHash.get(digest.toString('latin1'));
    // The Map found it by this very digest; timingSafeEqual makes the final comparison explicit and
    // constant-time should the lookup ever be replaced by something that matches approximately.
    if (!hit || !timingSafeEqual(hit.digest, digest)) return null;
    return hit.exchange;
  }
}

export interface ExchangeSources {
  exchangesFile: string;
  exchangesJson: string;
  apiKey: string;
  devMode: boolean;
}

/**
 * The exchanges of the configuration, validated. Throws CONFIG_INVALID (one line naming the source and
 * the field) on a bad entry, and when none is configured outside RTB_DEV_MODE. `warn` receives what an
 * operator should know (development mode; plaintext keys; the deprecated INGEST_API_KEY).
 */
export function loadExchanges(cfg: ExchangeSources, warn: (message: string) => void, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Exchanges {
  const entries: ExchangeEntry[] = [];
  const plaintext = (text: string): boolean => /"keys"\s*:/.test(text);
  if (cfg.exchangesFile !== '') {
    const source = `INGEST_EXCHANGES_FILE ${cfg.exchangesFile}`;
    let text: string;
    try {
      text = read(cfg.exchangesFile);
    } catch (err) {
      invalid(source, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    entries.push(...parseExchanges(text, source));
    if (plaintext(text)) warn(`${source} lists plaintext "keys": prefer "keyHashes" (SHA-256 hex), so the file holds no secret`);
  }
  if (cfg.exchangesJson !== '') entries.push(...parseExchanges(cfg.exchangesJson, 'INGEST_EXCHANGES'));
  if (cfg.apiKey !== '') {
    if (entries.some((e) => e.id === 'default')) invalid('INGEST_API_KEY', 'an exchange with id "default" is configured too: move the key into its keys');
    entries.push({ ...DEV_EXCHANGE, id: 'default', keyHashes: [sha256(cfg.apiKey)] });
    warn('INGEST_API_KEY is deprecated: its key is taken as exchange "default"; configure exchanges with INGEST_EXCHANGES_FILE');
  }
  if (entries.length > 0) return new Exchanges(entries);
  if (!cfg.devMode) {
    throw new PipelineError('CONFIG_INVALID', 'no exchange is configured: set INGEST_EXCHANGES_FILE (or INGEST_EXCHANGES) to the exchanges allowed to send bid requests, or RTB_DEV_MODE=1 for a development run without keys');
  }
  warn('RTB_DEV_MODE=1 and no exchange configured: bid requests are accepted WITHOUT an API key, as exchange "dev"; never run like this in production (configure INGEST_EXCHANGES_FILE)');
  return Exchanges.dev();
}
