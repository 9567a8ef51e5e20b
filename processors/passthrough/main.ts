/** The pass-through processor as a service (tests and benchmarks). */
import { runProcessorService } from '../runtime/service.js';
import { passThrough } from './passthrough.js';
import type { Spec } from '../../schemas/config.js';

const specs = {
  name: { env: 'PASSTHROUGH_NAME', type: 'string', pattern: /^[a-z0-9-]+$/, default: 'passthrough', doc: 'processor (and consumer group) name' },
  input: { env: 'PASSTHROUGH_INPUT', type: 'string', default: 'bid-requests', doc: 'input topic' },
  output: { env: 'PASSTHROUGH_OUTPUT', type: 'string', default: 'bid-requests-copy', doc: 'output topic' },
  schema: { env: 'PASSTHROUGH_SCHEMA', type: 'string', default: 'bid-request.avsc', doc: 'schema file (schemas/avro) of both topics' },
  passDelivery: { env: 'PASSTHROUGH_DELIVERY', type: 'enum', values: ['exactly-once', 'at-least-once'] as const, default: 'exactly-once', doc: 'the guarantee to run with (benchmarks compare each stage with a pass-through of the same mode)' },
  failKeys: { env: 'PASSTHROUGH_FAIL_KEYS', type: 'list', default: [], doc: 'tests only: record keys whose processing always throws a retryable error (poison records)' },
} as const satisfies Record<string, Spec>;

await runProcessorService({
  name: 'passthrough',
  specs,
  schemaFor: (topic, cfg) => (topic === cfg.input || topic === cfg.output ? cfg.schema : undefined),
  create: (cfg) => passThrough(cfg.name, cfg.input, cfg.output, cfg.passDelivery, cfg.failKeys),
});
