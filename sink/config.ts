/** The sink's configuration (environment variables, validated once at start-up and frozen). */
import { commonSpecs, loadConfig, postgresSpecs, type ConfigOf, type Spec } from '../schemas/config.js';

export const sinkSpecs = {
  ...commonSpecs,
  ...postgresSpecs,
  input: { env: 'SINK_INPUT', type: 'string', pattern: /^[A-Za-z0-9._-]+$/, default: 'window-counts', doc: 'topic of WindowCount partial sums to apply' },
  group: { env: 'SINK_GROUP', type: 'string', pattern: /^[A-Za-z0-9._-]+$/, default: 'rtb-sink', doc: 'consumer group; also the group_id of its rows in sink_offsets' },
  maxBatch: { env: 'SINK_MAX_BATCH', type: 'int', min: 1, max: 100_000, default: 2000, doc: 'records per batch and Postgres transaction' },
  maxRetries: { env: 'SINK_MAX_RETRIES', type: 'int', min: 0, max: 1000, default: 10, doc: 'consecutive failed attempts of one batch before exiting without writing' },
  httpHost: { env: 'SINK_HTTP_HOST', type: 'string', default: '0.0.0.0', doc: 'address of /health, /ready, /metrics' },
  httpPort: { env: 'SINK_HTTP_PORT', type: 'int', min: 0, max: 65535, default: 9104, doc: 'port of /health, /ready, /metrics (0 = any free port)' },
} as const satisfies Record<string, Spec>;

export type SinkConfig = ConfigOf<typeof sinkSpecs>;

export function loadSinkConfig(env: Record<string, string | undefined> = process.env): SinkConfig {
  return loadConfig(sinkSpecs, env);
}
