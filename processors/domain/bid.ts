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
}

/** Why a campaign did not bid, or (for 'no_eligible_campaign') why an impression got no candidate. */
export type NoBidReason = 'no_eligible_campaign' | 'below_floor' | 'budget_exhausted' | 'frequency_capped' | 'paced';

export const NO_BID_REASONS: readonly NoBidReason[] = ['no_eligible_campaign', 'below_floor', 'budget_exhausted', 'frequency_capped', 'paced'];
