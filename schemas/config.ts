/**
 * Configuration as a schema. Each entry point declares the variables it reads (name, type, default,
 * bounds); `loadConfig` validates the environment once at start-up and returns a frozen object.
 * A bad value fails with a message naming the variable and what it must be. Only config modules
 * call this, and only this module reads `process.env`.
 *
 * Secrets (`secret: true`): the value may come from a file instead, named by `<ENV>_FILE` (Docker and
 * Kubernetes secrets are mounted as files; a file keeps the value out of `ps e` and of every child's
 * environment). The file's content is trimmed; setting both `<ENV>` and `<ENV>_FILE` is an error. When
 * the specs themselves declare `<ENV>_FILE` (a service that reads that file on its own, e.g. the campaign
 * API's operator token), the loader leaves it to them. A secret's value never appears in an error
 * message, and `redactConfig` masks it for anything that prints a configuration.
 */
import { readFileSync } from 'node:fs';
import { PipelineError } from './errors.js';

type Base<T> = {
  env: string;
  doc: string;
  default?: T;
  /** A credential (or a URL that may carry one): readable from `<env>_FILE`, never echoed in errors or dumps. */
  secret?: boolean;
};
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

/** What a secret's value is shown as: in error messages and configuration dumps. */
export const REDACTED = '[redacted]';

function fail(spec: Spec, raw: string, what: string, source = spec.env): never {
  // A secret's value is never echoed: not even a wrong one (it may be the right one in the wrong variable).
  const shown = spec.secret ? `${source} (value hidden)` : `${source}=${JSON.stringify(raw)}`;
  throw new PipelineError('CONFIG_INVALID', `${shown} is invalid: ${what} (${spec.doc})`);
}

function parse(spec: Spec, raw: string, source = spec.env): unknown {
  const fail_ = (what: string): never => fail(spec, raw, what, source);
  switch (spec.type) {
    case 'string':
      if (spec.pattern && !spec.pattern.test(raw)) fail_(`must match ${spec.pattern}`);
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw.trim())) fail_('must be an integer');
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) fail_('must be a safe integer');
      if (spec.min !== undefined && n < spec.min) fail_(`must be >= ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail_(`must be <= ${spec.max}`);
      return n;
    }
    case 'bool':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return fail_('must be true or false');
    case 'enum':
      if (!spec.values.includes(raw)) fail_(`must be one of ${spec.values.join(', ')}`);
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
  const declared = new Set(Object.values(specs).map((s) => s.env));
  for (const [key, spec] of Object.entries(specs)) {
    let raw = env[spec.env];
    let source = spec.env;
    const fileVar = `${spec.env}_FILE`;
    const file = spec.secret && !declared.has(fileVar) ? env[fileVar] : undefined;
    if (file !== undefined && file !== '') {
      if (raw !== undefined && raw !== '') {
        throw new PipelineError('CONFIG_INVALID', `set ${spec.env} or ${fileVar}, not both (the file is preferred)`);
      }
      raw = readSecretFile(fileVar, file);
      source = `${fileVar} ${file}`;
    }
    if (raw === undefined || raw === '') {
      if (spec.default === undefined) {
        throw new PipelineError('CONFIG_INVALID', `${spec.env} is required: set it${spec.secret ? ` (or ${fileVar}, a file holding it)` : ''} to ${spec.doc}`);
      }
      out[key] = Array.isArray(spec.default) ? Object.freeze([...spec.default]) : spec.default;
    } else {
      out[key] = parse(spec, raw, source);
    }
  }
  return Object.freeze(out) as ConfigOf<T>;
}

/** The trimmed content of a secret's file; a missing, unreadable or empty file is CONFIG_INVALID naming the file (never its content). */
function readSecretFile(fileVar: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new PipelineError('CONFIG_INVALID', `${fileVar}=${JSON.stringify(path)} cannot be read (${code}): mount the secret there or fix the path`);
  }
  const value = text.trim();
  if (value === '') throw new PipelineError('CONFIG_INVALID', `${fileVar}=${JSON.stringify(path)} is empty`);
  return value;
}

/** The configuration with every secret's value masked (REDACTED when set, '' when empty): what may be logged or printed. */
export function redactConfig<T extends Record<string, Spec>>(specs: T, cfg: ConfigOf<T>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(cfg as Record<string, unknown>)) {
    out[key] = specs[key]?.secret && value !== '' ? REDACTED : value;
  }
  return out;
}

/** The variables a spec set reads: each `env`, plus `<env>_FILE` of every secret the loader reads from a file. */
export function envNamesOf(specs: Record<string, Spec>): Set<string> {
  const names = new Set(Object.values(specs).map((s) => s.env));
  for (const s of Object.values(specs)) if (s.secret) names.add(`${s.env}_FILE`);
  return names;
}

/**
 * Transport security of every Kafka client (kafka.ts `kafkaSecurityProperties` turns these into librdkafka
 * properties). PLAINTEXT (the local stack) sets nothing.
 */
export const kafkaSecuritySpecs = {
  kafkaSecurityProtocol: {
    env: 'KAFKA_SECURITY_PROTOCOL', type: 'enum', values: ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const, default: 'PLAINTEXT',
    doc: 'how clients talk to the brokers (security.protocol)',
  },
  kafkaSaslMechanism: {
    env: 'KAFKA_SASL_MECHANISM', type: 'enum', values: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const, default: 'SCRAM-SHA-512',
    doc: 'SASL mechanism with SASL_PLAINTEXT or SASL_SSL',
  },
  kafkaSaslUsername: { env: 'KAFKA_SASL_USERNAME', type: 'string', default: '', doc: 'SASL user name (required with SASL_*)' },
  kafkaSaslPassword: { env: 'KAFKA_SASL_PASSWORD', type: 'string', default: '', secret: true, doc: 'SASL password (required with SASL_*)' },
  kafkaSslCaFile: { env: 'KAFKA_SSL_CA_FILE', type: 'string', default: '', doc: 'PEM file of the CA(s) that signed the brokers\' certificates (default: the system store)' },
  kafkaSslCertFile: { env: 'KAFKA_SSL_CERT_FILE', type: 'string', default: '', doc: 'PEM client certificate, for brokers that require mutual TLS (with KAFKA_SSL_KEY_FILE)' },
  kafkaSslKeyFile: { env: 'KAFKA_SSL_KEY_FILE', type: 'string', default: '', doc: 'PEM private key of KAFKA_SSL_CERT_FILE' },
  kafkaSslKeyPassword: { env: 'KAFKA_SSL_KEY_PASSWORD', type: 'string', default: '', secret: true, doc: 'passphrase of KAFKA_SSL_KEY_FILE, if it is encrypted' },
  kafkaSslVerifyHostname: { env: 'KAFKA_SSL_VERIFY_HOSTNAME', type: 'bool', default: true, doc: 'check that the broker certificate names the host connected to (ssl.endpoint.identification.algorithm=https)' },
} as const satisfies Record<string, Spec>;

/** TLS of the Postgres clients (`postgres` package): postgres.ts `postgresTls`. */
export const postgresTlsSpecs = {
  postgresSslMode: {
    env: 'POSTGRES_SSLMODE', type: 'enum', values: ['disable', 'require', 'verify-full'] as const, default: 'disable',
    doc: "disable: plain TCP; require: TLS without certificate checks; verify-full: TLS, certificate signed by POSTGRES_SSL_CA_FILE (or the system store) for the host name",
  },
  postgresSslCaFile: { env: 'POSTGRES_SSL_CA_FILE', type: 'string', default: '', doc: 'PEM CA file for POSTGRES_SSLMODE=verify-full (default: the system store)' },
} as const satisfies Record<string, Spec>;

/** Authentication and TLS of the Redis clients (redis.ts `redisOptions`); a rediss:// REDIS_URL turns TLS on. */
export const redisTlsSpecs = {
  redisPassword: { env: 'REDIS_PASSWORD', type: 'string', default: '', secret: true, doc: 'Redis password (AUTH; default user), instead of one in REDIS_URL' },
  redisUsername: { env: 'REDIS_USERNAME', type: 'string', default: '', doc: 'Redis ACL user name (with REDIS_PASSWORD), instead of one in REDIS_URL' },
  redisTlsCaFile: { env: 'REDIS_TLS_CA_FILE', type: 'string', default: '', doc: 'PEM CA file that signed the Redis certificate (rediss:// URLs; default: the system store)' },
} as const satisfies Record<string, Spec>;

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
  devMode: {
    env: 'RTB_DEV_MODE', type: 'bool', default: false,
    doc: 'development only (1/true): a service may make up a missing secret (the campaign API generates an operator token file) instead of refusing to start; never set it in production',
  },
  ...kafkaSecuritySpecs,
} as const satisfies Record<string, Spec>;

export const postgresSpecs = {
  postgresUrl: {
    env: 'POSTGRES_URL',
    type: 'string',
    pattern: /^postgres(ql)?:\/\/\S+$/,
    default: 'postgres://rtb:rtb@127.0.0.1:5432/rtb',
    secret: true,
    doc: 'postgres://user:password@host:port/database',
  },
  ...postgresTlsSpecs,
} as const satisfies Record<string, Spec>;

export const redisSpecs = {
  redisUrl: { env: 'REDIS_URL', type: 'string', pattern: /^rediss?:\/\/\S+$/, default: 'redis://127.0.0.1:6379', secret: true, doc: 'redis://[:password@]host:port' },
  ...redisTlsSpecs,
} as const satisfies Record<string, Spec>;
