/**
 * Signed tracking tokens: one per win, carried in every notice URL of that win (win, billing,
 * impression, click, conversion). The edge trusts only what the token says about the auction, so a
 * notice cannot be forged for an auction that never happened, and the click redirect cannot be
 * pointed anywhere but the creative's own landing URL (no open redirect).
 *
 * Format: `<payload>.<signature>`
 *   payload    base64url(compact JSON {r: requestId, i: impId, c: campaignId, k: creativeId,
 *              a: advertiserId, d: dayKey, t: auction receivedAtMs, l: landingUrl})
 *   signature  base64url of the first 16 bytes (128 bits) of HMAC-SHA256(secret, payload as ASCII)
 * Both parts use only [A-Za-z0-9_-], so a token needs no escaping in a URL or in HTML.
 * Tokens do not expire: billing and conversion notices may legitimately arrive hours or days later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

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
  /** Where a click is redirected. */
  readonly landingUrl: string;
}

export type VerifyResult = { readonly ok: true; readonly claims: TrackingClaims } | { readonly ok: false; readonly reason: string };

/** 128 bits: forging needs 2^128 guesses; the truncation keeps notice URLs short. */
const SIGNATURE_BYTES = 16;
const SIGNATURE_CHARS = Math.ceil((SIGNATURE_BYTES * 4) / 3);
/** Far above any real token (a landing URL is at most a few KB), low enough that hashing stays cheap. */
export const MAX_TOKEN_CHARS = 8192;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function signature(payload: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest().subarray(0, SIGNATURE_BYTES);
}

/** The token for one win. */
export function signToken(c: TrackingClaims, secret: string): string {
  const json = JSON.stringify({ r: c.requestId, i: c.impId, c: c.campaignId, k: c.creativeId, a: c.advertiserId, d: c.dayKey, t: c.auctionAtMs, l: c.landingUrl });
  const payload = Buffer.from(json).toString('base64url');
  return `${payload}.${signature(payload, secret).toString('base64url')}`;
}

/**
 * Checks the signature (in constant time) before looking at the payload, then the payload's shape.
 * Never throws: anything wrong is `{ ok: false, reason }` for the 400 answer.
 */
export function verifyToken(token: string | null | undefined, secret: string): VerifyResult {
  if (!token) return { ok: false, reason: 'the t parameter is missing' };
  if (token.length > MAX_TOKEN_CHARS) return { ok: false, reason: 'token is too long' };
  const dot = token.indexOf('.');
  const payload = token.slice(0, dot);
  const sig = token.slice(dot + 1);
  if (dot <= 0 || !BASE64URL.test(payload) || sig.length !== SIGNATURE_CHARS || !BASE64URL.test(sig)) {
    return { ok: false, reason: 'token is malformed' };
  }
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== SIGNATURE_BYTES || !timingSafeEqual(given, signature(payload, secret))) {
    return { ok: false, reason: 'token signature does not match' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'token payload is not JSON' };
  }
  // Signed by us, so a bad shape means another token version or a leaked secret: refuse either way.
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, reason: 'token payload has the wrong shape' };
  const w = parsed as Record<string, unknown>;
  const ids = [w.r, w.i, w.c, w.k, w.a, w.d];
  if (!ids.every((v) => typeof v === 'string' && v.length > 0) || typeof w.l !== 'string' || typeof w.t !== 'number' || !Number.isSafeInteger(w.t) || w.t < 0) {
    return { ok: false, reason: 'token payload has the wrong shape' };
  }
  const [requestId, impId, campaignId, creativeId, advertiserId, dayKey] = ids as string[];
  return {
    ok: true,
    claims: { requestId: requestId!, impId: impId!, campaignId: campaignId!, creativeId: creativeId!, advertiserId: advertiserId!, dayKey: dayKey!, auctionAtMs: w.t, landingUrl: w.l },
  };
}
