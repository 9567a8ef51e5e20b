/**
 * The bidder's decision for one request: which active campaigns bid on which imps, at what price,
 * with which creative. Pure: the caller supplies the clock, the counters (BidState) and the random
 * draw used for pacing, so the same inputs always give the same bids.
 *
 * Request level first: the answer currency (currency.ts answerCurrency over cur[]); when none of the
 * allowed currencies has a rate nothing is bid (currency_unsupported). Per imp: a native-only imp is
 * declined (native_unsupported); an imp whose floor currency has no rate cannot be bid (currency_unsupported);
 * otherwise its floor is converted to USD micros, rounded up.
 *
 * Per imp, the index yields the campaigns whose targeting matches (`impCandidates`, computed once per
 * request by the caller, which also reads counters for exactly these); each must be scheduled now
 * (schedule.ts) and have a creative whose format fits the imp (creative-fit.ts), or it is simply not a
 * candidate. Candidates are then checked in this order, the first failure being the reason counted:
 *   blocked           every fitting creative is excluded by a block list (creative-fit.ts)
 *   deal_only         no usable deal (below) while the imp is a private auction or the campaign deal-only
 *   budget_exhausted  daily or lifetime spend has reached its budget (or cannot pay one impression at the floor)
 *   frequency_capped  the user has seen the cap today (a capped campaign never bids on an unknown user,
 *                     since the cap could not be enforced; without personal data there is no user)
 *   paced             the pacing factor (pacing.ts) is 0, or the random draw fell above it
 *   below_floor       the price is under the floor the bid must clear
 * Campaign-level checks (budget, cap, pacing) run and count once per campaign per request; the others
 * count per campaign and imp; no_eligible_campaign counts imps that had no candidate at all.
 *
 * Deals (imp.pmp.deals): a deal is usable by a campaign that buys it (Campaign.deals) when its wseat is
 * empty or names the campaign's advertiser id or one of our seats (options.seats), its wadomain is empty or
 * shares a domain with a fitting creative (only those creatives are then used), and its floor currency has
 * a rate. Each usable deal is priced:
 *   deal at = 3 (OpenRTB: the bidfloor is the agreed deal price) with a floor: exactly that price (converted,
 *                rounded up), when the campaign's own price for the deal (its fixed price, else base CPM ×
 *                performance) reaches it;
 *   otherwise:   the campaign's fixed price for the deal, else base CPM × performance; it must clear the
 *                deal's floor (converted, rounded up).
 * The bid goes through the best-priced deal (ties: the exchange's order), since exchanges rank deal bids
 * by price. When no deal prices, or none is usable, the campaign bids in the open auction against the
 * imp's floor, unless the imp is a private auction or the campaign has openAuction false (deal_only when
 * no deal was usable; below_floor when usable deals did not price).
 */
import type { Campaign, Creative } from '../domain/campaign.js';
import { answerCurrency, BASE_CURRENCY, toBaseMicrosCeil, type AnswerCurrency, type RateTable } from '../domain/currency.js';
import type { CampaignIndex } from './campaign-index.js';
import { chooseCreative } from './creative-choice.js';
import { fitMtype, impTakesBanner, isBlocked, requestBlocks, type RequestBlocks } from './creative-fit.js';
import { mulDivFloor, PPM } from './fixed-point.js';
import { dayElapsedPpm, pacingFactorPpm } from './pacing.js';
import { DEFAULT_PRIOR, performanceMultiplierPpm, priceBid } from './pricing.js';
import type { PerfPrior } from './pricing.js';
import { isScheduledAt } from './schedule.js';
import { impSizes, requestAttributes } from './targeting.js';
import type { Bid, NoBidReason } from '../domain/bid.js';
import type { BidRequestView, BidState, ImpView, PmpView, UserProfile } from './types.js';

export interface DecideOptions {
  readonly prior?: PerfPrior;
  readonly leadTolerancePpm?: number;
  /** The usable rate table (null/absent: only USD); the caller withholds a stale one. */
  readonly fx?: RateTable | null;
  /** Our seat ids at the exchanges, matched against a deal's wseat besides the campaign's advertiser id. */
  readonly seats?: readonly string[];
}

export interface BidSource {
  readonly campaign: Campaign;
  readonly creative: Creative;
  /** The deal the bid is made through; '' = open auction. */
  readonly dealId: string;
  /** The floor the bid must clear, USD CPM micros: the deal's, or the imp's for an open bid. */
  readonly floorMicros: number;
  /** OpenRTB bid.mtype: 1 banner, 2 video. */
  readonly mtype: number;
}

export interface DecideResult {
  /** Every eligible bid, any number per imp; the auction picks the winner per imp. */
  readonly bids: readonly Bid[];
  /** The campaign, creative, deal and floor behind each bid, by position in `bids`. */
  readonly sources: readonly BidSource[];
  /** How many times each reason stopped a campaign (or, for imp-level reasons, an imp). */
  readonly noBidReasons: Readonly<Record<NoBidReason, number>>;
  /** null when there is at least one bid; otherwise the reason to report for the whole request. */
  readonly noBidReason: NoBidReason | null;
  /** Per imp (same order), its floor in USD CPM micros; null when its currency has no rate. */
  readonly impFloorsMicros: readonly (number | null)[];
  /** The answer's currency; null when none of cur[] can be used. */
  readonly currency: AnswerCurrency | null;
}

/** When several reasons tie for most frequent, the earlier one here is reported. */
const REASON_PRIORITY: readonly NoBidReason[] = [
  'currency_unsupported', 'native_unsupported', 'deal_only', 'blocked', 'budget_exhausted', 'frequency_capped', 'paced', 'below_floor',
];

const noCounts = (): Record<NoBidReason, number> => ({
  no_eligible_campaign: 0, below_floor: 0, budget_exhausted: 0, frequency_capped: 0, paced: 0,
  blocked: 0, deal_only: 0, currency_unsupported: 0, native_unsupported: 0,
});

/** The outcome of the campaign-level checks, plus what later per-imp checks need. */
type Verdict = { readonly ok: false; readonly reason: NoBidReason } | { readonly ok: true; readonly remainingMicros: number };

function campaignVerdict(c: Campaign, request: BidRequestView, state: BidState, nowMs: number, rand: () => number, options: DecideOptions): Verdict {
  const spentToday = state.spentTodayMicros.get(c.id) ?? 0;
  const remainingMicros = Math.min(c.dailyBudgetMicros - spentToday, c.lifetimeBudgetMicros - (state.spentLifetimeMicros.get(c.id) ?? 0));
  if (remainingMicros <= 0) return { ok: false, reason: 'budget_exhausted' };
  if (c.frequencyCap !== null) {
    const seen = state.frequencyCounts.get(c.id) ?? 0;
    if (!request.userId || seen >= c.frequencyCap.count) return { ok: false, reason: 'frequency_capped' };
  }
  const factor = pacingFactorPpm({
    mode: c.pacing, dailyBudgetMicros: c.dailyBudgetMicros, spentTodayMicros: spentToday,
    elapsedPpm: c.pacing === 'even' ? dayElapsedPpm(c, nowMs) : 0, leadTolerancePpm: options.leadTolerancePpm,
  });
  // Draw only when throttling, so unthrottled campaigns do not consume the caller's random sequence.
  if (factor === 0 || (factor < PPM && Math.floor(rand() * PPM) >= factor)) return { ok: false, reason: 'paced' };
  return { ok: true, remainingMicros };
}

function overallReason(counts: Record<NoBidReason, number>): NoBidReason {
  let best: NoBidReason = 'no_eligible_campaign';
  let bestCount = 0;
  for (const r of REASON_PRIORITY) {
    if (counts[r] > bestCount) [best, bestCount] = [r, counts[r]];
  }
  return best;
}

/**
 * Per imp of `request` (same order), the active campaigns whose targeting matches it, in campaign-id
 * order so that a seeded `rand` reproduces the same decisions.
 */
export function impCandidates(request: BidRequestView, profile: UserProfile | null, index: CampaignIndex): Campaign[][] {
  return request.imps.map((imp) => index.candidates(requestAttributes(request, imp, profile)).map((e) => e.campaign).sort(byCampaignId));
}

/** A deal a campaign can bid through (see the module comment). */
interface UsableDeal {
  readonly id: string;
  /** The deal floor, USD CPM micros (rounded up). */
  readonly floorMicros: number;
  /** The deal's floor is its agreed price (deal at = 3 with a floor): the bid must be exactly that. */
  readonly agreedPrice: boolean;
  /** The campaign's fixed price for this deal; null: base CPM × performance. */
  readonly fixedPriceMicros: number | null;
  readonly allowed: readonly Creative[];
}

const NO_DEALS: readonly UsableDeal[] = Object.freeze([]);

/** The deals of `pmp` that campaign `c` may bid through, in the exchange's order. */
export function usableDeals(c: Campaign, pmp: PmpView | null, allowed: readonly Creative[], options: DecideOptions): readonly UsableDeal[] {
  // Runs per candidate and imp: most imps carry no deals, and then nothing is allocated.
  if (pmp === null || pmp.deals.length === 0 || !c.deals || c.deals.length === 0) return NO_DEALS;
  const usable: UsableDeal[] = [];
  for (const d of pmp.deals) {
    const ours = c.deals.find((x) => x.id === d.id);
    if (ours === undefined) continue;
    if (d.wseat.length > 0 && !d.wseat.some((s) => s === c.advertiserId || (options.seats ?? []).includes(s))) continue;
    let inDeal = allowed;
    if (d.wadomain.length > 0) {
      const domains = new Set(d.wadomain.map((x) => x.trim().toLowerCase()));
      inDeal = allowed.filter((a) => a.adomain.some((x) => domains.has(x.toLowerCase())));
      if (inDeal.length === 0) continue;
    }
    const floorMicros = d.bidFloorMicros === 0 ? 0 : toBaseMicrosCeil(d.bidFloorMicros, d.bidFloorCur || BASE_CURRENCY, options.fx ?? null);
    if (floorMicros === null) continue;
    usable.push({ id: d.id, floorMicros, agreedPrice: d.at === 3 && floorMicros > 0, fixedPriceMicros: ours.bidCpmMicros, allowed: inDeal });
  }
  return usable;
}

/** The price campaign `c` bids through `deal` (see the module comment); null when it does not clear the deal. */
export function dealPrice(c: Campaign, deal: UsableDeal, perfPpm: number): number | null {
  const own = deal.fixedPriceMicros ?? mulDivFloor(c.bidCpmMicros, perfPpm, PPM);
  if (deal.agreedPrice) return own >= deal.floorMicros ? deal.floorMicros : null;
  return own >= deal.floorMicros && own > 0 ? own : null;
}

/** The imp's floor in USD micros; null when its currency has no rate (a zero floor needs none). */
function impFloor(imp: ImpView, fx: RateTable | null): number | null {
  return imp.bidFloorMicros === 0 ? 0 : toBaseMicrosCeil(imp.bidFloorMicros, imp.bidFloorCur || BASE_CURRENCY, fx);
}

/**
 * The creatives of `c` allowed in `imp`; null when none even fits the format (not a candidate at all).
 * Only creatives are collected (no per-creative format record): this runs per candidate and imp, and the
 * format is computed again for the one creative chosen.
 */
function allowedCreatives(c: Campaign, imp: ImpView, sizes: readonly { w: number; h: number }[], blocks: RequestBlocks): Creative[] | null {
  let fits = false;
  const allowed: Creative[] = [];
  for (const creative of c.creatives) {
    const mtype = fitMtype(creative, imp, sizes);
    if (mtype === null) continue;
    fits = true;
    if (!isBlocked(creative, mtype, imp, blocks)) allowed.push(creative);
  }
  return fits ? allowed : null;
}

/**
 * Decides the bids for `request`, given its `impCandidates` (one list per imp, in campaign-id order).
 * `rand` returns a uniform draw in [0, 1), as Math.random does.
 */
export function decideBids(
  request: BidRequestView, candidates: readonly (readonly Campaign[])[], state: BidState,
  nowMs: number, rand: () => number, options: DecideOptions = {},
): DecideResult {
  const counts = noCounts();
  const fx = options.fx ?? null;
  const impFloorsMicros = request.imps.map((imp) => impFloor(imp, fx));
  const currency = answerCurrency(request.cur ?? [], fx);
  if (currency === null) {
    counts.currency_unsupported++;
    return { bids: [], sources: [], noBidReasons: counts, noBidReason: 'currency_unsupported', impFloorsMicros, currency };
  }
  const blocks = requestBlocks(request);
  const verdicts = new Map<string, Verdict>();
  const bids: Bid[] = [];
  const sources: BidSource[] = [];
  for (let i = 0; i < request.imps.length; i++) {
    const imp = request.imps[i]!;
    if (imp.native && !imp.video && !impTakesBanner(imp)) {
      counts.native_unsupported++;
      continue;
    }
    const openFloor = impFloorsMicros[i]!;
    if (openFloor === null) {
      counts.currency_unsupported++;
      continue;
    }
    const sizes = impSizes(imp);
    const pmp = imp.pmp ?? null;
    let eligible = 0;
    for (const c of candidates[i] ?? []) {
      if (!isScheduledAt(c, nowMs)) continue;
      const allowed = allowedCreatives(c, imp, sizes, blocks);
      if (allowed === null) continue;
      eligible++;
      if (allowed.length === 0) {
        counts.blocked++;
        continue;
      }
      const deals = usableDeals(c, pmp, allowed, options);
      const openAllowed = pmp?.privateAuction !== true && c.openAuction !== false;
      if (deals.length === 0 && !openAllowed) {
        counts.deal_only++;
        continue;
      }
      let verdict = verdicts.get(c.id);
      if (verdict === undefined) {
        verdict = campaignVerdict(c, request, state, nowMs, rand, options);
        verdicts.set(c.id, verdict);
        if (!verdict.ok) counts[verdict.reason]++;
      }
      if (!verdict.ok) continue;
      // The cheapest possible win costs floor/1000 per impression; a budget below that cannot pay it.
      let lowestFloor = openAllowed ? openFloor : Infinity;
      for (const d of deals) lowestFloor = Math.min(lowestFloor, d.floorMicros);
      if (verdict.remainingMicros < Math.floor(lowestFloor / 1000)) {
        counts.budget_exhausted++;
        continue;
      }
      const perfPpm = performanceMultiplierPpm(state.perf.get(c.id), options.prior ?? DEFAULT_PRIOR);
      let deal: UsableDeal | null = null;
      let priceMicros: number | null = null;
      for (const d of deals) {
        const p = dealPrice(c, d, perfPpm);
        if (p !== null && (priceMicros === null || p > priceMicros)) {
          deal = d;
          priceMicros = p;
        }
      }
      if (deal === null && openAllowed) priceMicros = priceBid({ baseCpmMicros: c.bidCpmMicros, perfPpm, floorMicros: openFloor });
      const floorMicros = deal?.floorMicros ?? openFloor;
      if (priceMicros === null || verdict.remainingMicros < Math.floor(floorMicros / 1000)) {
        if (priceMicros === null) counts.below_floor++;
        else counts.budget_exhausted++;
        continue;
      }
      const creative = chooseCreative(deal?.allowed ?? allowed, () => `${request.id}:${imp.id}:${c.id}`)!;
      bids.push({
        impId: imp.id, campaignId: c.id, advertiserId: c.advertiserId, creativeId: creative.id,
        priceMicros, adomain: creative.adomain, w: creative.width, h: creative.height,
      });
      sources.push({ campaign: c, creative, dealId: deal?.id ?? '', floorMicros, mtype: fitMtype(creative, imp, sizes)! });
    }
    if (eligible === 0) counts.no_eligible_campaign++;
  }
  return { bids, sources, noBidReasons: counts, noBidReason: bids.length > 0 ? null : overallReason(counts), impFloorsMicros, currency };
}

function byCampaignId(a: Campaign, b: Campaign): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
