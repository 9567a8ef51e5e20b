/**
 * Tracking notices as pure functions: the notice URLs of a win, the `price` and `reason` parameters, the
 * event ids, the TrackingEvent the edge writes to `tracking-events` and the LossNotice it writes to
 * `loss-notices`. The routes are in tracking-routes.ts.
 *
 * Prices: the exchange reports prices in the answer's currency (the token's `currency`); events carry
 * that as `reportedPriceMicros` and, converted back with the token's rate (fx.ts, rounded down), the
 * base-currency `priceMicros` and `costMicros` every other stage sums.
 */
import { createHash } from 'node:crypto';
import type { LossNotice, TrackingEvent, TrackingType } from '../schemas/tracking-event.js';
import { InvalidFieldError } from './fields.js';
import { toBaseMicrosFloor } from '../processors/domain/currency.js';
import type { TrackingClaims } from './tracking-token.js';

/** The path segment of each notice (`/notice/<segment>`) and the event type it records (`loss` records a LossNotice instead). */
export const NOTICE_TYPES = { win: 'WIN', bill: 'BILLING', imp: 'IMPRESSION', click: 'CLICK', conv: 'CONVERSION' } as const satisfies Record<string, TrackingType>;
export type NoticeSegment = keyof typeof NOTICE_TYPES;

export type RouteSegment = NoticeSegment | 'loss';

export const isNoticeSegment = (s: string): s is NoticeSegment => Object.hasOwn(NOTICE_TYPES, s);
export const isRouteSegment = (s: string): s is RouteSegment => s === 'loss' || isNoticeSegment(s);

/** Notices that carry the clearing price (the exchange substitutes `${AUCTION_PRICE}`), bounded by our bid. */
export const PRICED: ReadonlySet<RouteSegment> = new Set(['win', 'bill']);
/** Notices the exchange's servers call, which some exchanges POST (the body is ignored). */
export const POSTABLE: ReadonlySet<RouteSegment> = new Set(['win', 'bill', 'loss']);

/** The OpenRTB macro, kept literal in nurl/burl/lurl: the exchange replaces it with the clearing CPM. */
export const AUCTION_PRICE_MACRO = '${AUCTION_PRICE}';
/** The OpenRTB macro, kept literal in lurl: the exchange replaces it with its loss reason code. */
export const AUCTION_LOSS_MACRO = '${AUCTION_LOSS}';

export interface NoticeUrls {
  nurl: string;
  burl: string;
  lurl: string;
  impression: string;
  click: string;
  conversion: string;
}

/**
 * Every notice URL of one win; `publicUrl` is the edge's public base (INGEST_PUBLIC_URL). `exchangeToken`
 * (win, bill) goes only into nurl/burl and `lossToken` (loss) into lurl, which the exchange keeps to
 * itself; `browserToken` (imp, click, conv) into the URLs a viewer can see (tracking-token.ts).
 */
export function noticeUrls(publicUrl: string, exchangeToken: string, browserToken: string, lossToken: string): NoticeUrls {
  const base = `${publicUrl.replace(/\/+$/, '')}/notice`;
  return {
    nurl: `${base}/win?t=${exchangeToken}&price=${AUCTION_PRICE_MACRO}`,
    burl: `${base}/bill?t=${exchangeToken}&price=${AUCTION_PRICE_MACRO}`,
    lurl: `${base}/loss?t=${lossToken}&reason=${AUCTION_LOSS_MACRO}&price=${AUCTION_PRICE_MACRO}`,
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
 * The `price` of a loss notice: the winner's clearing price, which exchanges disclose only sometimes, so
 * absent or the unsubstituted macro is 0 (unknown); anything else is parsed as parsePriceMicros does.
 */
export function parseLossPriceMicros(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw === '' || raw === AUCTION_PRICE_MACRO) return 0;
  return parsePriceMicros(raw);
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * The `reason` of a loss notice (`${AUCTION_LOSS}`: an OpenRTB loss reason code, an integer >= 0).
 * Absent or the unsubstituted macro is -1 (the exchange sent none). Throws InvalidFieldError('reason').
 */
export function parseLossReason(raw: string | null | undefined): number {
  if (raw === null || raw === undefined || raw === '' || raw === AUCTION_LOSS_MACRO) return -1;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > INT32_MAX) {
    throw new InvalidFieldError('reason', `must be an OpenRTB loss reason code (an integer 0..${INT32_MAX}) or the unsubstituted ${AUCTION_LOSS_MACRO} macro`);
  }
  return Number(raw);
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

/** The loss notice's event id: one per request and imp (a bid loses once), so a repeat has the same id. */
export function lossEventId(requestId: string, impId: string): string {
  return createHash('sha256').update(`${requestId}|${impId}|LOSS`).digest('hex').slice(0, 32);
}

/** Which exchange notice counts as winning at the exchange (Exchange.winNotice): nurl's WIN, or burl's BILLING for exchanges that only bill. */
export type WinNotice = 'nurl' | 'burl';

/** Is a notice of `type` the exchange's win, for an exchange whose win notice is `winNotice`? */
export const isExchangeWin = (type: TrackingType, winNotice: WinNotice): boolean =>
  (type === 'WIN' && winNotice === 'nurl') || (type === 'BILLING' && winNotice === 'burl');

/** What every notice record says of its bid, straight from the verified token's claims. */
function fromClaims(claims: TrackingClaims) {
  const { requestId, impId, campaignId, creativeId, advertiserId, dayKey, exchange, test, dealId, privacyBasis, currency, auctionAtMs } = claims;
  return { requestId, impId, campaignId, creativeId, advertiserId, dayKey, exchange, test, dealId, privacyBasis, currency, auctionAtMs };
}

/**
 * The TrackingEvent for a verified notice. `reportedPriceMicros` is the price as the exchange reported
 * it, in micros of the answer's currency (0 for notices without a price); the event's priceMicros and
 * costMicros are it in the base currency. `exchangeWin`: isExchangeWin for the token's exchange.
 */
export function trackingEvent(claims: TrackingClaims, type: TrackingType, reportedPriceMicros: number, occurredAtMs: number, ingestNodeId: string, exchangeWin = false): TrackingEvent {
  const priceMicros = toBaseMicrosFloor(reportedPriceMicros, claims.fxRatePpm);
  return {
    ...fromClaims(claims), eventId: eventIdFor(claims.requestId, claims.impId, type), type,
    priceMicros, costMicros: Math.floor(priceMicros / 1000), reportedPriceMicros, exchangeWin, occurredAtMs, ingestNodeId,
  };
}

/** The LossNotice for a verified lurl call; `reportedPriceMicros` (answer currency, 0 unknown) is stored in base micros. */
export function lossNotice(claims: TrackingClaims, lossReason: number, reportedPriceMicros: number, occurredAtMs: number, ingestNodeId: string): LossNotice {
  return {
    ...fromClaims(claims), eventId: lossEventId(claims.requestId, claims.impId), lossReason,
    priceMicros: toBaseMicrosFloor(reportedPriceMicros, claims.fxRatePpm), occurredAtMs, ingestNodeId,
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
