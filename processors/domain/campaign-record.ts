/**
 * Campaign (campaign.ts) <-> the Avro record of schemas/avro/campaign.avsc (rtb.v1.Campaign).
 *
 * The two differ only in targeting: the schema has every dimension as a required array (empty = no
 * rule), the type makes them optional. Writing fills the missing dimensions with []; reading drops the
 * empty ones, so a campaign read back is in the canonical form validateCampaign produces.
 */
import { TARGETING_DIMENSIONS } from './campaign.js';
import type { Campaign, CampaignStatus, DaypartWindow, FrequencyCap, PacingMode, Targeting, TargetingDimension } from './campaign.js';

/** The value written to the campaigns topic, field for field as in campaign.avsc. */
export interface CampaignRecord {
  id: string;
  advertiserId: string;
  name: string;
  status: CampaignStatus;
  bidCpmMicros: number;
  dailyBudgetMicros: number;
  lifetimeBudgetMicros: number;
  startMs: number;
  endMs: number | null;
  timezone: string;
  dayparting: Array<{ days: number[]; startMinute: number; endMinute: number }>;
  frequencyCap: { count: number; per: 'day' } | null;
  pacing: PacingMode;
  targeting: Record<TargetingDimension, string[]>;
  creatives: Array<{ id: string; title: string; imageUrl: string; landingUrl: string; width: number; height: number; adomain: string[] }>;
  updatedAtMs: number;
}

/** Builds the Avro record of a campaign; extra properties (such as the store's `version`) are not carried. */
export function campaignToRecord(c: Campaign): CampaignRecord {
  const targeting = {} as Record<TargetingDimension, string[]>;
  for (const dim of TARGETING_DIMENSIONS) targeting[dim] = [...(c.targeting[dim] ?? [])];
  return {
    id: c.id,
    advertiserId: c.advertiserId,
    name: c.name,
    status: c.status,
    bidCpmMicros: c.bidCpmMicros,
    dailyBudgetMicros: c.dailyBudgetMicros,
    lifetimeBudgetMicros: c.lifetimeBudgetMicros,
    startMs: c.startMs,
    endMs: c.endMs,
    timezone: c.timezone,
    dayparting: c.dayparting.map((w) => ({ days: [...w.days], startMinute: w.startMinute, endMinute: w.endMinute })),
    frequencyCap: c.frequencyCap === null ? null : { count: c.frequencyCap.count, per: c.frequencyCap.per },
    pacing: c.pacing,
    targeting,
    creatives: c.creatives.map((cr) => ({
      id: cr.id, title: cr.title, imageUrl: cr.imageUrl, landingUrl: cr.landingUrl, width: cr.width, height: cr.height, adomain: [...cr.adomain],
    })),
    updatedAtMs: c.updatedAtMs,
  };
}

/** Reads a decoded record (avsc returns its own record classes) back into a plain Campaign. */
export function recordToCampaign(r: CampaignRecord): Campaign {
  const targeting: { [D in TargetingDimension]?: string[] } = {};
  for (const dim of TARGETING_DIMENSIONS) {
    const values = r.targeting[dim];
    if (values !== undefined && values.length > 0) targeting[dim] = [...values];
  }
  const dayparting: DaypartWindow[] = r.dayparting.map((w) => ({ days: [...w.days], startMinute: w.startMinute, endMinute: w.endMinute }));
  const frequencyCap: FrequencyCap | null = r.frequencyCap === null ? null : { count: r.frequencyCap.count, per: r.frequencyCap.per };
  return {
    id: r.id,
    advertiserId: r.advertiserId,
    name: r.name,
    status: r.status,
    bidCpmMicros: r.bidCpmMicros,
    dailyBudgetMicros: r.dailyBudgetMicros,
    lifetimeBudgetMicros: r.lifetimeBudgetMicros,
    startMs: r.startMs,
    endMs: r.endMs,
    timezone: r.timezone,
    dayparting,
    frequencyCap,
    pacing: r.pacing,
    targeting: targeting as Targeting,
    creatives: r.creatives.map((cr) => ({
      id: cr.id, title: cr.title, imageUrl: cr.imageUrl, landingUrl: cr.landingUrl, width: cr.width, height: cr.height, adomain: [...cr.adomain],
    })),
    updatedAtMs: r.updatedAtMs,
  };
}
