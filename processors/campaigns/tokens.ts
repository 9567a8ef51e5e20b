/**
 * Bearer tokens of the campaign management API, the pure part: the token format, hashing, reading the
 * Authorization header, and what a configured operator token must look like. No I/O (see
 * token-store.ts for Postgres and operator-token.ts for the configured token).
 *
 * A token is `rtbk_` + 32 random bytes in base64url (48 characters): recognisable in logs, configs and
 * secret scanners, and with 256 bits of entropy, so its SHA-256 can be stored and looked up without a
 * salt or a slow hash (nothing to brute-force).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'rtbk_';
const TOKEN_BYTES = 32;
/** What generateToken makes. */
export const TOKEN_PATTERN = /^rtbk_[A-Za-z0-9_-]{43}$/;
/** The shortest token accepted from configuration (a generated one has 48 characters). */
export const MIN_CONFIGURED_TOKEN_LENGTH = 32;

/** Who a request acts for. `tokenId` is the public id ('bootstrap' for the configured operator token), for logs. */
export type Principal =
  | { readonly scope: 'operator'; readonly tokenId: string }
  | { readonly scope: 'advertiser'; readonly tokenId: string; readonly advertiserId: string };

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
}

/** SHA-256 of the token (32 bytes): what is stored and compared, never the token. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Constant-time equality of two token hashes. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The token of an `Authorization: Bearer <token>` header: 'missing' without the header (or another
 * scheme), 'malformed' when the value cannot be a token (empty, spaces, over 512 characters).
 */
export function bearerToken(header: string | undefined): string | 'missing' | 'malformed' {
  if (header === undefined) return 'missing';
  const m = /^Bearer[ \t]+(\S*)[ \t]*$/i.exec(header);
  if (!m) return /^Bearer(\s|$)/i.test(header) ? 'malformed' : 'missing';
  const token = m[1]!;
  return token.length === 0 || token.length > 512 || !/^[\x21-\x7e]+$/.test(token) ? 'malformed' : token;
}

/**
 * Placeholders seen in examples and templates: a token containing one was never meant for use. Words of
 * 5+ letters only, so a random token contains one by chance less than once in a million.
 */
const PLACEHOLDERS = ['changeme', 'change-me', 'change_me', 'replace', 'example', 'default', 'password', 'secret', 'placeholder', 'dummy', 'xxxxxx'];

/**
 * Why a configured operator token is refused, or null when it is acceptable: at least 32 visible ASCII
 * characters without spaces, at least 10 distinct characters, and no placeholder word. Generate one with
 * `node -e "console.log('rtbk_'+require('crypto').randomBytes(32).toString('base64url'))"`.
 * Never echoes the value.
 */
export function operatorTokenProblem(token: string): string | null {
  if (token.length < MIN_CONFIGURED_TOKEN_LENGTH) return `is ${token.length} characters long; it must have at least ${MIN_CONFIGURED_TOKEN_LENGTH} (a generated rtbk_ token has 48)`;
  if (token.length > 512) return 'is longer than 512 characters';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be visible ASCII characters without spaces';
  if (new Set(token).size < 10) return 'has fewer than 10 distinct characters: it is not random';
  const lower = token.slice(token.startsWith(TOKEN_PREFIX) ? TOKEN_PREFIX.length : 0).toLowerCase();
  const word = PLACEHOLDERS.find((p) => lower.includes(p));
  if (word !== undefined) return `contains '${word}': it looks like a placeholder or a known default, not a generated token`;
  return null;
}
