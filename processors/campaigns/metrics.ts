/** The campaign service's Prometheus metrics (Node defaults come from runtime/metrics.ts createRegistry). */
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from '../runtime/metrics.js';

export interface CampaignMetrics {
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route'>;
  /**
   * result: sent | skipped (a newer version was already sent) | failed (Kafka) | unpublishable (the schema
   * cannot carry the row: skipped by the republisher and logged as an error naming the campaign; alert on it).
   */
  published: Counter<'result'>;
  republishSeconds: Histogram<'result'>;
}

export function createCampaignMetrics(registry: Registry): CampaignMetrics {
  const registers = [registry];
  return {
    requests: new Counter({ name: 'campaigns_api_requests_total', help: 'Management API requests by route, method and status', labelNames: ['route', 'method', 'status'], registers }),
    latency: new Histogram({ name: 'campaigns_api_request_duration_seconds', help: 'Time from request to answer, including the Postgres commit and the publish', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers }),
    published: new Counter({ name: 'campaigns_published_total', help: 'Campaign records produced to the campaigns topic by the API and the republisher, by result (sent, skipped, failed, unpublishable)', labelNames: ['result'], registers }),
    republishSeconds: new Histogram({ name: 'campaigns_republish_duration_seconds', help: 'Duration of a full re-send of every campaign, by result (ok, failed)', labelNames: ['result'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120], registers }),
  };
}
