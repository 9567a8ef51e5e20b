/**
 * A bidder's offer and the reasons it gives for not bidding: what the bid processor returns and the
 * auction ranks and reports (its OpenRTB `nbr` codes: processors/auction/no-bid-reasons.ts).
 * Money is integer micros (CPM = micros per 1000 impressions).
 */

/** One offer for one impression. `priceMicros` is a CPM, never below the imp's floor. */
export interface Bid {
  readonly impId: string;
  readonly campaignId: string;
  readonly advertiserId: string;
  readonly creativeId: string;
  readonly priceMicros: number;
  readonly adomain: readonly string[];
  readonly w: number;
  readonly h: number;
  /** The deal the bid is made through ('' or absent = open auction). */
  readonly dealId?: string;
  /**
   * The floor this bid must clear, base-currency CPM micros: its deal's floor for a deal bid; for an open
   * bid the imp's (the auction takes the larger of this and the imp floor). Absent = the imp's floor.
   */
  readonly floorMicros?: number;
}

/**
 * Why a campaign did not bid, or (for 'no_eligible_campaign') why an impression got no candidate.
 *   blocked               every creative that fits the imp is excluded by a block list (bcat, badv, bapp, battr, btype)
 *   deal_only             the imp is a private auction, or the campaign deal-only, and it had no usable deal
 *   currency_unsupported  no rate for the imp's floor currency (per imp), or for any currency the answer may use (request)
 *   native_unsupported    a native-only imp (we serve no native ads yet)
 */
export type NoBidReason =
  | 'no_eligible_campaign' | 'below_floor' | 'budget_exhausted' | 'frequency_capped' | 'paced'
  | 'blocked' | 'deal_only' | 'currency_unsupported' | 'native_unsupported';

export const NO_BID_REASONS: readonly NoBidReason[] = [
  'no_eligible_campaign', 'below_floor', 'budget_exhausted', 'frequency_capped', 'paced',
  'blocked', 'deal_only', 'currency_unsupported', 'native_unsupported',
];
