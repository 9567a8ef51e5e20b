/**
 * The bidder's decision for one request: which active campaigns bid on which imps, at what price,
 * with which creative. Pure: the caller supplies the clock, the counters (BidState) and the random
 * draw used for pacing, so the same inputs always give the same bids.
 *
 * Per imp: the index yields the campaigns whose targeting matches (`impCandidates`, computed once per
 * request by the caller, which also reads counters for exactly these); each must be scheduled now
 * (schedule.ts) and have a creative that fits the slot, or it is simply not a candidate. Candidates
 * are then checked in this order, the first failure being the reason counted:
 *   budget_exhausted  daily or lifetime spend has reached its budget (or cannot pay one impression at the floor)
 *   frequency_capped  the user has seen the cap today (a capped campaign never bids on an unknown user,
 *                     since the cap could not be enforced)
 *   paced             the pacing factor (pacing.ts) is 0, or the random draw fell above it
 *   below_floor       base CPM × performance multiplier (pricing.ts) is under the imp's floor
 * Campaign-level checks (the first three) run and count once per campaign per request; below_floor
 * counts per campaign and imp; no_eligible_campaign counts imps that had no candidate at all.
 */
import type { Campaign, Creative } from '../domain/campaign.js';
import type { CampaignIndex } from './campaign-index.js';
import { chooseCreative } from './creative-choice.js';
import { PPM } from './fixed-point.js';
import { dayElapsedPpm, pacingFactorPpm } from './pacing.js';
import { DEFAULT_PRIOR, performanceMultiplierPpm, priceBid } from './pricing.js';
import type { PerfPrior } from './pricing.js';
import { isScheduledAt } from './schedule.js';
import { impSizes, requestAttributes } from './targeting.js';
import type { Bid, NoBidReason } from '../domain/bid.js';
import type { BidRequestView, BidState, UserProfile } from './types.js';

export interface DecideOptions {
  readonly prior?: PerfPrior;
  readonly leadTolerancePpm?: number;
}

export interface BidSource {
  readonly campaign: Campaign;
  readonly creative: Creative;
}

export interface DecideResult {
  /** Every eligible bid, any number per imp; the auction picks the winner per imp. */
  readonly bids: readonly Bid[];
  /** The campaign and creative behind each bid, by position in `bids`, so callers need not look them up again. */
  readonly sources: readonly BidSource[];
  /** How many times each reason stopped a campaign (or, for no_eligible_campaign, an imp). */
  readonly noBidReasons: Readonly<Record<NoBidReason, number>>;
  /** null when there is at least one bid; otherwise the reason to report for the whole request. */
  readonly noBidReason: NoBidReason | null;
}

/** When several reasons tie for most frequent, the earlier one here is reported. */
const REASON_PRIORITY: readonly NoBidReason[] = ['budget_exhausted', 'frequency_capped', 'paced', 'below_floor'];

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

/**
 * Decides the bids for `request`, given its `impCandidates` (one list per imp, in campaign-id order).
 * `rand` returns a uniform draw in [0, 1), as Math.random does.
 */
export function decideBids(
  request: BidRequestView, candidates: readonly (readonly Campaign[])[], state: BidState,
  nowMs: number, rand: () => number, options: DecideOptions = {},
): DecideResult {
  const counts: Record<NoBidReason, number> = { no_eligible_campaign: 0, below_floor: 0, budget_exhausted: 0, frequency_capped: 0, paced: 0 };
  const verdicts = new Map<string, Verdict>();
  const bids: Bid[] = [];
  const sources: BidSource[] = [];
  for (let i = 0; i < request.imps.length; i++) {
    const imp = request.imps[i]!;
    const sizes = impSizes(imp);
    let eligible = 0;
    for (const c of candidates[i] ?? []) {
      if (!isScheduledAt(c, nowMs)) continue;
      const creative = chooseCreative(c.creatives, sizes, () => `${request.id}:${imp.id}:${c.id}`);
      if (creative === null) continue;
      eligible++;
      let verdict = verdicts.get(c.id);
      if (verdict === undefined) {
        verdict = campaignVerdict(c, request, state, nowMs, rand, options);
        verdicts.set(c.id, verdict);
        if (!verdict.ok) counts[verdict.reason]++;
      }
      if (!verdict.ok) continue;
      // The cheapest possible win costs floor/1000 per impression; a budget below that cannot pay it.
      if (verdict.remainingMicros < Math.floor(imp.bidFloorMicros / 1000)) {
        counts.budget_exhausted++;
        continue;
      }
      const perfPpm = performanceMultiplierPpm(state.perf.get(c.id), options.prior ?? DEFAULT_PRIOR);
      const priceMicros = priceBid({ baseCpmMicros: c.bidCpmMicros, perfPpm, floorMicros: imp.bidFloorMicros });
      if (priceMicros === null) {
        counts.below_floor++;
        continue;
      }
      bids.push({
        impId: imp.id, campaignId: c.id, advertiserId: c.advertiserId, creativeId: creative.id,
        priceMicros, adomain: creative.adomain, w: creative.width, h: creative.height,
      });
      sources.push({ campaign: c, creative });
    }
    if (eligible === 0) counts.no_eligible_campaign++;
  }
  return { bids, sources, noBidReasons: counts, noBidReason: bids.length > 0 ? null : overallReason(counts) };
}

function byCampaignId(a: Campaign, b: Campaign): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
