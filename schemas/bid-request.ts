/** The TypeScript shape of schemas/avro/bid-request.avsc (keep the two in step; codec tests round-trip it). */
export interface Format {
  w: number;
  h: number;
}
export interface Banner {
  w: number | null;
  h: number | null;
  format: Format[];
  ext: string | null;
  /** Blocked banner ad types (banner.btype) and creative attributes (banner.battr); Avro default []. */
  btype?: number[];
  battr?: number[];
}
export interface Video {
  mimes: string[];
  w: number | null;
  h: number | null;
  ext: string | null;
  /** Seconds; null = no bound. Optional here because the Avro defaults fill them in on decode. */
  minduration?: number | null;
  maxduration?: number | null;
  /** Accepted OpenRTB video protocols (2 VAST 2.0 ... 7 VAST 4.0, 8 VAST 4.0 wrapper, ...); [] = any. */
  protocols?: number[];
  battr?: number[];
}
export interface Deal {
  id: string;
  /** Deal floor CPM in micros of `bidfloorcur`. */
  bidfloorMicros: number;
  bidfloorcur: string;
  at: number | null;
  /** Seats allowed to bid; [] = any. */
  wseat: string[];
  /** Advertiser domains allowed; [] = any. */
  wadomain: string[];
}
export interface Pmp {
  /** imp.pmp.private_auction = 1: only deal bids may be made. */
  privateAuction: boolean;
  deals: Deal[];
}
export interface Imp {
  id: string;
  banner: Banner | null;
  video: Video | null;
  bidfloorMicros: number;
  bidfloorcur: string;
  tagid: string | null;
  secure: boolean | null;
  ext: string | null;
  /** imp.native was present (declined until native is supported). Avro default false. */
  native?: boolean;
  pmp?: Pmp | null;
}
export interface Site {
  id: string | null;
  domain: string | null;
  page: string | null;
  cat: string[];
  publisherId: string | null;
  ext: string | null;
}
export interface App {
  id: string | null;
  bundle: string | null;
  domain: string | null;
  cat: string[];
  publisherId: string | null;
  ext: string | null;
}
export interface Geo {
  country: string | null;
  region: string | null;
  city: string | null;
  ext: string | null;
}
export interface Device {
  ua: string | null;
  ip: string | null;
  devicetype: number | null;
  os: string | null;
  geo: Geo | null;
  ext: string | null;
  lmt?: boolean | null;
  dnt?: boolean | null;
}
export interface User {
  id: string | null;
  buyeruid: string | null;
  segments: string[];
  interests: string[];
  ext: string | null;
  /** user.consent: the TCF v2 string. */
  consent?: string | null;
}
export interface Regs {
  coppa: boolean;
  /** null = the exchange did not say. */
  gdpr: boolean | null;
  usPrivacy: string | null;
  gpp: string | null;
  gppSid: number[];
}
/**
 * Why personal data may or may not be used for a request (processors/domain/privacy.ts decides it at
 * the edge; README "Privacy"). Only 'unrestricted' and 'consent' allow personal data.
 */
export type PrivacyBasis = 'unrestricted' | 'consent' | 'coppa' | 'gdpr_no_consent' | 'us_privacy_opt_out' | 'gpp_opt_out' | 'lmt';
export interface PrivacyDecision {
  basis: PrivacyBasis | string;
  /** Profiles, interest/segment targeting and user-keyed counters allowed. */
  personalData: boolean;
}
export type SourceFormat = 'OPENRTB' | 'SIMPLE';
export type Enrichment = 'NOT_ATTEMPTED' | 'ENRICHED' | 'NO_PROFILE' | 'UNAVAILABLE';

/** The user profile the enrich processor attaches (stored in Redis by the profile loader). */
export interface UserProfileRecord {
  /** interest -> score 0..100 */
  interests: Record<string, number>;
  segments: string[];
  /** 0..100 */
  engagement: number;
}

export interface BidRequest {
  id: string;
  imp: Imp[];
  site: Site | null;
  app: App | null;
  device: Device | null;
  user: User | null;
  tmax: number | null;
  /** The auction type applied: 1 first price, 2 second price. */
  at: number;
  cur: string[];
  bcat: string[];
  badv: string[];
  test: boolean;
  ext: string | null;
  receivedAtMs: number;
  ingestNodeId: string;
  sourceFormat: SourceFormat;
  openrtbVersion: string | null;
  enrichment: Enrichment;
  profile: UserProfileRecord | null;
  /**
   * The exchange that sent it (the edge's configured exchange id; `dev` in development mode). Optional
   * here because the Avro default ('') fills it in: decoded records always have it. State keyed by a
   * request id uses requestKey(exchange, id) (schemas/request-key.ts): ids are unique per exchange only.
   */
  exchange?: string;
  /** The request's own `at` (0 when absent; 500+ are exchange-specific). Avro default 0. */
  atRequested?: number;
  /** Taxonomy of bcat (OpenRTB 2.6 cattax; 1 = IAB 1.0). Avro default 1. */
  cattax?: number;
  /** Blocked app bundles. */
  bapp?: string[];
  regs?: Regs | null;
  /** The edge's privacy decision; null/absent on records from before it (treated as unrestricted). */
  privacy?: PrivacyDecision | null;
}

/** The Kafka key of a request: the user, so one user's requests stay on one partition (frequency caps). */
export function partitionKey(r: BidRequest): string {
  return r.user?.id ?? r.user?.buyeruid ?? r.device?.ip ?? r.id;
}
