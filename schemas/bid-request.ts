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
}
export interface Video {
  mimes: string[];
  w: number | null;
  h: number | null;
  ext: string | null;
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
}
export interface User {
  id: string | null;
  buyeruid: string | null;
  segments: string[];
  interests: string[];
  ext: string | null;
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
}

/** The Kafka key of a request: the user, so one user's requests stay on one partition (frequency caps). */
export function partitionKey(r: BidRequest): string {
  return r.user?.id ?? r.user?.buyeruid ?? r.device?.ip ?? r.id;
}
