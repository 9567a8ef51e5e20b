/**
 * BidRequest records for pre-filling a processor's input topic: bench bodies (bodies.ts) parsed by the
 * edge's own OpenRTB parser, so the records are exactly what the edge would have written.
 */
import { parseOpenRtb } from '../../ingest/openrtb.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import { openRtbBody, type BodyOptions } from './bodies.js';

export function bidRequests(count: number, idPrefix: string, opts: BodyOptions): BidRequest[] {
  const body = openRtbBody(idPrefix, opts);
  const envelope = { receivedAtMs: Date.now(), ingestNodeId: 'bench', openrtbVersion: '2.6' };
  return Array.from({ length: count }, (_, seq) => parseOpenRtb(JSON.parse(body(seq)), envelope));
}
