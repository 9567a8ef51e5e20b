/**
 * The campaign record as the campaign-management API stores it and the campaign stream carries it.
 * Money is integer micros (1 currency unit = 1,000,000 micros); CPM is micros per 1000 impressions.
 * Time is UTC epoch milliseconds; wall-clock rules (dayparting, daily budgets) use `timezone`.
 */

export type CampaignStatus = 'active' | 'paused' | 'ended';
export type PacingMode = 'even' | 'asap';

/** The targeting dimensions, in one place so validation, matching and the index agree on them. */
export const TARGETING_DIMENSIONS = ['country', 'deviceType', 'interest', 'segment', 'domain', 'category', 'size'] as const;
export type TargetingDimension = (typeof TARGETING_DIMENSIONS)[number];

/**
 * Rules per dimension. Values of one dimension OR together, dimensions AND together; a missing or empty
 * list means "no rule" (everyone). Matching is case-insensitive; see processors/bid/targeting.ts.
 */
export type Targeting = { readonly [D in TargetingDimension]?: readonly string[] };

/** Device names that OpenRTB `devicetype` integers normalise to (see processors/bid/targeting.ts). */
export const DEVICE_TYPES = ['mobile', 'desktop', 'ctv', 'tablet', 'connected-device', 'set-top-box'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/**
 * A recurring time window in the campaign's time zone: active on the listed weekdays (Sunday = 0) from
 * `startMinute` (inclusive) to `endMinute` (exclusive), minutes after local midnight, 0 <= start < end <= 1440.
 * A window never crosses midnight; an overnight window is written as two windows.
 */
export interface DaypartWindow {
  readonly days: readonly number[];
  readonly startMinute: number;
  readonly endMinute: number;
}

/** At most `count` impressions per user per campaign-local day. */
export interface FrequencyCap {
  readonly count: number;
  readonly per: 'day';
}

export interface Creative {
  readonly id: string;
  readonly title: string;
  readonly imageUrl: string;
  readonly landingUrl: string;
  readonly width: number;
  readonly height: number;
  /** Advertiser domains, sent as OpenRTB `bid.adomain` so exchanges can apply their block lists. */
  readonly adomain: readonly string[];
}

export interface Campaign {
  readonly id: string;
  readonly advertiserId: string;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly bidCpmMicros: number;
  readonly dailyBudgetMicros: number;
  readonly lifetimeBudgetMicros: number;
  readonly startMs: number;
  /** Exclusive end; null = open-ended. */
  readonly endMs: number | null;
  /** IANA zone name, e.g. 'America/New_York'; the campaign's day starts at local midnight there. */
  readonly timezone: string;
  /** Empty = always. */
  readonly dayparting: readonly DaypartWindow[];
  readonly frequencyCap: FrequencyCap | null;
  readonly pacing: PacingMode;
  readonly targeting: Targeting;
  readonly creatives: readonly Creative[];
  readonly updatedAtMs: number;
}
