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

/**
 * The banner markup we serve is an XHTML banner: OpenRTB 2.5 list 5.2 "Banner Ad Types" has 1 XHTML Text
 * Ad, 2 XHTML Banner Ad, 3 JavaScript Ad, 4 iframe. Our adm is an <a><img></a> document without script,
 * so an imp whose banner.btype blocks 2 cannot take our banners.
 */
export const OUR_BANNER_TYPE = 2;

/** OpenRTB `cattax` (AdCOM list "Category Taxonomies"): 1 = IAB Content Category Taxonomy 1.0 (the default). */
export const DEFAULT_CATTAX = 1;

/**
 * A video creative: the VAST document we serve (exactly one of `vastXml`, a VAST 2.0-4.x document, or
 * `vastTagUrl`, an https URL returning one; the other is ''), and what imp.video is matched against.
 * Its size is the creative's width/height.
 */
export interface CreativeVideo {
  readonly vastXml: string;
  readonly vastTagUrl: string;
  readonly durationSec: number;
  /** MIME types of the media files, e.g. 'video/mp4'; matched case-insensitively against imp.video.mimes. */
  readonly mimes: readonly string[];
  /** OpenRTB protocol ids the ad is valid for (2 VAST 2.0, 3 VAST 3.0, 7 VAST 4.0, ...). */
  readonly protocols: readonly number[];
}

/**
 * A creative. The fields added for block lists and video are optional in the type because records from
 * before them decode with the Avro defaults, and test fixtures may leave them out; absent means: no
 * categories, cattax 1, no app bundle, no attributes, a banner (video null).
 */
export interface Creative {
  readonly id: string;
  readonly title: string;
  /** The banner image; '' for a video creative (its media are in the VAST). */
  readonly imageUrl: string;
  readonly landingUrl: string;
  readonly width: number;
  readonly height: number;
  /** Advertiser domains, sent as OpenRTB `bid.adomain` so exchanges can apply their block lists. */
  readonly adomain: readonly string[];
  /** Content categories of the ad (OpenRTB bid.cat) in taxonomy `cattax`; matched against the request's bcat. */
  readonly cat?: readonly string[];
  readonly cattax?: number;
  /** The advertised app's bundle (matched against bapp); null when the ad is not for an app. */
  readonly bundle?: string | null;
  /** OpenRTB creative attributes (AdCOM "Creative Attributes"), matched against the imp's battr. */
  readonly attr?: readonly number[];
  /** Present for a video creative; null/absent for a banner. */
  readonly video?: CreativeVideo | null;
}

/**
 * A private-marketplace deal the campaign buys: it bids on an imp offering deal `id` (imp.pmp.deals),
 * at `bidCpmMicros` (a fixed deal price, base-currency CPM micros) or, when null, at the campaign's price.
 */
export interface CampaignDeal {
  readonly id: string;
  readonly bidCpmMicros: number | null;
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
  /** Deals the campaign bids through; absent = none. */
  readonly deals?: readonly CampaignDeal[];
  /** false = a deal-only campaign (never bids in the open auction); absent = true. */
  readonly openAuction?: boolean;
}
