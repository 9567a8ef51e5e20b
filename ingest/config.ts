/** The ingest edge's configuration (environment variables, validated once at start-up). */
import { hostname } from 'node:os';
import { commonSpecs, loadConfig, type ConfigOf, type Spec } from '../schemas/config.js';

export const ingestSpecs = {
  ...commonSpecs,
  topic: { env: 'INGEST_TOPIC', type: 'string', pattern: /^[A-Za-z0-9._-]{1,249}$/, default: 'bid-requests', doc: 'topic accepted requests are written to' },
  host: { env: 'INGEST_HOST', type: 'string', default: '0.0.0.0', doc: 'address to listen on' },
  port: { env: 'INGEST_PORT', type: 'int', min: 1, max: 65535, default: 8080, doc: 'HTTP port for bid traffic, /health, /ready, /metrics' },
  workers: { env: 'INGEST_WORKERS', type: 'int', min: 1, max: 64, default: 1, doc: 'processes sharing the port (SO_REUSEPORT), one per core' },
  nodeId: { env: 'INGEST_NODE_ID', type: 'string', default: hostname(), doc: 'this edge node id, stamped on every request' },
  maxBodyBytes: { env: 'INGEST_MAX_BODY_BYTES', type: 'int', min: 1024, max: 16 * 1024 * 1024, default: 64 * 1024, doc: 'largest accepted body (after gunzip)' },
  apiKey: { env: 'INGEST_API_KEY', type: 'string', default: '', secret: true, doc: 'required API key; empty disables the check' },
  apiKeyHeader: { env: 'INGEST_API_KEY_HEADER', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'x-api-key', doc: 'lower-case header carrying the API key' },
  rateLimitPerSec: { env: 'INGEST_RATE_LIMIT_RPS', type: 'int', min: 0, max: 10_000_000, default: 0, doc: 'requests/s per client (API key, else IP); 0 disables' },
  rateLimitBurst: { env: 'INGEST_RATE_LIMIT_BURST', type: 'int', min: 1, max: 10_000_000, default: 1000, doc: 'token bucket size per client' },
  maxInflight: { env: 'INGEST_MAX_INFLIGHT', type: 'int', min: 1, max: 10_000_000, default: 20_000, doc: 'requests awaiting a delivery report before answering 503' },
  deliveryTimeoutMs: { env: 'INGEST_DELIVERY_TIMEOUT_MS', type: 'int', min: 100, max: 300_000, default: 5000, doc: 'longest wait for a Kafka delivery report (message.timeout.ms)' },
  lingerMs: { env: 'INGEST_LINGER_MS', type: 'int', min: 0, max: 1000, default: 5, doc: 'producer batching delay (linger.ms)' },
  readyStallMs: { env: 'INGEST_READY_STALL_MS', type: 'int', min: 100, max: 300_000, default: 1000, doc: '/ready answers 503 while requests await delivery and none has settled for this long' },
  deliveryPollMs: { env: 'INGEST_DELIVERY_POLL_MS', type: 'int', min: 1, max: 1000, default: 1, doc: 'how often Kafka delivery reports are collected (adds up to this much to each answer)' },
  compression: { env: 'INGEST_COMPRESSION', type: 'enum', values: ['lz4', 'zstd', 'none'] as const, default: 'lz4', doc: 'producer compression codec' },
  openrtbMode: { env: 'INGEST_OPENRTB_MODE', type: 'enum', values: ['sync', 'async'] as const, default: 'sync', doc: 'sync: answer /openrtb2/bid with the auction outcome within tmax; async: answer 202 once accepted' },
  outcomesTopic: { env: 'INGEST_OUTCOMES_TOPIC', type: 'string', pattern: /^[A-Za-z0-9._-]{1,249}$/, default: 'auction-outcomes', doc: 'topic the synchronous mode waits on' },
  defaultTmaxMs: { env: 'INGEST_DEFAULT_TMAX_MS', type: 'int', min: 10, max: 60_000, default: 150, doc: 'deadline when a request has no tmax' },
  maxTmaxMs: { env: 'INGEST_MAX_TMAX_MS', type: 'int', min: 10, max: 60_000, default: 1000, doc: 'longest deadline honoured: a larger request tmax is clamped to this (a client cannot hold a waiter longer)' },
  tmaxMarginMs: { env: 'INGEST_TMAX_MARGIN_MS', type: 'int', min: 0, max: 10_000, default: 15, doc: 'answered this long before tmax, for the trip back to the exchange' },
  shutdownTimeoutMs: { env: 'INGEST_SHUTDOWN_TIMEOUT_MS', type: 'int', min: 0, max: 600_000, default: 30_000, doc: 'longest drain on SIGTERM' },
  // Tracking notices (issue 5): ingest/tracking-*.ts.
  trackingTopic: { env: 'INGEST_TRACKING_TOPIC', type: 'string', pattern: /^[A-Za-z0-9._-]{1,249}$/, default: 'tracking-events', doc: 'topic tracking notices are written to' },
  lossTopic: { env: 'INGEST_LOSS_TOPIC', type: 'string', pattern: /^[A-Za-z0-9._-]{1,249}$/, default: 'loss-notices', doc: 'topic loss notices (lurl) are written to' },
  publicUrl: { env: 'INGEST_PUBLIC_URL', type: 'string', pattern: /^https?:\/\/[^\s?#]+$/, default: 'http://127.0.0.1:8080', doc: 'public base URL of this edge, used in the notice URLs of bid responses' },
  // Issue 11: no default secret. Unset (or a known example value) refuses to start unless RTB_DEV_MODE=1 (ingest/tracking-secret.ts).
  trackingSecret: {
    env: 'INGEST_TRACKING_SECRET', type: 'string', pattern: /^\S{16,}$/, default: '', secret: true,
    doc: 'HMAC key signing tracking tokens (or INGEST_TRACKING_SECRET_FILE): at least 16 random characters, e.g. `openssl rand -base64 32`, the same on every edge node',
  },
  trackingSecretPrevious: {
    env: 'INGEST_TRACKING_SECRET_PREVIOUS', type: 'string', pattern: /^\S{16,}$/, default: '', secret: true,
    doc: 'during a rotation: the previous INGEST_TRACKING_SECRET, still accepted when verifying tokens (new ones are signed with the current secret); unset it after INGEST_NOTICE_TOKEN_TTL_MS',
  },
  noticeTokenTtlMs: {
    env: 'INGEST_NOTICE_TOKEN_TTL_MS', type: 'int', min: 60_000, max: 30 * 86_400_000, default: 7 * 86_400_000,
    doc: 'how long the notice URLs of a bid stay valid; at most AGGREGATE_DEDUP_TTL_MS (7 days), so a notice accepted is always recognised as a repeat',
  },
  noticeRateLimitPerSec: { env: 'INGEST_NOTICE_RATE_LIMIT_RPS', type: 'int', min: 0, max: 10_000_000, default: 1000, doc: 'tracking notices/s per client IP (a bucket apart from bid traffic); 0 disables' },
  noticeRateLimitBurst: { env: 'INGEST_NOTICE_RATE_LIMIT_BURST', type: 'int', min: 1, max: 10_000_000, default: 2000, doc: 'tracking notice token bucket size per client IP' },
  // Exchanges as principals (ingest/exchanges.ts): who may send bid requests, with which keys and limits.
  exchangesFile: { env: 'INGEST_EXCHANGES_FILE', type: 'string', default: '', doc: 'JSON file of the exchanges allowed to send bid requests: ids, SHA-256 hashes of their API keys, rate limits, seat, default tmax, notice settings (README "The ingest edge")' },
  exchangesJson: { env: 'INGEST_EXCHANGES', type: 'string', default: '', secret: true, doc: 'the same JSON as INGEST_EXCHANGES_FILE, inline; with both set, the exchanges of both are used' },
  authFailRatePerSec: { env: 'INGEST_AUTH_FAILURE_RPS', type: 'int', min: 1, max: 1_000_000, default: 5, doc: 'failed API key checks allowed per client IP and second; beyond, that IP is answered 429 before its key is even checked' },
  authFailBurst: { env: 'INGEST_AUTH_FAILURE_BURST', type: 'int', min: 1, max: 1_000_000, default: 20, doc: 'token bucket size of INGEST_AUTH_FAILURE_RPS' },
  // Privacy (processors/domain/privacy.ts): GDPR consent needs purposes 1, 3 and 4, and our vendor when this is set.
  gvlVendorId: {
    env: 'INGEST_GVL_VENDOR_ID', type: 'int', min: 0, max: 65_535, default: 0,
    doc: 'our vendor id in IAB\'s Global Vendor List: a GDPR request then needs consent for this vendor too (TCF vendor consent); 0 = unset, only the purposes (1, 3, 4) are checked',
  },
  // Resource bounds (ingest/bounds.ts).
  maxWaiters: { env: 'INGEST_MAX_WAITERS', type: 'int', min: 1, max: 10_000_000, default: 10_000, doc: 'synchronous requests waiting for their auction outcome at once; beyond, 503 with Retry-After' },
  bodyTimeoutMs: { env: 'INGEST_BODY_TIMEOUT_MS', type: 'int', min: 100, max: 600_000, default: 5000, doc: 'a request body not fully received this long after its headers is answered 408 and its connection closed' },
  maxConnections: { env: 'INGEST_MAX_CONNECTIONS', type: 'int', min: 1, max: 10_000_000, default: 10_000, doc: 'requests of the bid and notice routes in progress at once (one per connection); beyond, a new one is answered 503 and its connection closed' },
  // Transport.
  tlsCertFile: { env: 'INGEST_TLS_CERT_FILE', type: 'string', default: '', doc: 'PEM certificate (chain) file: with INGEST_TLS_KEY_FILE the bid port speaks HTTPS only' },
  tlsKeyFile: { env: 'INGEST_TLS_KEY_FILE', type: 'string', default: '', doc: 'PEM private key file of INGEST_TLS_CERT_FILE (unencrypted)' },
  metricsPort: { env: 'INGEST_METRICS_PORT', type: 'int', min: 0, max: 65535, default: 0, doc: 'internal plain-HTTP port serving /metrics (and /health, /ready); /metrics then leaves the bid port. 0: /metrics on the bid port' },
  metricsHost: { env: 'INGEST_METRICS_HOST', type: 'string', default: '', doc: 'address INGEST_METRICS_PORT listens on (empty: INGEST_HOST)' },
} as const satisfies Record<string, Spec>;

export type IngestConfig = ConfigOf<typeof ingestSpecs>;

export function loadIngestConfig(env: Record<string, string | undefined> = process.env): IngestConfig {
  return loadConfig(ingestSpecs, env);
}
