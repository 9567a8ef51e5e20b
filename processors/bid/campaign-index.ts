/**
 * An in-memory index of active campaigns by targeting dimension, so a request is evaluated against the
 * campaigns that can match it rather than the whole catalogue.
 *
 * Per dimension: an inverted index (normalised rule value → campaign ids) plus the set of campaigns
 * with no rule on that dimension. The campaigns matching dimension D are `open[D] ∪ ⋃ postings[D][v]`
 * over the request's keys v; the answer is the intersection over all dimensions. Rather than build
 * every union, `candidates` enumerates only the cheapest dimension's union and checks the remaining
 * dimensions per campaign with `matchesTargeting` (set lookups), which gives the same intersection.
 *
 * Campaign changes arrive as a stream: `upsert` and `remove` cost O(rules of that campaign).
 * Only status 'active' campaigns are indexed; time (start/end, dayparting) is checked per request.
 */
import type { Campaign, TargetingDimension } from '../campaigns/types.js';
import { TARGETING_DIMENSIONS } from '../campaigns/types.js';
import { matchesTargeting, normalizeTargeting } from './targeting.js';
import type { NormalizedTargeting, RequestAttributes } from './targeting.js';

/** A campaign with its normalised targeting, as the index hands it to the bidder. */
export interface IndexedCampaign {
  readonly campaign: Campaign;
  readonly targeting: NormalizedTargeting;
}

export class CampaignIndex {
  readonly #entries = new Map<string, IndexedCampaign>();
  /** updatedAtMs last applied per id, kept for paused campaigns too so a late stale update can't revive one. */
  readonly #versions = new Map<string, number>();
  readonly #postings = new Map<TargetingDimension, Map<string, Set<string>>>();
  readonly #open = new Map<TargetingDimension, Set<string>>();

  constructor(campaigns: Iterable<Campaign> = []) {
    for (const dim of TARGETING_DIMENSIONS) {
      this.#postings.set(dim, new Map());
      this.#open.set(dim, new Set());
    }
    for (const c of campaigns) this.upsert(c);
  }

  /** Number of indexed (active) campaigns. */
  get size(): number {
    return this.#entries.size;
  }

  get(id: string): IndexedCampaign | undefined {
    return this.#entries.get(id);
  }

  /**
   * Adds, replaces or (when no longer active) un-indexes a campaign. An update older than the one
   * already applied (by `updatedAtMs`) is ignored and false returned, so replays and out-of-order
   * deliveries cannot roll a campaign back. An equal timestamp re-applies (idempotent).
   */
  upsert(campaign: Campaign): boolean {
    const seen = this.#versions.get(campaign.id);
    if (seen !== undefined && campaign.updatedAtMs < seen) return false;
    this.#versions.set(campaign.id, campaign.updatedAtMs);
    this.#unindex(campaign.id);
    if (campaign.status !== 'active') return true;
    const entry: IndexedCampaign = { campaign, targeting: normalizeTargeting(campaign.targeting) };
    this.#entries.set(campaign.id, entry);
    for (const dim of TARGETING_DIMENSIONS) {
      const rules = entry.targeting.get(dim);
      if (rules === undefined) {
        this.#open.get(dim)!.add(campaign.id);
        continue;
      }
      const postings = this.#postings.get(dim)!;
      for (const value of rules) {
        let ids = postings.get(value);
        if (ids === undefined) postings.set(value, (ids = new Set()));
        ids.add(campaign.id);
      }
    }
    return true;
  }

  /** Forgets a campaign entirely (deleted, not just paused); true when it was known. */
  remove(id: string): boolean {
    const known = this.#versions.delete(id);
    return this.#unindex(id) || known;
  }

  /** Active campaigns whose targeting matches `attrs`, in no particular order. */
  candidates(attrs: RequestAttributes): IndexedCampaign[] {
    let best: TargetingDimension = 'country';
    let bestCost = Infinity;
    for (const dim of TARGETING_DIMENSIONS) {
      const postings = this.#postings.get(dim)!;
      let cost = this.#open.get(dim)!.size;
      for (const v of attrs[dim]) cost += postings.get(v)?.size ?? 0;
      if (cost < bestCost) [best, bestCost] = [dim, cost];
    }
    const ids = new Set(this.#open.get(best));
    const postings = this.#postings.get(best)!;
    for (const v of attrs[best]) for (const id of postings.get(v) ?? []) ids.add(id);
    const out: IndexedCampaign[] = [];
    for (const id of ids) {
      const entry = this.#entries.get(id)!;
      if (matchesTargeting(entry.targeting, attrs)) out.push(entry);
    }
    return out;
  }

  #unindex(id: string): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined) return false;
    this.#entries.delete(id);
    for (const dim of TARGETING_DIMENSIONS) {
      const rules = entry.targeting.get(dim);
      if (rules === undefined) {
        this.#open.get(dim)!.delete(id);
        continue;
      }
      const postings = this.#postings.get(dim)!;
      for (const value of rules) {
        const ids = postings.get(value);
        ids?.delete(id);
        // Drop empty posting lists so churn in rule values does not leak memory.
        if (ids?.size === 0) postings.delete(value);
      }
    }
    return true;
  }
}
