/**
 * How a campaign is read from Postgres (schemas/postgres/migrations/001_campaigns.sql): one query returns each
 * campaign row with its creatives aggregated in position order, mapped to a `StoredCampaign`.
 * bigint columns arrive as strings (postgres.js keeps int8 exact); every value in them was validated as
 * a safe integer before it was written, so Number() is exact.
 */
import type postgres from 'postgres';
import type { Campaign, CampaignDeal, CampaignStatus, Creative, DaypartWindow, FrequencyCap, PacingMode, Targeting } from '../domain/campaign.js';

/** A campaign as stored: the record plus its version (1 when created, +1 per change). */
export interface StoredCampaign extends Campaign {
  readonly version: number;
}

export interface Advertiser {
  readonly id: string;
  readonly name: string;
  readonly createdAtMs: number;
}

/** The pool or a transaction: reads run in either. */
export type Db = postgres.Sql | postgres.TransactionSql;

interface CampaignRow {
  id: string;
  advertiser_id: string;
  name: string;
  status: CampaignStatus;
  bid_cpm_micros: string;
  daily_budget_micros: string;
  lifetime_budget_micros: string;
  start_ms: string;
  end_ms: string | null;
  timezone: string;
  dayparting: DaypartWindow[];
  frequency_cap: FrequencyCap | null;
  pacing: PacingMode;
  targeting: Targeting;
  updated_at_ms: string;
  version: string;
  deals: CampaignDeal[];
  open_auction: boolean;
  creatives: Creative[];
}

/** Selects campaigns matching `where` (a fragment such as sql`c.id = ${id}`), ordered by id. */
export async function selectCampaigns(db: Db, where: postgres.PendingQuery<postgres.Row[]>, limit = 10_000): Promise<StoredCampaign[]> {
  const rows = await db<CampaignRow[]>`
    select c.*, coalesce((
      select json_agg(json_build_object(
        'id', cr.id, 'title', cr.title, 'imageUrl', cr.image_url, 'landingUrl', cr.landing_url,
        'width', cr.width, 'height', cr.height, 'adomain', cr.adomain, 'cat', cr.cat, 'cattax', cr.cattax,
        'bundle', cr.bundle, 'attr', cr.attr, 'video', cr.video) order by cr.position)
      from creatives cr where cr.campaign_id = c.id), '[]'::json) as creatives
    from campaigns c where ${where} order by c.id limit ${limit}`;
  return rows.map(rowToCampaign);
}

export function rowToCampaign(r: CampaignRow): StoredCampaign {
  return {
    id: r.id,
    advertiserId: r.advertiser_id,
    name: r.name,
    status: r.status,
    bidCpmMicros: Number(r.bid_cpm_micros),
    dailyBudgetMicros: Number(r.daily_budget_micros),
    lifetimeBudgetMicros: Number(r.lifetime_budget_micros),
    startMs: Number(r.start_ms),
    endMs: r.end_ms === null ? null : Number(r.end_ms),
    timezone: r.timezone,
    dayparting: r.dayparting,
    frequencyCap: r.frequency_cap,
    pacing: r.pacing,
    targeting: r.targeting,
    creatives: r.creatives,
    updatedAtMs: Number(r.updated_at_ms),
    deals: r.deals,
    openAuction: r.open_auction,
    version: Number(r.version),
  };
}

export function rowToAdvertiser(r: { id: string; name: string; created_at: Date }): Advertiser {
  return { id: r.id, name: r.name, createdAtMs: r.created_at.getTime() };
}
