/**
 * The plain records the bidder's pure logic takes. The Kafka processor maps the decoded
 * (enriched) bid request onto `BidRequestView` and passes the Redis-backed counters as `BidState`.
 * What it returns, `Bid` and `NoBidReason`, the auction shares: processors/domain/bid.ts.
 * Money is integer micros (CPM = micros per 1000 impressions); time is UTC epoch milliseconds.
 */

/** One OpenRTB impression, reduced to what bidding needs. */
export interface ImpView {
  readonly id: string;
  /** `imp.bidfloor` converted to CPM micros (0 when absent). */
  readonly bidFloorMicros: number;
  /** `imp.banner.w` / `imp.banner.h`. */
  readonly w?: number | null;
  readonly h?: number | null;
  /** `imp.banner.format[]`: every size the slot accepts. */
  readonly formats?: readonly { readonly w: number; readonly h: number }[];
  /** `imp.bidfloorcur` (absent = USD). */
  readonly bidFloorCur?: string;
  /**
   * The imp's banner object: present = banner creatives may serve (absent in views built before video,
   * where a banner was assumed: see `hasBanner`). btype/battr are its block lists.
   */
  readonly banner?: { readonly btype: readonly number[]; readonly battr: readonly number[] } | null;
  /** `imp.video`: present = video creatives may serve. */
  readonly video?: ImpVideoView | null;
  /** imp.native was present. */
  readonly native?: boolean;
  readonly pmp?: PmpView | null;
}

export interface ImpVideoView {
  readonly mimes: readonly string[];
  readonly minDurationSec: number | null;
  readonly maxDurationSec: number | null;
  /** [] = any protocol. */
  readonly protocols: readonly number[];
  readonly w: number | null;
  readonly h: number | null;
  readonly battr: readonly number[];
}

export interface DealView {
  readonly id: string;
  /** In `bidFloorCur` micros. */
  readonly bidFloorMicros: number;
  readonly bidFloorCur: string;
  /** The deal's auction type (3: bidFloorMicros is the agreed price); null or absent: the request's. */
  readonly at?: number | null;
  /** Seats allowed; [] = any. */
  readonly wseat: readonly string[];
  /** Advertiser domains allowed; [] = any. */
  readonly wadomain: readonly string[];
}

export interface PmpView {
  readonly privateAuction: boolean;
  readonly deals: readonly DealView[];
}

/** A bid request, reduced to what bidding needs. */
export interface BidRequestView {
  readonly id: string;
  readonly imps: readonly ImpView[];
  /** `device.geo.country`: ISO alpha-3 per OpenRTB; alpha-2 is accepted too. */
  readonly country?: string | null;
  /** `device.devicetype` (OpenRTB integer 1..7) or an already-normalised name such as 'mobile'. */
  readonly deviceType?: number | string | null;
  /** `site.domain` (or the app's domain); a URL is reduced to its host. */
  readonly domain?: string | null;
  /** `site.cat`, `site.sectioncat` and `site.pagecat`, merged. */
  readonly categories?: readonly string[];
  /** The user id frequency caps are counted against; null when the exchange sent none or personal data may not be used. */
  readonly userId?: string | null;
  /** Blocked content categories in taxonomy `cattax` (absent = 1), advertiser domains and app bundles. */
  readonly bcat?: readonly string[];
  readonly cattax?: number;
  readonly badv?: readonly string[];
  readonly bapp?: readonly string[];
  /** Currencies the answer may use ([] = any). */
  readonly cur?: readonly string[];
}

/** The enriched user profile (from Redis); null when the lookup failed or the user is unknown. */
export interface UserProfile {
  readonly interests: readonly string[];
  readonly segments: readonly string[];
}

/** Delivery counts that drive the performance multiplier. */
export interface PerfStats {
  readonly impressions: number;
  readonly clicks: number;
}

/**
 * Counters keyed by campaign id; a missing entry means zero. Spend and frequency counts are for the
 * campaign's current local day (key them with `localDay(...).dayKey` from schedule.ts).
 */
export interface BidState {
  readonly spentTodayMicros: ReadonlyMap<string, number>;
  readonly spentLifetimeMicros: ReadonlyMap<string, number>;
  /** Impressions this request's user has seen from each campaign today. */
  readonly frequencyCounts: ReadonlyMap<string, number>;
  readonly perf: ReadonlyMap<string, PerfStats>;
}
