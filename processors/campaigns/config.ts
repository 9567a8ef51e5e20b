/** The campaign management service's configuration (environment variables, validated once at start-up). */
import { commonSpecs, loadConfig, postgresSpecs, type ConfigOf, type Spec } from '../../schemas/config.js';

export const campaignsSpecs = {
  ...commonSpecs,
  ...postgresSpecs,
  host: { env: 'CAMPAIGNS_HOST', type: 'string', default: '0.0.0.0', doc: 'address the management API listens on' },
  port: { env: 'CAMPAIGNS_PORT', type: 'int', min: 1, max: 65535, default: 8090, doc: 'HTTP port of the API, /health, /ready, /metrics' },
  tlsCertFile: { env: 'CAMPAIGNS_TLS_CERT_FILE', type: 'string', default: '', doc: 'PEM certificate (chain) of the API: with CAMPAIGNS_TLS_KEY_FILE it serves HTTPS only on CAMPAIGNS_PORT' },
  tlsKeyFile: { env: 'CAMPAIGNS_TLS_KEY_FILE', type: 'string', default: '', doc: 'PEM private key of CAMPAIGNS_TLS_CERT_FILE' },
  requestTimeoutMs: {
    env: 'CAMPAIGNS_REQUEST_TIMEOUT_MS', type: 'int', min: 1000, max: 600_000, default: 10_000,
    doc: 'a request (headers and body) not fully received by then is answered 408 and its connection closed (slow clients cannot hold connections)',
  },
  maxConnections: {
    env: 'CAMPAIGNS_MAX_CONNECTIONS', type: 'int', min: 1, max: 1_000_000, default: 256,
    doc: 'open connections at most; further connections are closed at once',
  },
  republishMs: {
    env: 'CAMPAIGNS_REPUBLISH_MS', type: 'int', min: 1000, max: 86_400_000, default: 60_000,
    doc: 'interval between re-sends of every campaign from Postgres to the campaigns topic',
  },
  publishTimeoutMs: {
    env: 'CAMPAIGNS_PUBLISH_TIMEOUT_MS', type: 'int', min: 100, max: 300_000, default: 5000,
    doc: 'longest wait for Kafka to acknowledge a campaign before the API answers 503 (message.timeout.ms)',
  },
  operatorTokenFile: {
    env: 'CAMPAIGNS_OPERATOR_TOKEN_FILE', type: 'string', default: '',
    doc: 'file holding the bootstrap operator bearer token (preferred over CAMPAIGNS_OPERATOR_TOKEN; at least 32 random characters, e.g. rtbk_ + 32 random bytes base64url); with RTB_DEV_MODE=1 a missing file is created with a generated token (default .stack/operator-token)',
  },
  operatorToken: {
    env: 'CAMPAIGNS_OPERATOR_TOKEN', type: 'string', default: '', secret: true,
    doc: 'the bootstrap operator bearer token itself, when a file is not practical (same rules as CAMPAIGNS_OPERATOR_TOKEN_FILE)',
  },
} as const satisfies Record<string, Spec>;

export type CampaignsConfig = ConfigOf<typeof campaignsSpecs>;

export function loadCampaignsConfig(env: Record<string, string | undefined> = process.env): CampaignsConfig {
  return loadConfig(campaignsSpecs, env);
}
