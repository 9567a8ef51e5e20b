/**
 * The seeds' simple bid request JSON -> the pipeline's BidRequest record (one banner impression).
 *   { "request_id": "r1", "user_id": "u1", "site": {"domain": "example.com"}, "device": {"ip": "192.0.2.1", "type": "mobile"},
 *     "floor": 0.5, "size": "300x250", "country": "USA", "interests": ["sports"] }
 * `floor` is a CPM in currency units; `device.type` (or `device_type`) is a name (mobile, desktop, tablet, ctv).
 * The format carries no privacy signal: its requests are recorded as unrestricted (the seeds' own traffic).
 */
import type { BidRequest } from '../schemas/bid-request.js';
import type { Envelope } from './openrtb.js';
import { InvalidFieldError, extOf, object, optObject, optPriceMicros, optString, reqString, stringArray } from './fields.js';
import { UNRESTRICTED } from '../processors/domain/privacy.js';

/** Device type names -> OpenRTB 2.6 devicetype codes. */
const DEVICE_TYPES: Readonly<Record<string, number>> = {
  mobile: 4, phone: 4, desktop: 2, pc: 2, tablet: 5, ctv: 3, tv: 3, 'connected-tv': 3, 'connected-device': 6, 'set-top-box': 7,
};
const KNOWN = new Set(['request_id', 'user_id', 'site', 'device', 'device_type', 'floor', 'size', 'country', 'interests', 'tmax']);

export function parseSimple(body: unknown, env: Envelope): BidRequest {
  const o = object(body, '');
  const id = reqString(o, 'request_id', '', 128);
  const userId = reqString(o, 'user_id', '', 256);
  const site = optObject(o, 'site', '');
  if (!site) throw new InvalidFieldError('site', 'is required (an object with a domain)');
  const domain = reqString(site, 'domain', 'site', 253);
  const device = optObject(o, 'device', '');
  if (!device) throw new InvalidFieldError('device', 'is required (an object with an ip)');
  const ip = reqString(device, 'ip', 'device', 64);
  const typeName = optString(device, 'type', 'device', 32) ?? optString(o, 'device_type', '', 32);
  let devicetype: number | null = null;
  if (typeName !== null) {
    devicetype = DEVICE_TYPES[typeName.toLowerCase()] ?? null;
    if (devicetype === null) throw new InvalidFieldError('device.type', `must be one of ${Object.keys(DEVICE_TYPES).join(', ')}`);
  }
  const size = optString(o, 'size', '', 16);
  const m = size === null ? null : /^(\d{1,5})x(\d{1,5})$/i.exec(size);
  if (size !== null && !m) throw new InvalidFieldError('size', 'must look like 300x250');
  const country = optString(o, 'country', '', 3);
  if (country !== null && !/^[A-Za-z]{2,3}$/.test(country)) throw new InvalidFieldError('country', 'must be an ISO-3166 alpha-3 (or alpha-2) code');
  const tmax = o.tmax;
  if (tmax !== undefined && (typeof tmax !== 'number' || !Number.isInteger(tmax) || tmax < 1 || tmax > 60_000)) {
    throw new InvalidFieldError('tmax', 'must be an integer between 1 and 60000');
  }
  return {
    id,
    imp: [{
      id: '1',
      banner: m ? { w: Number(m[1]), h: Number(m[2]), format: [], ext: null, btype: [], battr: [] } : null,
      video: null,
      bidfloorMicros: optPriceMicros(o, 'floor', ''),
      bidfloorcur: 'USD',
      tagid: null,
      secure: null,
      ext: null,
      native: false,
      pmp: null,
    }],
    site: { id: null, domain, page: null, cat: [], publisherId: null, ext: extOf(site, new Set(['domain'])) },
    app: null,
    device: { ua: null, ip, devicetype, os: null, geo: country ? { country: country.toUpperCase(), region: null, city: null, ext: null } : null, ext: extOf(device, new Set(['ip', 'type'])), lmt: null, dnt: null },
    user: { id: userId, buyeruid: null, segments: [], interests: stringArray(o, 'interests', ''), ext: null, consent: null },
    tmax: (tmax as number | undefined) ?? null,
    at: 2,
    cur: ['USD'],
    bcat: [],
    badv: [],
    test: false,
    ext: extOf(o, KNOWN),
    receivedAtMs: env.receivedAtMs,
    ingestNodeId: env.ingestNodeId,
    sourceFormat: 'SIMPLE',
    openrtbVersion: null,
    enrichment: 'NOT_ATTEMPTED',
    profile: null,
    atRequested: 0,
    cattax: 1,
    bapp: [],
    regs: null,
    privacy: { ...UNRESTRICTED },
  };
}
