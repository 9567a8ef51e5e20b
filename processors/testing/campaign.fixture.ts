/**
 * Test support: a valid campaign with overridable fields, shared by the campaigns, bid and auction tests.
 * Not used by production code.
 */
import type { Campaign, Creative } from '../domain/campaign.js';

export function makeCreative(overrides: Partial<Creative> = {}): Creative {
  return {
    id: 'cr-1',
    title: 'Spring sale',
    imageUrl: 'https://cdn.example.com/a.png',
    landingUrl: 'https://brand.example.com/sale',
    width: 300,
    height: 250,
    adomain: ['brand.example.com'],
    // The canonical defaults (what validation and the campaigns topic produce), so round trips compare equal.
    cat: [],
    cattax: 1,
    bundle: null,
    attr: [],
    video: null,
    ...overrides,
  };
}

export function makeCampaign(overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-1',
    advertiserId: 'adv-1',
    name: 'Spring',
    status: 'active',
    bidCpmMicros: 2_000_000,
    dailyBudgetMicros: 100_000_000,
    lifetimeBudgetMicros: 1_000_000_000,
    startMs: Date.UTC(2024, 0, 1),
    endMs: null,
    timezone: 'UTC',
    dayparting: [],
    frequencyCap: null,
    pacing: 'asap',
    targeting: {},
    creatives: [makeCreative()],
    updatedAtMs: 1,
    deals: [],
    openAuction: true,
    ...overrides,
  };
}
