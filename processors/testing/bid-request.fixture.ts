/**
 * Test support: a valid bid request for a given user, shared by the enrich unit and integration tests.
 * Not used by production code.
 */
import type { BidRequest, User } from '../../schemas/bid-request.js';

/** A one-impression banner request; `user` null means the exchange sent no user object. */
export function makeRequest(id: string, user: Partial<User> | null, overrides: Partial<BidRequest> = {}): BidRequest {
  return {
    id,
    imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 100_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: { id: null, domain: 'news.example.com', page: null, cat: [], publisherId: null, ext: null },
    app: null,
    device: { ua: null, ip: '203.0.113.7', devicetype: 2, os: null, geo: null, ext: null },
    user: user === null ? null : { id: null, buyeruid: null, segments: ['exchange-seg'], interests: ['exchange-interest'], ext: null, ...user },
    tmax: 100, at: 2, cur: ['USD'], bcat: [], badv: [], test: false, ext: null,
    receivedAtMs: 1_700_000_000_000, ingestNodeId: 'test', sourceFormat: 'OPENRTB', openrtbVersion: '2.6',
    enrichment: 'NOT_ATTEMPTED', profile: null,
    ...overrides,
  };
}
