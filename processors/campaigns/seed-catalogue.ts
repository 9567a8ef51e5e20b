/**
 * A realistic, deterministic demo catalogue for the seed script: advertisers by vertical, campaigns with
 * varied CPMs (0.50 to 8.00), budgets, schedules and targeting, and user profiles whose interests and
 * segments use the same vocabulary, so seeded traffic (bench/lib/bodies.ts domains, countries, categories)
 * finds matching campaigns. Pure: the same seed and sizes always give the same catalogue, and each entity
 * depends only on (seed, its index), so a small run is a prefix of a large one.
 *
 * Issue 10 demo fields, derived from the index (no extra random draws, so the rest of the catalogue is
 * as before): every creative carries its vertical's IAB 1.0 categories (bid.cat, block lists); every
 * tenth campaign without size targeting (i % 10 = 4) also has a 640x360 15 s video creative (VAST 4.0
 * XML); every twentieth (i % 20 = 7) buys the vertical's demo deal `deal-<vertical>` at its CPM + 20%,
 * and every fortieth of those (i % 40 = 7) buys it only (openAuction false).
 */
import type { Campaign, Creative, DaypartWindow, Targeting } from '../domain/campaign.js';
import type { UserProfileRecord } from '../../schemas/bid-request.js';

const MICROS = 1_000_000;
/** Fixed, so seeded schedules do not depend on when the script runs. */
const EPOCH = Date.UTC(2025, 0, 1);
const DAY = 86_400_000;

const VERTICALS = [
  { name: 'Outdoor', interests: ['outdoors', 'sports', 'travel'], categories: ['IAB17', 'IAB9'] },
  { name: 'Travel', interests: ['travel', 'food'], categories: ['IAB20'] },
  { name: 'Electronics', interests: ['technology', 'gaming'], categories: ['IAB19', 'IAB9'] },
  { name: 'Fashion', interests: ['fashion', 'shopping'], categories: ['IAB18', 'IAB22'] },
  { name: 'Finance', interests: ['finance', 'business'], categories: ['IAB13', 'IAB3'] },
  { name: 'Foods', interests: ['food', 'cooking', 'health'], categories: ['IAB8'] },
  { name: 'Auto', interests: ['cars', 'technology'], categories: ['IAB2'] },
  { name: 'Media', interests: ['news', 'movies', 'music'], categories: ['IAB12', 'IAB1'] },
] as const;
const BRANDS = ['Acme', 'Northwind', 'Contoso', 'Fabrikam', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Hooli'];
const THEMES = ['Spring Sale', 'Summer Launch', 'Back to School', 'Holiday', 'Brand Awareness', 'Retargeting', 'New Arrivals', 'Clearance'];
export const COUNTRIES = ['USA', 'USA', 'USA', 'GBR', 'DEU', 'FRA', 'CAN', 'AUS', 'ESP', 'ITA', 'NLD', 'JPN', 'BRA', 'IND', 'MEX'];
const DEVICES = ['mobile', 'desktop', 'tablet', 'ctv'];
const DOMAINS = ['news.example.com', 'sports.example.org', 'recipes.example.net', 'weather.example.com', 'games.example.io', 'finance.example.com', 'travel.example.org'];
export const SIZES = [[300, 250], [728, 90], [320, 50], [160, 600]] as const;
const ZONES = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Europe/Paris', 'America/Toronto', 'Asia/Tokyo'];
export const INTERESTS: readonly string[] = [...new Set(VERTICALS.flatMap((v) => v.interests))];
export const SEGMENTS = Array.from({ length: 40 }, (_, i) => `seg-${String(i + 1).padStart(3, '0')}`);

import { mulberry32 as rng } from '../runtime/seeded-random.js';

/** A generator for entity `index` of `kind`, independent of every other entity. */
function rngFor(seed: number, kind: number, index: number): () => number {
  return rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(kind * 1_000_003 + index + 1, 0xc2b2ae35));
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
const chance = (r: Rand, p: number): boolean => r() < p;
/** Between min and max distinct items; an item listed twice is twice as likely (USA dominates traffic). */
function some<T>(r: Rand, list: readonly T[], min: number, max: number): T[] {
  let pool = [...list];
  const out: T[] = [];
  for (let n = int(r, min, max); n > 0 && pool.length > 0; n--) {
    const item = pool[Math.floor(r() * pool.length)]!;
    out.push(item);
    pool = pool.filter((x) => x !== item);
  }
  return out;
}

export interface SeedAdvertiser {
  id: string;
  name: string;
  domain: string;
  vertical: (typeof VERTICALS)[number];
}

export function seedAdvertiser(seed: number, i: number, prefix = ''): SeedAdvertiser {
  const vertical = VERTICALS[i % VERTICALS.length]!;
  const brand = BRANDS[(i + Math.floor(rngFor(seed, 1, i)() * BRANDS.length)) % BRANDS.length]!;
  const domain = `${brand}${vertical.name}.com`.toLowerCase();
  return { id: `${prefix}adv-${String(i + 1).padStart(2, '0')}`, name: `${brand} ${vertical.name}`, domain, vertical };
}

function dayparting(r: Rand): DaypartWindow[] {
  if (!chance(r, 0.2)) return [];
  return pick(r, [
    [{ days: [1, 2, 3, 4, 5], startMinute: 8 * 60, endMinute: 20 * 60 }],
    [{ days: [0, 1, 2, 3, 4, 5, 6], startMinute: 18 * 60, endMinute: 24 * 60 }],
    [{ days: [0, 6], startMinute: 0, endMinute: 24 * 60 }, { days: [1, 2, 3, 4, 5], startMinute: 17 * 60, endMinute: 23 * 60 }],
  ]);
}

function targeting(r: Rand, adv: SeedAdvertiser): Targeting {
  const t: { -readonly [K in keyof Targeting]: string[] } = {};
  if (chance(r, 0.7)) t.country = some(r, COUNTRIES, 1, 3);
  if (chance(r, 0.4)) t.deviceType = some(r, DEVICES, 1, 2);
  if (chance(r, 0.4)) t.interest = some(r, adv.vertical.interests, 1, 2);
  if (chance(r, 0.15)) t.segment = some(r, SEGMENTS, 1, 3);
  if (chance(r, 0.1)) t.domain = some(r, DOMAINS, 1, 3);
  if (chance(r, 0.3)) t.category = some(r, adv.vertical.categories, 1, 2);
  if (chance(r, 0.6)) t.size = some(r, SIZES.map(([w, h]) => `${w}x${h}`), 1, 2);
  return t;
}

/** Campaign `i` (0-based), owned by one of `advertisers`; `updatedAtMs` is left for the store to set. */
export function seedCampaign(seed: number, i: number, advertisers: readonly SeedAdvertiser[], prefix = ''): Campaign {
  const r = rngFor(seed, 2, i);
  const adv = advertisers[int(r, 0, advertisers.length - 1)]!;
  const id = `${prefix}cmp-${String(i + 1).padStart(4, '0')}`;
  // CPMs skew low as in real auctions: log-uniform between 0.50 and 8.00, to the cent.
  const bidCpmMicros = Math.round(Math.exp(Math.log(0.5) + r() * Math.log(16)) * 100) * 10_000;
  const dailyBudgetMicros = int(r, 5, 500) * 10 * MICROS;
  const startMs = EPOCH + int(r, 0, 60) * DAY;
  const ended = chance(r, 0.03);
  const endMs = ended ? startMs + int(r, 7, 30) * DAY : chance(r, 0.4) ? EPOCH + int(r, 3 * 365, 6 * 365) * DAY : null;
  const t = targeting(r, adv);
  const sizes = t.size?.map((s) => s.split('x').map(Number) as [number, number]) ?? some(r, SIZES, 1, 3);
  const creatives: Creative[] = sizes.map(([w, h], k) => ({
    id: `${id}-cr-${k + 1}`,
    title: `${adv.name}: ${pick(r, THEMES)}`,
    imageUrl: `https://cdn.example.com/${adv.id}/${id}-${w}x${h}.png`,
    landingUrl: `https://www.${adv.domain}/campaigns/${id}`,
    width: w, height: h, adomain: [adv.domain],
    cat: [...adv.vertical.categories], cattax: 1, bundle: null, attr: [], video: null,
  }));
  if (i % 10 === 4 && !t.size) creatives.push(seedVideo(`${id}-vid-1`, adv, id));
  const dealId = `deal-${adv.vertical.name.toLowerCase()}`;
  const deals = i % 20 === 7 ? [{ id: dealId, bidCpmMicros: Math.round((bidCpmMicros * 1.2) / 10_000) * 10_000 }] : [];
  return {
    id, advertiserId: adv.id, name: `${adv.name} ${pick(r, THEMES)} #${i + 1}`,
    status: ended ? 'ended' : chance(r, 0.06) ? 'paused' : 'active',
    bidCpmMicros, dailyBudgetMicros, lifetimeBudgetMicros: dailyBudgetMicros * int(r, 10, 90), startMs, endMs,
    timezone: pick(r, ZONES), dayparting: dayparting(r),
    frequencyCap: chance(r, 0.3) ? { count: int(r, 2, 10), per: 'day' } : null,
    pacing: chance(r, 0.7) ? 'even' : 'asap', targeting: t, creatives, updatedAtMs: 0,
    deals, openAuction: i % 40 !== 7,
  };
}

/** A 15-second 640x360 VAST 4.0 inline creative for the demo (media on the same CDN as the banners). */
function seedVideo(crId: string, adv: SeedAdvertiser, campaignId: string): Creative {
  const media = `https://cdn.example.com/${adv.id}/${campaignId}-640x360.mp4`;
  const vastXml = `<VAST version="4.0"><Ad id="${crId}"><InLine><AdSystem>rtb-pipeline</AdSystem><AdTitle>${adv.name}</AdTitle><Impression/>`
    + `<Creatives><Creative><Linear><Duration>00:00:15</Duration><MediaFiles><MediaFile delivery="progressive" type="video/mp4" width="640" height="360">`
    + `<![CDATA[${media}]]></MediaFile></MediaFiles></Linear></Creative></Creatives></InLine></Ad></VAST>`;
  return {
    id: crId, title: `${adv.name}: video`, imageUrl: '', landingUrl: `https://www.${adv.domain}/campaigns/${campaignId}`,
    width: 640, height: 360, adomain: [adv.domain], cat: [...adv.vertical.categories], cattax: 1, bundle: null, attr: [],
    video: { vastXml, vastTagUrl: '', durationSec: 15, mimes: ['video/mp4'], protocols: [3, 6, 7] },
  };
}

/** The profile of user `i`: a few scored interests, some segments, an engagement score. */
export function seedProfile(seed: number, i: number): UserProfileRecord {
  const r = rngFor(seed, 3, i);
  const interests: Record<string, number> = {};
  for (const name of some(r, INTERESTS, 1, 4)) interests[name] = int(r, 1, 100);
  return { interests, segments: some(r, SEGMENTS, 0, 3), engagement: int(r, 0, 100) };
}
