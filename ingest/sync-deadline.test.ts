/**
 * The synchronous answer's deadline in-process (no servers): the edge answers at receivedAt + tmax -
 * margin whatever the broker does. A delivery report that never comes must not hold the answer; a
 * client's huge tmax is clamped; an outcome that arrives before the delivery report is answered at once.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { PipelineError } from '../schemas/errors.js';
import { createLogger } from '../processors/runtime/logger.js';
import type { AuctionOutcome, WinRecord } from '../schemas/auction-outcome.js';
import type { BidRequest } from '../schemas/bid-request.js';
import { loadIngestConfig } from './config.js';
import { createEdgeMetrics } from './metrics.js';
import { OutcomeWaiter } from './outcome-waiter.js';
import { startEdge, type Edge } from './server.js';

const cfg = { ...loadIngestConfig({ INGEST_HOST: '127.0.0.1', INGEST_MAX_TMAX_MS: '300', INGEST_TMAX_MARGIN_MS: '20' }), port: 0 };
const waiter = new OutcomeWaiter();
/** How the fake broker treats the next publish. */
let broker: 'never-acks' | 'acks' | 'fails' | 'acks-and-decides' = 'never-acks';
const edges: Edge[] = [];
const win: WinRecord = {
  impId: '1', campaignId: 'c1', advertiserId: 'a1', creativeId: 'cr1', bidPriceMicros: 2_000_000, clearingPriceMicros: 1_000_000, costMicros: 1_000,
  adomain: ['brand.example.com'], w: 300, h: 250, dayKey: '2026-11-30', title: 't', imageUrl: 'https://cdn.example.com/a.png', landingUrl: 'https://brand.example.com/',
};
const outcomeFor = (r: BidRequest): AuctionOutcome => ({
  requestId: r.id, userId: null, at: 2, test: false, receivedAtMs: r.receivedAtMs, decidedAtMs: Date.now(), impCount: 1, bids: [], wins: [win], noBidReason: null, nbr: null,
  exchange: r.exchange, // the pipeline carries it from the request (the waiter is keyed by exchange and id)
});

const edge = await startEdge({
  cfg, log: createLogger('test', 'silent'), metrics: createEdgeMetrics(new Registry(), () => 0), registry: new Registry(), isReady: () => true,
  publishTracking: async () => undefined,
  publishLoss: async () => undefined,
  awaitOutcome: (id, ms) => waiter.wait(id, ms),
  publish: (request) => {
    switch (broker) {
      case 'never-acks':
        return new Promise(() => undefined);
      case 'fails':
        return Promise.reject(new PipelineError('KAFKA_PRODUCE_FAILED', 'broker gone'));
      case 'acks':
        return Promise.resolve();
      case 'acks-and-decides':
        // The outcome is decided while the delivery report is still on its way.
        setTimeout(() => waiter.deliver(outcomeFor(request)), 10);
        return new Promise(() => undefined);
    }
  },
});
edges.push(edge);
after(() => Promise.all(edges.map((e) => e.drain(1000))));

async function bid(tmax: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${edge.port}/openrtb2/bid`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000),
    body: JSON.stringify({ id: `r-${Math.random()}`, imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { domain: 'example.com' }, tmax }),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

test('sync deadline: a delivery report that never arrives still gets a 204 at tmax - margin', async () => {
  broker = 'never-acks';
  const { status, ms } = await bid(120);
  assert.equal(status, 204);
  assert.ok(ms >= 95, `answered after ${ms.toFixed(0)} ms, not before the deadline (100 ms)`);
});

test('sync deadline: a client tmax above INGEST_MAX_TMAX_MS is clamped to it', async () => {
  broker = 'acks';
  const { status, ms } = await bid(60_000);
  assert.equal(status, 204);
  assert.ok(ms < 4000, `answered after ${ms.toFixed(0)} ms: the 60 s tmax was honoured instead of the 300 ms maximum`);
  assert.ok(ms >= 275, `answered after ${ms.toFixed(0)} ms, before the clamped deadline (280 ms)`);
});

test('sync deadline: an outcome that arrives before the delivery report is answered at once', async () => {
  broker = 'acks-and-decides';
  const { status } = await bid(300);
  assert.equal(status, 200, 'the bid, although the broker never acknowledged the request');
});

test('sync deadline: a delivery that fails before the deadline answers 503 with Retry-After', async () => {
  broker = 'fails';
  const { status } = await bid(250);
  assert.equal(status, 503);
});
