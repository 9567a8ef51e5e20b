/** The campaign management service's configuration (environment variables, validated once at start-up). */
import { commonSpecs, loadConfig, postgresSpecs, type ConfigOf, type Spec } from '../runtime/config.js';

export const campaignsSpecs = {
  ...commonSpecs,
  ...postgresSpecs,
  host: { env: 'CAMPAIGNS_HOST', type: 'string', default: '0.0.0.0', doc: 'address the management API listens on' },
  port: { env: 'CAMPAIGNS_PORT', type: 'int', min: 1, max: 65535, default: 8090, doc: 'HTTP port of the API, /health, /ready, /metrics' },
  republishMs: {
    env: 'CAMPAIGNS_REPUBLISH_MS', type: 'int', min: 1000, max: 86_400_000, default: 60_000,
    doc: 'interval between re-sends of every campaign from Postgres to the campaigns topic',
  },
  publishTimeoutMs: {
    env: 'CAMPAIGNS_PUBLISH_TIMEOUT_MS', type: 'int', min: 100, max: 300_000, default: 5000,
    doc: 'longest wait for Kafka to acknowledge a campaign before the API answers 503 (message.timeout.ms)',
  },
} as const satisfies Record<string, Spec>;

export type CampaignsConfig = ConfigOf<typeof campaignsSpecs>;

export function loadCampaignsConfig(env: Record<string, string | undefined> = process.env): CampaignsConfig {
  return loadConfig(campaignsSpecs, env);
}
