/**
 * Configuration as a schema. Each entry point declares the variables it reads (name, type, default,
 * bounds); `loadConfig` validates the environment once at start-up and returns a frozen object.
 * A bad value fails with a message naming the variable and what it must be. Only config modules
 * call this, and only this module reads `process.env`.
 */
import { PipelineError } from './errors.js';

type Base<T> = { env: string; doc: string; default?: T };
export type StringSpec = Base<string> & { type: 'string'; pattern?: RegExp };
export type IntSpec = Base<number> & { type: 'int'; min?: number; max?: number };
export type BoolSpec = Base<boolean> & { type: 'bool' };
export type EnumSpec<E extends string> = Base<E> & { type: 'enum'; values: readonly E[] };
export type ListSpec = Base<readonly string[]> & { type: 'list' };
export type Spec = StringSpec | IntSpec | BoolSpec | EnumSpec<string> | ListSpec;

type ValueOf<S> = S extends IntSpec
  ? number
  : S extends BoolSpec
    ? boolean
    : S extends EnumSpec<infer E>
      ? E
      : S extends ListSpec
        ? readonly string[]
        : string;

export type ConfigOf<T extends Record<string, Spec>> = { readonly [K in keyof T]: ValueOf<T[K]> };

function fail(spec: Spec, raw: string, what: string): never {
  throw new PipelineError('CONFIG_INVALID', `${spec.env}=${JSON.stringify(raw)} is invalid: ${what} (${spec.doc})`);
}

function parse(spec: Spec, raw: string): unknown {
  switch (spec.type) {
    case 'string':
      if (spec.pattern && !spec.pattern.test(raw)) fail(spec, raw, `must match ${spec.pattern}`);
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) fail(spec, raw, 'must be an integer');
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) fail(spec, raw, 'must be a safe integer');
      if (spec.min !== undefined && n < spec.min) fail(spec, raw, `must be >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(spec, raw, `must be <= ${spec.max}`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return fail(spec, raw, 'must be true or false');
    case 'enum':
      if (!spec.values.includes(raw)) fail(spec, raw, `must be one of ${spec.values.join(', ')}`);
      return raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }
}

/** Validates `env` against `specs` and returns the frozen config; throws CONFIG_INVALID naming the variable. */
export function loadConfig<T extends Record<string, Spec>>(
  specs: T,
  env: Record<string, string | undefined> = process.env,
): ConfigOf<T> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') {
      if (spec.default === undefined) {
        throw new PipelineError('CONFIG_INVALID', `${spec.env} is required: set it to ${spec.doc}`);
      }
      out[key] = Array.isArray(spec.default) ? Object.freeze([...spec.default]) : spec.default;
    } else {
      out[key] = parse(spec, raw);
    }
  }
  return Object.freeze(out) as ConfigOf<T>;
}

/** The variables every service shares; defaults match the local stack (deploy/stack/stack.sh). */
export const commonSpecs = {
  kafkaBrokers: { env: 'KAFKA_BROKERS', type: 'string', default: '127.0.0.1:9092', doc: 'comma-separated host:port list' },
  schemaRegistryUrl: {
    env: 'SCHEMA_REGISTRY_URL',
    type: 'string',
    pattern: /^https?:\/\/\S+$/,
    default: 'http://127.0.0.1:8081/apis/ccompat/v7',
    doc: 'Confluent-compatible registry base URL',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    type: 'enum',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    default: 'info',
    doc: 'pino log level',
  },
  topicPartitions: { env: 'TOPIC_PARTITIONS', type: 'int', min: 1, max: 1000, default: 12, doc: 'partitions for topics we create' },
  topicReplication: { env: 'TOPIC_REPLICATION', type: 'int', min: 1, max: 10, default: 1, doc: 'replication factor for topics we create' },
} as const satisfies Record<string, Spec>;

export const postgresSpecs = {
  postgresUrl: {
    env: 'POSTGRES_URL',
    type: 'string',
    pattern: /^postgres(ql)?:\/\/\S+$/,
    default: 'postgres://rtb:rtb@127.0.0.1:5432/rtb',
    doc: 'postgres://user:password@host:port/database',
  },
} as const satisfies Record<string, Spec>;

export const redisSpecs = {
  redisUrl: { env: 'REDIS_URL', type: 'string', pattern: /^rediss?:\/\/\S+$/, default: 'redis://127.0.0.1:6379', doc: 'redis://host:port' },
} as const satisfies Record<string, Spec>;
