/**
 * Request bodies for the load generator: a template around a few fields derived from the sequence number (ids, user, ip,
 * country), about a microsecond each, every id unique.
 */
import { randomBytes } from 'node:crypto';

export const BODY_KINDS = ['openrtb', 'simple', 'noop'] as const;
export type BodyKind = (typeof BODY_KINDS)[number];
export type BodyGenerator = (seq: number) => string;

export interface BodyOptions {
  /** `tmax` in the body, ms (default 120). */
  readonly tmax?: number;
  /** Users are `<userPrefix>user-<n>` with n below `users` (defaults '' and 100000): match a seeded catalogue's profiles. */
  readonly userPrefix?: string;
  readonly users?: number;
  /** Banner sizes, rotated by request (default [[300, 250]]). */
  readonly sizes?: ReadonlyArray<readonly [number, number]>;
}

const USER_POOL = 100_000;
const COUNTRIES = ['USA', 'USA', 'USA', 'GBR', 'DEU', 'FRA', 'CAN', 'BRA', 'JPN', 'IND', 'AUS', 'ESP'];
const DOMAINS = ['news.example.com', 'sports.example.org', 'recipes.example.net', 'weather.example.com', 'games.example.io'];
const CATS = [['IAB12'], ['IAB17'], ['IAB8'], ['IAB15'], ['IAB9', 'IAB1']];
const DEVICES = [
  { type: 'mobile', devicetype: 4, os: 'iOS', ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' },
  { type: 'mobile', devicetype: 4, os: 'Android', ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36' },
  { type: 'desktop', devicetype: 2, os: 'Windows', ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' },
  { type: 'tablet', devicetype: 5, os: 'iPadOS', ua: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1' },
] as const;

/** A cheap integer mix (murmur3 finalizer) so consecutive requests get unrelated users, ips, sites. */
function mix(n: number): number {
  let h = (n ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const pick = <T>(list: readonly T[], h: number): T => list[h % list.length]!;
const ipOf = (h: number): string => `${(h >>> 24) % 223 + 1}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${(h & 254) + 1}`;

/** A realistic OpenRTB 2.6 bid request: one banner imp (300x250 unless `sizes` says otherwise), site, device with geo, user. */
export function openRtbBody(prefix: string, opts: BodyOptions = {}): BodyGenerator {
  const devices = DEVICES.map((d) => ({ ...d, ua: JSON.stringify(d.ua), os: JSON.stringify(d.os) }));
  const sizes = opts.sizes ?? [[300, 250]];
  const users = opts.users ?? USER_POOL;
  const userPrefix = JSON.stringify(opts.userPrefix ?? '').slice(1, -1);
  const tmax = opts.tmax ?? 120;
  return (seq) => {
    const h = mix(seq);
    const domain = pick(DOMAINS, h >>> 3);
    const d = pick(devices, h >>> 7);
    const [w, hh] = pick(sizes, mix(seq + 2));
    return (
      `{"id":"${prefix}-${seq}","imp":[{"id":"1","banner":{"w":${w},"h":${hh},"format":[{"w":${w},"h":${hh}}]},` +
      `"bidfloor":0.5,"bidfloorcur":"USD","tagid":"slot-${h % 50}","secure":1}],` +
      `"site":{"id":"site-${h % 500}","domain":"${domain}","page":"https://${domain}/article/${h % 10_000}",` +
      `"cat":${JSON.stringify(pick(CATS, h >>> 3))},"publisher":{"id":"pub-${h % 40}"}},` +
      `"device":{"ua":${d.ua},"ip":"${ipOf(mix(h))}","devicetype":${d.devicetype},"os":${d.os},` +
      `"geo":{"country":"${pick(COUNTRIES, h >>> 11)}"}},` +
      `"user":{"id":"${userPrefix}user-${mix(seq + 1) % users}"},"tmax":${tmax},"at":2,"cur":["USD"]}`
    );
  };
}

/** The edge's simple format. */
export function simpleBody(prefix: string): BodyGenerator {
  return (seq) => {
    const h = mix(seq);
    return (
      `{"request_id":"${prefix}-${seq}","user_id":"user-${mix(seq + 1) % USER_POOL}",` +
      `"site":{"domain":"${pick(DOMAINS, h >>> 3)}"},"device":{"ip":"${ipOf(mix(h))}","type":"${pick(DEVICES, h >>> 7).type}"},` +
      `"floor":0.5,"size":"300x250","country":"${pick(COUNTRIES, h >>> 11)}"}`
    );
  };
}

/** A body generator of the given kind; `noop` is an empty JSON object (measures transport only). `opts` shape the openrtb body. */
export function bodyGenerator(kind: BodyKind, prefix = randomBytes(4).toString('hex'), opts: BodyOptions = {}): BodyGenerator {
  return kind === 'openrtb' ? openRtbBody(prefix, opts) : kind === 'simple' ? simpleBody(prefix) : () => '{}';
}
