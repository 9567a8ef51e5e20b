/**
 * AuctionOutcome -> OpenRTB 2.6 BidResponse. Pure. Prices leave the pipeline's integer micros only
 * here, as the decimal CPM the protocol requires, in the outcome's answer currency (`cur`): each base
 * (USD) price converted with the outcome's fxRatePpm, rounded down (fx.ts). One seatbid per advertiser.
 * Each bid carries its win's signed tracking URLs (tracking-token.ts): `nurl` and `burl` with the literal
 * `${AUCTION_PRICE}` macro and the exchange token (win/bill, bounded by the bid's price), `lurl` with
 * `${AUCTION_LOSS}` and `${AUCTION_PRICE}` and a token granting only the loss notice, and the markup's
 * link and impression pixel through the edge with the browser token (imp/click/conv, no price). Every
 * token carries what the notices must record: the exchange, deal, privacy basis, test flag, answer
 * currency and rate (so a reported price converts back to base micros with the rate it was quoted at).
 * Video wins (mtype 2) answer VAST (vast.ts); banner wins the HTML markup.
 */
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';
import { requestKey } from '../schemas/request-key.js';
import { fromBaseMicrosFloor, validRatePpm } from '../processors/domain/currency.js';
import { noticeUrls, type NoticeUrls } from './tracking-notice.js';
import { BROWSER_NOTICES, EXCHANGE_NOTICES, LOSS_NOTICES, signToken, type TrackingClaims } from './tracking-token.js';
import { videoMarkup } from './vast.js';

export interface OpenRtbBid {
  id: string;
  impid: string;
  price: number;
  /** Win notice: the exchange substitutes ${AUCTION_PRICE} and calls it when the bid wins. */
  nurl: string;
  /** Billing notice: called when the impression is billable. */
  burl: string;
  /** Loss notice: the exchange substitutes ${AUCTION_LOSS} (and ${AUCTION_PRICE} when it discloses it). */
  lurl: string;
  adm: string;
  adomain: string[];
  cid: string;
  crid: string;
  /** IAB content categories of the creative, in taxonomy `cattax` (OpenRTB default 1 when absent). */
  cat: string[];
  cattax?: number;
  /** 1 banner, 2 video. */
  mtype: number;
  /** The deal this bid is for; absent in the open auction. */
  dealid?: string;
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

/** OpenRTB bid.mtype of a video win. */
const MTYPE_VIDEO = 2;

/**
 * The response for an outcome with wins; null when there is nothing to bid (the edge answers 204).
 * `seat`: the exchange's seat for us (its configuration, exchanges.ts): then every bid is in that one
 * seatbid; without it, one seatbid per advertiser. The tokens name the request by
 * requestKey(exchange, id), as the auction's reservation does, so a notice settles the right one.
 * Also null when the outcome's fxRatePpm is unusable (not a positive integer): no price can be quoted.
 * A video win whose VAST we can neither edit nor wrap is left out (its reservation is released
 * unwon), since we would serve an impression we cannot count.
 */
export function toBidResponse(outcome: AuctionOutcome, tracking: TrackingOptions, seat: string | null = null): BidResponse | null {
  const fxRatePpm = outcome.fxRatePpm ?? 1_000_000;
  if (outcome.wins.length === 0 || !validRatePpm(fxRatePpm)) return null;
  const currency = outcome.currency || 'USD';
  const seats = new Map<string, OpenRtbBid[]>();
  const key = requestKey(outcome.exchange, outcome.requestId);
  const expiresAtMs = (tracking.nowMs ?? Date.now()) + (tracking.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS);
  for (const w of outcome.wins) {
    const claims: TrackingClaims = {
      requestId: key, impId: w.impId, campaignId: w.campaignId, creativeId: w.creativeId, advertiserId: w.advertiserId,
      dayKey: w.dayKey, auctionAtMs: outcome.receivedAtMs, landingUrl: w.landingUrl,
      exchange: outcome.exchange ?? '', dealId: w.dealId ?? '', privacyBasis: outcome.privacyBasis ?? '', currency, fxRatePpm, test: outcome.test,
    };
    // The bid's `price` is the clearing price: the most the exchange can charge, so the most a notice may report (in the answer's currency).
    const priceMicros = fromBaseMicrosFloor(w.clearingPriceMicros, fxRatePpm);
    const exchange = signToken({ ...claims, landingUrl: '' }, { notices: EXCHANGE_NOTICES, maxPriceMicros: priceMicros, expiresAtMs }, tracking.secret);
    const browser = signToken(claims, { notices: BROWSER_NOTICES, maxPriceMicros: 0, expiresAtMs }, tracking.secret);
    // A loss notice reports the winner's price, which may exceed ours: no price bound (parsePriceMicros' own limit applies).
    const loss = signToken({ ...claims, landingUrl: '' }, { notices: LOSS_NOTICES, maxPriceMicros: 0, expiresAtMs }, tracking.secret);
    const urls = noticeUrls(tracking.publicUrl, exchange, browser, loss);
    const id = `${outcome.requestId}:${w.impId}`;
    const mtype = w.mtype ?? 1;
    const adm = mtype === MTYPE_VIDEO ? videoMarkup(id, w.vastXml ?? '', w.vastTagUrl ?? '', urls) : adMarkup(w, urls);
    if (adm === null) continue;
    const bid: OpenRtbBid = {
      id, impid: w.impId, price: microsToDecimal(priceMicros), nurl: urls.nurl, burl: urls.burl, lurl: urls.lurl,
      adm, adomain: w.adomain, cid: w.campaignId, crid: w.creativeId, cat: w.cat ?? [], mtype, w: w.w, h: w.h,
    };
    if (w.cattax !== undefined && w.cattax !== 1) bid.cattax = w.cattax;
    if (w.dealId) bid.dealid = w.dealId;
    let bids = seats.get(seat ?? w.advertiserId);
    if (!bids) seats.set(seat ?? w.advertiserId, (bids = []));
    bids.push(bid);
  }
  if (seats.size === 0) return null;
  return { id: outcome.requestId, bidid: outcome.requestId, cur: currency, seatbid: [...seats].map(([seat, bid]) => ({ seat, bid })) };
}
