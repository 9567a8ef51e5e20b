/**
 * Budget pacing over the campaign-local day, as an integer factor in parts per million that the
 * bidder uses as the probability of taking part in an auction (see decide.ts).
 *
 * - 'asap': 1,000,000 until the daily budget is spent, then 0.
 * - 'even': the spend target by now is dailyBudget × elapsed fraction of the day's active time. At or
 *   behind target the factor is 1,000,000; ahead of it the factor falls linearly with the lead and
 *   reaches 0 when the lead is `leadTolerancePpm` of the daily budget (default 10%), so a campaign that
 *   is far ahead waits for the clock instead of spending the rest of its day in the morning.
 * All arithmetic is integer; targets round down (towards spending less).
 */
import type { Campaign, DaypartWindow, PacingMode } from '../domain/campaign.js';
import { mulDivFloor, PPM } from './fixed-point.js';
import { localDay, localTime } from './schedule.js';

export const DEFAULT_LEAD_TOLERANCE_PPM = 100_000;
const MINUTE = 60_000;

export interface PacingInput {
  readonly mode: PacingMode;
  readonly dailyBudgetMicros: number;
  readonly spentTodayMicros: number;
  /** Elapsed share of today's active time, 0..1,000,000 (see `dayElapsedPpm`). */
  readonly elapsedPpm: number;
  /** Lead (as a share of the daily budget) at which the factor reaches 0. */
  readonly leadTolerancePpm?: number;
}

/** Participation factor in ppm, 0..1,000,000; 0 whenever the daily budget is spent. */
export function pacingFactorPpm(input: PacingInput): number {
  const { dailyBudgetMicros: budget, spentTodayMicros: spent } = input;
  if (spent >= budget) return 0;
  if (input.mode === 'asap') return PPM;
  const target = mulDivFloor(budget, Math.min(Math.max(input.elapsedPpm, 0), PPM), PPM);
  const lead = spent - target;
  if (lead <= 0) return PPM;
  const tolerance = Math.max(1, mulDivFloor(budget, input.leadTolerancePpm ?? DEFAULT_LEAD_TOLERANCE_PPM, PPM));
  return Math.max(0, PPM - mulDivFloor(lead, PPM, tolerance));
}

/** Today's windows as sorted, merged [start, end) minute intervals, so overlaps are not counted twice. */
function activeIntervals(windows: readonly DaypartWindow[], weekday: number): [number, number][] {
  const list = windows.filter((w) => w.days.includes(weekday)).map((w): [number, number] => [w.startMinute, w.endMinute]);
  list.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [s, e] of list) {
    const last = merged[merged.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

/**
 * Elapsed share of the campaign's active time today, in ppm. Without dayparting: real elapsed time
 * over the real length of the local day (23 or 25 hours on DST days). With dayparting: elapsed active
 * wall-clock minutes over today's active minutes, so a 9-17 campaign is at 50% at 13:00. A day with no
 * active window gives 1,000,000 (nothing left to pace; the schedule keeps it from bidding anyway).
 */
export function dayElapsedPpm(campaign: Campaign, nowMs: number): number {
  if (campaign.dayparting.length === 0) {
    const day = localDay(campaign.timezone, nowMs);
    return mulDivFloor(nowMs - day.startMs, PPM, day.nextMidnightMs - day.startMs);
  }
  const local = localTime(campaign.timezone, nowMs);
  let total = 0;
  let elapsed = 0;
  for (const [s, e] of activeIntervals(campaign.dayparting, local.weekday)) {
    total += (e - s) * MINUTE;
    elapsed += Math.min(Math.max(local.msOfDay - s * MINUTE, 0), (e - s) * MINUTE);
  }
  return total === 0 ? PPM : mulDivFloor(elapsed, PPM, total);
}
