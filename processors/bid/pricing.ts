/**
 * Bid price: base CPM × performance multiplier (× an optional pacing price factor), in integer micros.
 *
 * The performance multiplier compares the campaign's smoothed CTR with a prior CTR. Smoothing is
 * Bayesian (a beta prior worth `strengthImpressions` impressions at `ctrPpm`), so a new campaign sits
 * at exactly 1.0 and a handful of lucky clicks cannot double its price:
 *   smoothedCtr = (clicks + ctr × strength) / (impressions + strength)
 *   multiplier  = clamp(smoothedCtr / ctr, 0.5, 2.0)
 * computed as one integer expression in ppm and rounded down.
 */
import { mulDivFloor, PPM } from './fixed-point.js';
import type { PerfStats } from './types.js';

export interface PerfPrior {
  /** Prior click-through rate in ppm (1,000 = 0.1%). */
  readonly ctrPpm: number;
  /** How many impressions the prior is worth. */
  readonly strengthImpressions: number;
}

export const DEFAULT_PRIOR: PerfPrior = { ctrPpm: 1_000, strengthImpressions: 1_000 };
export const MIN_MULTIPLIER_PPM = 500_000;
export const MAX_MULTIPLIER_PPM = 2_000_000;

/** Smoothed CTR in ppm, rounded down. */
export function smoothedCtrPpm(stats: PerfStats, prior: PerfPrior = DEFAULT_PRIOR): number {
  const clicks = Math.max(0, Math.min(stats.clicks, stats.impressions));
  const impressions = Math.max(0, stats.impressions);
  // (clicks × 10^6 + ctrPpm × strength) / (impressions + strength) is the smoothed CTR in ppm.
  return Math.floor((clicks * PPM + prior.ctrPpm * prior.strengthImpressions) / (impressions + prior.strengthImpressions));
}

/**
 * smoothedCtr / priorCtr in ppm, clamped to [0.5, 2.0]. Computed from the unrounded smoothed CTR:
 * (clicks × 10^6 + ctrPpm × strength) × 10^6 / ((impressions + strength) × ctrPpm), rounded down.
 * Clicks above impressions (late or duplicated click events) are capped at impressions.
 */
export function performanceMultiplierPpm(stats: PerfStats | undefined, prior: PerfPrior = DEFAULT_PRIOR): number {
  if (stats === undefined) return PPM;
  const clicks = Math.max(0, Math.min(stats.clicks, stats.impressions));
  const impressions = Math.max(0, stats.impressions);
  const numerator = clicks * PPM + prior.ctrPpm * prior.strengthImpressions;
  const m = mulDivFloor(numerator, PPM, (impressions + prior.strengthImpressions) * prior.ctrPpm);
  return Math.min(MAX_MULTIPLIER_PPM, Math.max(MIN_MULTIPLIER_PPM, m));
}

export interface PriceInput {
  readonly baseCpmMicros: number;
  readonly perfPpm: number;
  /**
   * Price shading for pacing, default 1,000,000 (none). The bidder paces by participation probability
   * instead (decide.ts), so it leaves this at the default; it exists for shading strategies.
   */
  readonly pacingPpm?: number;
  readonly floorMicros: number;
}

/**
 * floor(base × perf × pacing) CPM micros, or null when that is below the floor (the campaign skips
 * the impression rather than bid under it). One rounding, at the end, in exact integer arithmetic.
 */
export function priceBid(input: PriceInput): number | null {
  const pacing = input.pacingPpm ?? PPM;
  // Unshaded (the bidder's case) the pacing factor is exactly 1: base × perf / 10^6, which mulDivFloor
  // computes exactly without the four BigInt allocations of the general formula (per candidate and imp).
  const price = pacing === PPM
    ? mulDivFloor(input.baseCpmMicros, input.perfPpm, PPM)
    : Number((BigInt(input.baseCpmMicros) * BigInt(input.perfPpm) * BigInt(pacing)) / BigInt(PPM * PPM));
  return price < input.floorMicros || price <= 0 ? null : price;
}
