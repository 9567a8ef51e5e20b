/**
 * AuctionOutcome -> OpenRTB 2.6 BidResponse. Pure. Prices leave the pipeline's integer micros only
 * here, as the decimal CPM the protocol requires. One seatbid per advertiser. Each bid carries its
 * win's signed tracking URLs (tracking-token.ts): `nurl` and `burl` with the literal
 * `${AUCTION_PRICE}` macro and the exchange token (win/bill, bounded by the bid's price), and the
 * markup's link and impression pixel through the edge with the browser token (imp/click/conv, no price).
 */
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';
import { requestKey } from '../schemas/request-key.js';
import { noticeUrls, type NoticeUrls } from './tracking-notice.js';
import { BROWSER_NOTICES, EXCHANGE_NOTICES, signToken, type TrackingClaims } from './tracking-token.js';

export interface OpenRtbBid {
  id: string;
  impid: string;
  price: number;
  /** Win notice: the exchange substitutes ${AUCTION_PRICE} and calls it when the bid wins. */
  nurl: string;
  /** Billing notice: called when the impression is billable. */
  burl: string;
  adm: string;
  adomain: string[];
  cid: string;
  crid: string;
  w: number;
  h: number;
}

export interface BidResponse {
  id: string;
  bidid: string;
  cur: string;
  seatbid: Array<{ seat: string; bid: OpenRtbBid[] }>;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Where tracking URLs point and how their tokens are signed (INGEST_PUBLIC_URL, INGEST_TRACKING_SECRET). */
export interface TrackingOptions {
  readonly publicUrl: string;
  readonly secret: string;
  /** How long the notice URLs stay valid (INGEST_NOTICE_TOKEN_TTL_MS); default 7 days. */
  readonly tokenTtlMs?: number;
  /** Now, UTC ms (tokens expire tokenTtlMs later); default Date.now(). */
  readonly nowMs?: number;
}

export const DEFAULT_TOKEN_TTL_MS = 7 * 86_400_000;

/**
 * The creative markup: the image linked through the click notice (which redirects to the landing
 * URL), and a 1x1 impression pixel, so clicks and impressions are counted by the edge.
 */
export function adMarkup(w: WinRecord, urls: Pick<NoticeUrls, 'click' | 'impression'>): string {
  return `<a href="${escapeHtml(urls.click)}" target="_blank"><img src="${escapeHtml(w.imageUrl)}" width="${w.w}" height="${w.h}" alt="${escapeHtml(w.title)}"></a>`
    + `<img src="${escapeHtml(urls.impression)}" width="1" height="1" alt="" style="position:absolute;border:0">`;
}

/** Micros -> decimal currency units, exact to the micro (no binary-float drift in the digits). */
export function microsToDecimal(micros: number): number {
  return Number((micros / 1_000_000).toFixed(6));
}

/** The response for an outcome with wins; null when there is nothing to bid (the edge answers 204). */
/**
 * `seat`: the exchange's seat for us (its configuration, exchanges.ts): then every bid is in that one
 * seatbid; without it, one seatbid per advertiser. The tokens name the request by
 * requestKey(exchange, id), as the auction's reservation does, so a notice settles the right one.
 */
export function toBidResponse(outcome: AuctionOutcome, tracking: TrackingOptions, currency = 'USD', seat: string | null = null): BidResponse | null {
  if (outcome.wins.length === 0) return null;
  const seats = new Map<string, OpenRtbBid[]>();
  const key = requestKey(outcome.exchange, outcome.requestId);
  const expiresAtMs = (tracking.nowMs ?? Date.now()) + (tracking.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS);
  for (const w of outcome.wins) {
    let bids = seats.get(seat ?? w.advertiserId);
    if (!bids) seats.set(seat ?? w.advertiserId, (bids = []));
    const claims: TrackingClaims = {
      requestId: key, impId: w.impId, campaignId: w.campaignId, creativeId: w.creativeId, advertiserId: w.advertiserId,
      dayKey: w.dayKey, auctionAtMs: outcome.receivedAtMs, landingUrl: w.landingUrl,
    };
    // The bid's `price` is the clearing price: the most the exchange can charge, so the most a notice may report.
    const exchange = signToken({ ...claims, landingUrl: '' }, { notices: EXCHANGE_NOTICES, maxPriceMicros: w.clearingPriceMicros, expiresAtMs }, tracking.secret);
    const browser = signToken(claims, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, tracking.secret);
    const urls = noticeUrls(tracking.publicUrl, exchange, browser);
    bids.push({
      id: `${outcome.requestId}:${w.impId}`, impid: w.impId, price: microsToDecimal(w.clearingPriceMicros), nurl: urls.nurl, burl: urls.burl,
      adm: adMarkup(w, urls), adomain: w.adomain, cid: w.campaignId, crid: w.creativeId, w: w.w, h: w.h,
    });
  }
  return { id: outcome.requestId, bidid: outcome.requestId, cur: currency, seatbid: [...seats].map(([seat, bid]) => ({ seat, bid })) };
}
