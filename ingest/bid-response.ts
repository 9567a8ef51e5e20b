/**
 * AuctionOutcome -> OpenRTB 2.6 BidResponse. Pure. Prices leave the pipeline's integer micros only
 * here, as the decimal CPM the protocol requires. One seatbid per advertiser.
 */
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';

export interface OpenRtbBid {
  id: string;
  impid: string;
  price: number;
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

/** The creative markup: a linked image. */
export function adMarkup(w: WinRecord): string {
  return `<a href="${escapeHtml(w.landingUrl)}" target="_blank"><img src="${escapeHtml(w.imageUrl)}" width="${w.w}" height="${w.h}" alt="${escapeHtml(w.title)}"></a>`;
}

/** Micros -> decimal currency units, exact to the micro (no binary-float drift in the digits). */
export function microsToDecimal(micros: number): number {
  return Number((micros / 1_000_000).toFixed(6));
}

/** The response for an outcome with wins; null when there is nothing to bid (the edge answers 204). */
export function toBidResponse(outcome: AuctionOutcome, currency = 'USD'): BidResponse | null {
  if (outcome.wins.length === 0) return null;
  const seats = new Map<string, OpenRtbBid[]>();
  for (const w of outcome.wins) {
    let bids = seats.get(w.advertiserId);
    if (!bids) seats.set(w.advertiserId, (bids = []));
    bids.push({
      id: `${outcome.requestId}:${w.impId}`, impid: w.impId, price: microsToDecimal(w.clearingPriceMicros), adm: adMarkup(w),
      adomain: w.adomain, cid: w.campaignId, crid: w.creativeId, w: w.w, h: w.h,
    });
  }
  return { id: outcome.requestId, bidid: outcome.requestId, cur: currency, seatbid: [...seats].map(([seat, bid]) => ({ seat, bid })) };
}
