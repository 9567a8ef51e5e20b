/**
 * Campaign (campaign.ts) <-> the Avro record of schemas/avro/campaign.avsc (rtb.v1.Campaign).
 *
 * The two differ in what is optional: the schema has every targeting dimension as a required array
 * (empty = no rule), the type makes them optional; the creative's block-list and video fields and the
 * campaign's deals/openAuction are optional in the type (absent = the Avro default). Writing fills in
 * the defaults; reading drops the empty targeting dimensions and sets every other field, so a campaign
 * read back is in the canonical form validateCampaign produces.
 */
import { DEFAULT_CATTAX, TARGETING_DIMENSIONS } from './campaign.js';
import type { Campaign, CampaignStatus, Creative, DaypartWindow, FrequencyCap, PacingMode, Targeting, TargetingDimension } from './campaign.js';

/** A creative as written to the campaigns topic, field for field as in campaign.avsc. */
export interface CreativeRecord {
  id: string;
  title: string;
  imageUrl: string;
  landingUrl: string;
  width: number;
  height: number;
  adomain: string[];
  cat: string[];
  cattax: number;
  bundle: string | null;
  attr: number[];
  video: { vastXml: string; vastTagUrl: string; durationSec: number; mimes: string[]; protocols: number[] } | null;
}

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
  creatives: CreativeRecord[];
  updatedAtMs: number;
  deals: Array<{ id: string; bidCpmMicros: number | null }>;
  openAuction: boolean;
}

/** One creative with every optional field filled in (the canonical form; also the record's shape). */
export function canonicalCreative(cr: Creative): CreativeRecord {
  const v = cr.video ?? null;
  return {
    id: cr.id, title: cr.title, imageUrl: cr.imageUrl, landingUrl: cr.landingUrl, width: cr.width, height: cr.height, adomain: [...cr.adomain],
    cat: [...(cr.cat ?? [])], cattax: cr.cattax ?? DEFAULT_CATTAX, bundle: cr.bundle ?? null, attr: [...(cr.attr ?? [])],
    video: v === null ? null : { vastXml: v.vastXml, vastTagUrl: v.vastTagUrl, durationSec: v.durationSec, mimes: [...v.mimes], protocols: [...v.protocols] },
  };
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
    creatives: c.creatives.map(canonicalCreative),
    updatedAtMs: c.updatedAtMs,
    deals: (c.deals ?? []).map((d) => ({ id: d.id, bidCpmMicros: d.bidCpmMicros })),
    openAuction: c.openAuction ?? true,
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
    creatives: r.creatives.map(canonicalCreative),
    updatedAtMs: r.updatedAtMs,
    deals: (r.deals ?? []).map((d) => ({ id: d.id, bidCpmMicros: d.bidCpmMicros })),
    openAuction: r.openAuction ?? true,
  };
}
