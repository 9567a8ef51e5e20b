/** The edge's Prometheus metrics. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '../processors/runtime/metrics.js';

export interface EdgeMetrics {
  requests: Counter<'route' | 'status'>;
  latency: Histogram<'route'>;
  produceErrors: Counter<'code'>;
  bytesIn: Counter<'route'>;
  syncAnswers: Counter<'result'>;
  /** Tracking notices by type (win, bill, imp, click, conv, unknown) and answer status. */
  notices: Counter<'type' | 'status'>;
  /** Requests refused by a resource bound: connections, waiters, body_timeout, auth_failures. */
  boundRejections: Counter<'bound'>;
}

export function createEdgeMetrics(registry: Registry, inflight: () => number, waiter?: { late: number; timedOut: number }): EdgeMetrics {
  if (waiter) {
    new Gauge({ name: 'ingest_sync_late_outcomes', help: 'Outcomes that arrived after their request was answered no-bid (recorded by the pipeline all the same)', registers: [registry], collect() { this.set(waiter.late); } });
    new Gauge({ name: 'ingest_sync_timeouts', help: 'Synchronous requests answered no-bid because tmax ran out', registers: [registry], collect() { this.set(waiter.timedOut); } });
  }
  new Gauge({
    name: 'ingest_producer_inflight_requests',
    help: 'Requests awaiting a Kafka delivery report (the producer queue depth seen by the edge)',
    registers: [registry],
    collect() {
      this.set(inflight());
    },
  });
  return {
    requests: new Counter({ name: 'ingest_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    latency: new Histogram({ name: 'ingest_request_duration_seconds', help: 'Time from request to answer', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    produceErrors: new Counter({ name: 'ingest_produce_errors_total', help: 'Requests not accepted because delivery to Kafka failed', labelNames: ['code'], registers: [registry] }),
    syncAnswers: new Counter({ name: 'ingest_sync_answers_total', help: 'Synchronous OpenRTB answers: bid (200) or no_bid (204)', labelNames: ['result'], registers: [registry] }),
    notices: new Counter({ name: 'ingest_notices_total', help: 'Tracking notices by type (unknown for unknown paths) and answer status', labelNames: ['type', 'status'], registers: [registry] }),
    bytesIn: new Counter({ name: 'ingest_request_bytes_total', help: 'Request body bytes received (before gunzip)', labelNames: ['route'], registers: [registry] }),
    boundRejections: new Counter({
      name: 'ingest_bound_rejections_total',
      help: 'Requests refused by a resource bound: connections (INGEST_MAX_CONNECTIONS, 503), waiters (INGEST_MAX_WAITERS, 503), body_timeout (INGEST_BODY_TIMEOUT_MS, 408), auth_failures (too many failed key checks from one IP, 429)',
      labelNames: ['bound'],
      registers: [registry],
    }),
  };
}
