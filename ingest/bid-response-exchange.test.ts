/** The exchange's part of a BidResponse (exchanges.ts): its seat, and tokens naming the request by requestKey(exchange, id). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toBidResponse } from './bid-response.js';
import { verifyToken } from './tracking-token.js';
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';

const NOW = 1_700_000_000_000;
const tracking = { publicUrl: 'https://edge.example.com/', secret: 'test-key-0123456789-abcdef', tokenTtlMs: 3_600_000, nowMs: NOW };
const win = (impId: string, advertiserId: string): WinRecord => ({
  impId, campaignId: `c-${impId}`, advertiserId, creativeId: `cr-${impId}`, bidPriceMicros: 2_000_001, clearingPriceMicros: 2_000_000, costMicros: 2_000,
  adomain: [], w: 300, h: 250, dayKey: '2026-11-22', title: 't', imageUrl: 'https://cdn.example.com/a.png', landingUrl: 'https://brand.com/',
});
const outcome = (exchange: string | undefined): AuctionOutcome => ({
  requestId: 'r:1', userId: null, at: 2, test: false, receivedAtMs: NOW, decidedAtMs: NOW, impCount: 2, bids: [], wins: [win('1', 'adv-a'), win('2', 'adv-b')], noBidReason: null, nbr: null, exchange,
});

test('bid-response: the exchange\'s seat holds every bid; without one, a seat per advertiser', () => {
  assert.deepEqual(toBidResponse(outcome('exa'), tracking, 'seat-42')!.seatbid.map((s) => [s.seat, s.bid.length]), [['seat-42', 2]]);
  assert.deepEqual(toBidResponse(outcome('exa'), tracking)!.seatbid.map((s) => s.seat), ['adv-a', 'adv-b']);
});

test('bid-response: the answer carries the exchange\'s id; the tokens name requestKey(exchange, id), as the reservation does', () => {
  const r = toBidResponse(outcome('exa'), tracking)!;
  assert.equal(r.id, 'r:1');
  const claims = (url: string) => {
    const v = verifyToken(new URL(url).searchParams.get('t'), tracking.secret, NOW);
    assert.ok(v.ok);
    return v.claims;
  };
  assert.equal(claims(r.seatbid[0]!.bid[0]!.nurl).requestId, 'exa:r%3A1');
  // A record from before exchanges (no exchange): the bare id, as then.
  assert.equal(claims(toBidResponse(outcome(undefined), tracking)!.seatbid[0]!.bid[0]!.nurl).requestId, 'r:1');
});
