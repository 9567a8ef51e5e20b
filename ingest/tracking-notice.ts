/**
 * Tracking notices as pure functions: the notice URLs of a win, the `price` parameter, the event id
 * and the TrackingEvent the edge writes to `tracking-events`. The routes are in tracking-routes.ts.
 */
import { createHash } from 'node:crypto';
import type { TrackingEvent, TrackingType } from '../schemas/tracking-event.js';
import { InvalidFieldError } from './fields.js';
import type { TrackingClaims } from './tracking-token.js';

/** The path segment of each notice (`/notice/<segment>`) and the event type it records. */
export const NOTICE_TYPES = { win: 'WIN', bill: 'BILLING', imp: 'IMPRESSION', click: 'CLICK', conv: 'CONVERSION' } as const satisfies Record<string, TrackingType>;
export type NoticeSegment = keyof typeof NOTICE_TYPES;

export const isNoticeSegment = (s: string): s is NoticeSegment => Object.hasOwn(NOTICE_TYPES, s);

/** Notices that carry the clearing price (the exchange substitutes `${AUCTION_PRICE}`) and may be POSTed. */
export const PRICED: ReadonlySet<NoticeSegment> = new Set(['win', 'bill']);

/** The OpenRTB macro, kept literal in nurl/burl: the exchange replaces it with the clearing CPM. */
export const AUCTION_PRICE_MACRO = '${AUCTION_PRICE}';

export interface NoticeUrls {
  nurl: string;
  burl: string;
  impression: string;
  click: string;
  conversion: string;
}

/**
 * Every notice URL of one win; `publicUrl` is the edge's public base (INGEST_PUBLIC_URL). `exchangeToken`
 * (win, bill) goes only into nurl/burl, which the exchange keeps to itself; `browserToken` (imp, click,
 * conv) into the URLs a viewer can see (tracking-token.ts).
 */
export function noticeUrls(publicUrl: string, exchangeToken: string, browserToken: string): NoticeUrls {
  const base = `${publicUrl.replace(/\/+$/, '')}/notice`;
  return {
    nurl: `${base}/win?t=${exchangeToken}&price=${AUCTION_PRICE_MACRO}`,
    burl: `${base}/bill?t=${exchangeToken}&price=${AUCTION_PRICE_MACRO}`,
    impression: `${base}/imp?t=${browserToken}`,
    click: `${base}/click?t=${browserToken}`,
    conversion: `${base}/conv?t=${browserToken}`,
  };
}

/** The highest CPM accepted, in currency units: far above any real price, low enough to stay exact in micros. */
export const MAX_PRICE_CPM = 100_000;
const DECIMAL = /^(?:(\d+)(?:\.(\d*))?|\.(\d+))$/;

/**
 * The `price` parameter (a decimal CPM in currency units, already URL-decoded) -> integer micros.
 * Digits beyond the micro are dropped (floor), never rounded up. Throws InvalidFieldError('price').
 */
export function parsePriceMicros(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw === '') throw new InvalidFieldError('price', 'is required (the clearing CPM)');
  if (raw.startsWith('-')) throw new InvalidFieldError('price', 'must be >= 0');
  const m = DECIMAL.exec(raw);
  if (!m) throw new InvalidFieldError('price', `must be a decimal CPM such as 1.25 (was the ${AUCTION_PRICE_MACRO} macro substituted?)`);
  const whole = (m[1] ?? '0').replace(/^0+(?=\d)/, '');
  if (whole.length > String(MAX_PRICE_CPM).length || Number(whole) > MAX_PRICE_CPM) {
    throw new InvalidFieldError('price', `must be at most ${MAX_PRICE_CPM}`);
  }
  const fraction = ((m[2] ?? m[3] ?? '') + '000000').slice(0, 6);
  const micros = Number(whole) * 1_000_000 + Number(fraction);
  if (micros > MAX_PRICE_CPM * 1_000_000) throw new InvalidFieldError('price', `must be at most ${MAX_PRICE_CPM}`);
  return micros;
}

/**
 * The price of a notice against its token's bound: the exchange never charges more than we bid, so a
 * higher price is a forgery (or a broken macro). Throws InvalidFieldError('price').
 */
export function checkPriceBound(priceMicros: number, maxPriceMicros: number): void {
  if (priceMicros > maxPriceMicros) {
    throw new InvalidFieldError('price', `must be at most ${maxPriceMicros / 1_000_000} (the bid price this notice URL was issued for)`);
  }
}

/**
 * The event id: a repeated notice (an exchange retrying, a page reloaded) gets the same id, so it is
 * counted once downstream where the id is first seen. Hex SHA-256 of `requestId|impId|TYPE`, 32 chars.
 */
export function eventIdFor(requestId: string, impId: string, type: TrackingType): string {
  return createHash('sha256').update(`${requestId}|${impId}|${type}`).digest('hex').slice(0, 32);
}

/** The TrackingEvent for a verified notice; `priceMicros` is 0 for notices without a price. */
export function trackingEvent(claims: TrackingClaims, type: TrackingType, priceMicros: number, occurredAtMs: number, ingestNodeId: string): TrackingEvent {
  return {
    eventId: eventIdFor(claims.requestId, claims.impId, type),
    type,
    requestId: claims.requestId,
    impId: claims.impId,
    campaignId: claims.campaignId,
    creativeId: claims.creativeId,
    advertiserId: claims.advertiserId,
    dayKey: claims.dayKey,
    priceMicros,
    costMicros: Math.floor(priceMicros / 1000),
    auctionAtMs: claims.auctionAtMs,
    occurredAtMs,
    ingestNodeId,
  };
}

/** Only http(s) landing URLs are redirected to: a signed `javascript:` URL must still not become a Location. */
export function redirectTarget(landingUrl: string): string | null {
  try {
    const u = new URL(landingUrl);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}
