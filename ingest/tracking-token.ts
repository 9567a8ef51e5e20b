/**
 * Signed tracking tokens. Each win gets TWO tokens, each granting only some notice types:
 *   - the exchange token (win, bill, loss) is in `nurl`/`burl` only, never in the creative markup, and
 *     carries the highest price a notice may report: our bid price to the exchange (the exchange's
 *     clearing price `${AUCTION_PRICE}` can never exceed it);
 *   - the browser token (imp, click, conv) is in the markup a viewer sees; it grants no priced notice
 *     (max price 0) and carries the landing URL, so the click redirect goes there and nowhere else.
 * A viewer therefore cannot report a billing price (the browser token is refused on /notice/bill), and
 * whoever holds the exchange token cannot report more than we bid. Every token expires.
 *
 * Format (version 2): base64url(payload || signature), one URL- and HTML-safe string without escaping.
 *   payload    [0]      version byte (2); a future layout or key scheme takes the next value
 *              [1]      notice types granted, one bit each (NOTICE_BITS)
 *              [2..5]   expiry, UTC seconds, uint32 big-endian
 *              [6..11]  auction receivedAtMs, uint48 big-endian
 *              [12..17] max price, integer micros (CPM) of the answer's currency, uint48 big-endian
 *              [18..23] fx rate of the answer (answer-currency units per base unit x 1e6), uint48 big-endian
 *              [24]     flags: bit 0 test traffic
 *              then 11 strings, each a varint byte length and UTF-8: requestId, impId, campaignId,
 *              creativeId, advertiserId, dayKey, landingUrl ('' in the exchange token), exchange,
 *              dealId, privacyBasis, currency
 *   signature  the first 16 bytes (128 bits) of HMAC-SHA256(secret, payload)
 * About 130 bytes (175 characters) for the exchange token with a UUID request id, plus the landing URL
 * in the browser token.
 *
 * Version 1 (issue 5: 18-byte header without fx rate and flags, the first 7 strings) is still verified:
 * tokens live up to INGEST_NOTICE_TOKEN_TTL_MS, and notices of bids answered just before an upgrade
 * must still count. Every version 1 token was issued for a USD answer of non-test, non-deal traffic
 * with no recorded privacy basis, so its claims are exactly that; its exchange is the one its requestId
 * (requestKey(exchange, id)) names. Reading it costs one branch on the version byte.
 *
 * Rotation: tokens are signed with the current secret and verified with the current one, then the
 * previous one (INGEST_TRACKING_SECRET_PREVIOUS) until tokens signed with it have expired.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseRequestKey } from '../schemas/request-key.js';

/** The version this edge signs; verifyToken also reads version 1. */
export const TOKEN_VERSION = 2;

/** The notice types a token may grant, one bit each (`/notice/<name>`). `loss` is lurl's. */
export const NOTICE_BITS = { win: 1, bill: 2, loss: 4, imp: 8, click: 16, conv: 32 } as const;
export type NoticeName = keyof typeof NOTICE_BITS;
/** Called by the exchange's servers, from nurl/burl: never in the markup; their price is bounded by our bid. */
export const EXCHANGE_NOTICES: readonly NoticeName[] = ['win', 'bill'];
/**
 * Called by the exchange's servers from lurl, in a token of its own: the price a loss notice reports is
 * the winner's, which may exceed our bid, so it cannot share the exchange token's price bound.
 */
export const LOSS_NOTICES: readonly NoticeName[] = ['loss'];
/** Reached from the viewer's browser: the markup's pixel and link, the advertiser's conversion pixel. */
export const BROWSER_NOTICES: readonly NoticeName[] = ['imp', 'click', 'conv'];

export interface TrackingClaims {
  readonly requestId: string;
  readonly impId: string;
  readonly campaignId: string;
  readonly creativeId: string;
  readonly advertiserId: string;
  /** The campaign-local day the auction reserved spend against. */
  readonly dayKey: string;
  /** The auction's receivedAtMs (UTC ms). */
  readonly auctionAtMs: number;
  /** Where a click is redirected ('' in a token that grants no click). */
  readonly landingUrl: string;
  /** The request's exchange (its winNotice setting decides which notice is the exchange win). */
  readonly exchange: string;
  /** The deal the bid was for ('' open auction). */
  readonly dealId: string;
  /** The request's privacy basis (BidRequest.privacy.basis; '' unknown). */
  readonly privacyBasis: string;
  /** The currency of the answer, so of the prices the exchange reports back. */
  readonly currency: string;
  /** Answer-currency units per base-currency (USD) unit x 1e6: converts a reported price back to base micros. */
  readonly fxRatePpm: number;
  /** Test traffic (BidRequest test = 1): its notices are recorded apart and never charged. */
  readonly test: boolean;
}

/** What a token allows, besides naming the auction. */
export interface TokenGrant {
  readonly notices: readonly NoticeName[];
  /** The highest price (CPM, integer micros of claims.currency) a priced notice may report; 0 for tokens without priced notices. */
  readonly maxPriceMicros: number;
  /** Refused from then on (UTC ms; kept to the second, rounded up). */
  readonly expiresAtMs: number;
}

export interface VerifiedToken extends TokenGrant {
  readonly ok: true;
  readonly claims: TrackingClaims;
  /** Signed with INGEST_TRACKING_SECRET_PREVIOUS (a rotation is under way). */
  readonly previousSecret: boolean;
}

export type VerifyResult =
  | VerifiedToken
  | { readonly ok: false; readonly code: 'invalid' | 'expired'; readonly reason: string };

/** 128 bits: forging needs 2^128 guesses; the truncation keeps notice URLs short. */
const SIGNATURE_BYTES = 16;
const HEADER_BYTES_V1 = 18;
const STRING_FIELDS_V1 = 7;
const HEADER_BYTES = 25;
const STRING_FIELDS = 11;
const FLAG_TEST = 1;
const UINT48_MAX = 2 ** 48 - 1;
/** Far above any real token (a landing URL is at most a few KB), low enough that hashing stays cheap. */
export const MAX_TOKEN_CHARS = 8192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** Strings are at most this many UTF-8 bytes: a two-byte varint length. */
const MAX_STRING_BYTES = 0x3fff;

function signature(payload: Buffer, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest().subarray(0, SIGNATURE_BYTES);
}

const maskOf = (notices: readonly NoticeName[]): number => notices.reduce((m, n) => m | NOTICE_BITS[n], 0);
const namesOf = (mask: number): NoticeName[] => (Object.keys(NOTICE_BITS) as NoticeName[]).filter((n) => (mask & NOTICE_BITS[n]) !== 0);

function varint(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x80 | (n & 0x7f), n >> 7]);
}

/** The token for one win and one audience (`grant`). Throws RangeError for values the layout cannot carry. */
export function signToken(c: TrackingClaims, grant: TokenGrant, secret: string): string {
  const expSec = Math.ceil(grant.expiresAtMs / 1000);
  if (!Number.isSafeInteger(expSec) || expSec < 0 || expSec > 0xffffffff) throw new RangeError('token expiry out of range');
  if (!Number.isSafeInteger(c.auctionAtMs) || c.auctionAtMs < 0 || c.auctionAtMs > UINT48_MAX) throw new RangeError('auction time out of range');
  if (!Number.isSafeInteger(grant.maxPriceMicros) || grant.maxPriceMicros < 0 || grant.maxPriceMicros > UINT48_MAX) throw new RangeError('max price out of range');
  if (!Number.isSafeInteger(c.fxRatePpm) || c.fxRatePpm <= 0 || c.fxRatePpm > UINT48_MAX) throw new RangeError('fx rate out of range');
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = TOKEN_VERSION;
  header[1] = maskOf(grant.notices);
  header.writeUInt32BE(expSec, 2);
  header.writeUIntBE(c.auctionAtMs, 6, 6);
  header.writeUIntBE(grant.maxPriceMicros, 12, 6);
  header.writeUIntBE(c.fxRatePpm, 18, 6);
  header[24] = c.test ? FLAG_TEST : 0;
  const parts: Buffer[] = [header];
  for (const s of [c.requestId, c.impId, c.campaignId, c.creativeId, c.advertiserId, c.dayKey, c.landingUrl, c.exchange, c.dealId, c.privacyBasis, c.currency]) {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > MAX_STRING_BYTES) throw new RangeError('token field too long');
    parts.push(varint(bytes.length), bytes);
  }
  const payload = Buffer.concat(parts);
  return Buffer.concat([payload, signature(payload, secret)]).toString('base64url');
}

/** Does the verified token grant `/notice/<notice>`? */
export const grants = (token: TokenGrant, notice: NoticeName): boolean => token.notices.includes(notice);

/**
 * Checks the version byte, then the signature (in constant time, with each secret in turn: the current
 * one, then the previous during a rotation) before looking at the rest of the payload: its layout, then the expiry.
 * Never throws: anything wrong is `{ ok: false, code, reason }` for the 400 (or 410 when expired) answer.
 */
export function verifyToken(token: string | null | undefined, secrets: string | readonly string[], nowMs: number): VerifyResult {
  const invalid = (reason: string): VerifyResult => ({ ok: false, code: 'invalid', reason });
  if (!token) return invalid('the t parameter is missing');
  if (token.length > MAX_TOKEN_CHARS) return invalid('token is too long');
  if (!BASE64URL.test(token)) return invalid('token is malformed');
  const raw = Buffer.from(token, 'base64url');
  // Canonical base64url only: one token, one spelling (the decoder ignores stray trailing bits).
  if (raw.length < HEADER_BYTES_V1 + STRING_FIELDS_V1 + SIGNATURE_BYTES || raw.toString('base64url') !== token) return invalid('token is malformed');
  // The version byte decides the layout (and so where the signature is): read before anything else.
  const version = raw[0];
  if (version !== TOKEN_VERSION && version !== 1) return invalid(`token version ${version} is not supported (this edge reads versions 1 and ${TOKEN_VERSION})`);
  const v1 = version === 1;
  const headerBytes = v1 ? HEADER_BYTES_V1 : HEADER_BYTES;
  const stringFields = v1 ? STRING_FIELDS_V1 : STRING_FIELDS;
  if (raw.length < headerBytes + stringFields + SIGNATURE_BYTES) return invalid('token is malformed');
  const payload = raw.subarray(0, raw.length - SIGNATURE_BYTES);
  const given = raw.subarray(raw.length - SIGNATURE_BYTES);
  const keys = (typeof secrets === 'string' ? [secrets] : secrets).filter((s) => s !== '');
  const signedWith = keys.findIndex((secret) => timingSafeEqual(given, signature(payload, secret)));
  if (signedWith < 0) return invalid('token signature does not match');
  const strings: string[] = [];
  let at = headerBytes;
  for (let i = 0; i < stringFields; i++) {
    if (at >= payload.length) return invalid('token payload has the wrong shape');
    let len = payload[at++]!;
    if (len & 0x80) {
      if (at >= payload.length) return invalid('token payload has the wrong shape');
      len = (len & 0x7f) | (payload[at++]! << 7);
    }
    if (at + len > payload.length) return invalid('token payload has the wrong shape');
    strings.push(payload.toString('utf8', at, at + len));
    at += len;
  }
  if (at !== payload.length) return invalid('token payload has the wrong shape');
  const [requestId, impId, campaignId, creativeId, advertiserId, dayKey, landingUrl] = strings as [string, string, string, string, string, string, string];
  if (![requestId, impId, campaignId, creativeId, advertiserId, dayKey].every((s) => s.length > 0)) return invalid('token payload has the wrong shape');
  // Version 1 was issued before deals, privacy bases, test handling and currencies: USD, rate 1 (see the module comment).
  const [exchange, dealId, privacyBasis, currency] = v1 ? [parseRequestKey(requestId).exchange, '', '', 'USD'] : strings.slice(7) as [string, string, string, string];
  const fxRatePpm = v1 ? 1_000_000 : payload.readUIntBE(18, 6);
  if (currency === '' || fxRatePpm === 0) return invalid('token payload has the wrong shape');
  const expiresAtMs = payload.readUInt32BE(2) * 1000;
  if (nowMs >= expiresAtMs) {
    return { ok: false, code: 'expired', reason: `token expired at ${new Date(expiresAtMs).toISOString()} (notice URLs are valid for INGEST_NOTICE_TOKEN_TTL_MS after the bid)` };
  }
  return {
    ok: true,
    claims: {
      requestId, impId, campaignId, creativeId, advertiserId, dayKey, auctionAtMs: payload.readUIntBE(6, 6), landingUrl,
      exchange, dealId, privacyBasis, currency, fxRatePpm, test: !v1 && (payload[24]! & FLAG_TEST) !== 0,
    },
    notices: namesOf(payload[1]!),
    maxPriceMicros: payload.readUIntBE(12, 6),
    expiresAtMs,
    previousSecret: signedWith > 0,
  };
}
