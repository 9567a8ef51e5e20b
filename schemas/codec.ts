/**
 * The Avro codec under a Confluent-compatible schema registry. Writer schemas are registered once at
 * start-up (TopicNameStrategy subjects); their ids and avsc types are cached, so encoding and decoding
 * a known schema makes no HTTP call. A record written with an older or newer schema is resolved to the
 * reader's schema (schema evolution).
 */
import avro from 'avsc';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { PipelineError } from './errors.js';
import { HEADER_BYTES, unframe, writeHeader } from './wire-format.js';

export type AvroSchemaJson = Record<string, unknown>;

/** Retries of a registration that lost a start-up race or timed out (50 ms doubling: about 3 s of waiting in all). */
const REGISTER_RACE_RETRIES = 6;
/** Further tries of a writer-schema lookup that timed out (see fetchSchema). */
const LOOKUP_TIMEOUT_RETRIES = 2;

/**
 * Every registry request gives up after this long. The client has no timeout of its own: one request
 * that never got an answer held a service in start-up for good (seen once in a 90 s readiness wait).
 */
export const REGISTRY_TIMEOUT_MS = 10_000;
const requestTimeout = (ms: number) => () => ({
  prepareRequest: (next: () => Promise<{ enhance(extras: { timeout: number }): unknown }>) => next().then((req) => req.enhance({ timeout: ms })),
});

interface Registered {
  id: number;
  type: avro.Type;
}

export class AvroCodec {
  readonly registry: SchemaRegistry;
  private readonly bySubject = new Map<string, Registered>();
  private readonly writers = new Map<number, Promise<avro.Type>>();
  /** The writer types already fetched, for the synchronous hot path (decodeKnown). */
  private readonly known = new Map<number, avro.Type>();
  private readonly resolvers = new Map<string, avro.Resolver | null>();
  /** Encoding happens here (header, then the body in place) and is copied out once, into a pooled buffer. */
  private scratch = Buffer.allocUnsafe(16 * 1024);

  constructor(private readonly registryUrl: string, opts: { timeoutMs?: number } = {}) {
    this.registry = new SchemaRegistry({
      host: registryUrl, retry: { retries: 3, initialRetryTimeInSecs: 0.2 },
      middlewares: [requestTimeout(opts.timeoutMs ?? REGISTRY_TIMEOUT_MS) as unknown as NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number]],
    });
  }

  /**
   * Registers `schema` under `subject` (idempotent) and caches its id; a breaking change fails with
   * SCHEMA_INCOMPATIBLE. A new subject gets the compatibility level given (default FULL: in a rolling
   * deploy old and new readers and writers run side by side, so a change must work both ways).
   *
   * Services start together and register the same subjects (a writer and its readers). The client
   * creates a new subject and then sets its level, so a concurrent registrant can read the level in
   * between (Apicurio answers NONE for a subject without one) or lose the race to set it (409 "rule
   * already exists"): both are retried, and the level then read is the one the winner set.
   */
  async register(subject: string, schema: AvroSchemaJson, compatibility: keyof typeof COMPATIBILITY = 'FULL'): Promise<number> {
    const level = COMPATIBILITY[compatibility];
    let id: number | undefined;
    for (let attempt = 0; id === undefined; attempt++) {
      try {
        ({ id } = await this.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: level }));
      } catch (err) {
        const message = (err as Error).message ?? '';
        const status = (err as { status?: number }).status;
        const levelUnset = (err as Error).name === 'ConfluentSchemaRegistryCompatibilityError' && message.includes('!= NONE');
        const lostLevelRace = status === 409 && /rule named 'COMPATIBILITY' already exists/i.test(message);
        const timedOut = /\bTimeout \(\d+ms\)/.test(message);
        if ((levelUnset || lostLevelRace || timedOut) && attempt < REGISTER_RACE_RETRIES) {
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          // Still no level after a few tries: nobody else is about to set it. The client registers the
          // first version and then sets the level in a second request; when that one failed (a registry
          // timeout under load) the subject is left with one version and no level, and every later try
          // reads NONE. Finish that interrupted first registration; a subject with more versions has a
          // history someone manages, and its NONE is left alone (and reported below).
          if (levelUnset && attempt >= 2) await this.finishFirstRegistration(subject, level).catch(() => undefined);
          continue;
        }
        if (levelUnset || (err as Error).name === 'ConfluentSchemaRegistryCompatibilityError') {
          throw new PipelineError(
            'SCHEMA_REGISTRY',
            `subject ${subject}: ${message}; set its level with PUT ${this.registryUrl}/config/${subject} {"compatibility":"${level}"}`,
            { cause: err },
          );
        }
        if (status === 409) {
          throw new PipelineError('SCHEMA_INCOMPATIBLE', `schema for ${subject} is incompatible with the registered versions`, { cause: err });
        }
        throw new PipelineError('SCHEMA_REGISTRY', `registering ${subject} failed: ${message}`, { cause: err });
      }
    }
    const type = avro.Type.forSchema(schema as avro.Schema);
    this.bySubject.set(subject, { id, type });
    this.writers.set(id, Promise.resolve(type));
    this.known.set(id, type);
    return id;
  }

  /** Sets `subject`'s level when it has exactly one version (see register). */
  private async finishFirstRegistration(subject: string, level: string): Promise<void> {
    const url = `${this.registryUrl}/subjects/${encodeURIComponent(subject)}/versions`;
    const versions = await fetch(url, { signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) });
    if (!versions.ok) return;
    const list = (await versions.json()) as unknown;
    if (!Array.isArray(list) || list.length !== 1) return;
    await fetch(`${this.registryUrl}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: level }),
      signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
    });
  }

  schemaId(subject: string): number | undefined {
    return this.bySubject.get(subject)?.id;
  }

  /** Encodes `value` with the schema registered for `subject`; invalid values fail with ENCODE_FAILED naming the field. */
  encode(subject: string, value: unknown): Buffer {
    const reg = this.bySubject.get(subject);
    if (!reg) throw new PipelineError('ENCODE_FAILED', `no schema registered for ${subject}`);
    try {
      let end = reg.type.encode(value, this.scratch, HEADER_BYTES);
      if (end < 0) {
        // Too small by -end bytes: grow (to a power of two) and write again.
        this.scratch = Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(this.scratch.length - end)));
        end = reg.type.encode(value, this.scratch, HEADER_BYTES);
      }
      writeHeader(this.scratch, reg.id);
      const out = Buffer.allocUnsafe(end);
      this.scratch.copy(out, 0, 0, end);
      return out;
    } catch (err) {
      const paths: string[] = [];
      reg.type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) });
      throw new PipelineError('ENCODE_FAILED', `value does not match ${subject}${paths.length ? ` at ${paths.slice(0, 3).join(', ')}` : ''}`, { cause: err });
    }
  }

  /** Decodes a framed record into the reader schema of `subject` (or the writer's own schema when none is registered). */
  async decode<T = unknown>(buf: Buffer, subject?: string): Promise<T> {
    const { schemaId, body } = unframe(buf);
    return this.read<T>(schemaId, body, await this.writerType(schemaId), subject);
  }

  /**
   * As decode, synchronously, when the writer's schema is already known (always, after the first record
   * of a schema); `undefined` otherwise, then call decode. Saves a promise and a microtask per record.
   */
  decodeKnown<T = unknown>(buf: Buffer, subject?: string): T | undefined {
    const { schemaId, body } = unframe(buf);
    const writer = this.known.get(schemaId);
    return writer ? this.read<T>(schemaId, body, writer, subject) : undefined;
  }

  private read<T>(schemaId: number, body: Buffer, writer: avro.Type, subject: string | undefined): T {
    const reader = subject ? this.bySubject.get(subject) : undefined;
    try {
      if (!reader || reader.id === schemaId) return writer.fromBuffer(body) as T;
      return reader.type.fromBuffer(body, this.resolver(schemaId, reader, writer) ?? undefined) as T;
    } catch (err) {
      throw new PipelineError('DECODE_FAILED', `Avro body does not match schema id ${schemaId}: ${(err as Error).message}`, { cause: err });
    }
  }

  private resolver(writerId: number, reader: Registered, writer: avro.Type): avro.Resolver | null {
    const key = `${writerId}->${reader.id}`;
    let r = this.resolvers.get(key);
    if (r === undefined) {
      try {
        r = reader.type.createResolver(writer);
      } catch (err) {
        throw new PipelineError('DECODE_FAILED', `schema id ${writerId} cannot be read as id ${reader.id}`, { cause: err });
      }
      this.resolvers.set(key, r);
    }
    return r;
  }

  /**
   * A writer schema by id. The lookup is an idempotent GET of immutable content, so a request that timed
   * out is simply asked again (LOOKUP_TIMEOUT_RETRIES times): the client's own retries cover 5xx and
   * refused connections but not its timeouts, and one registry answer slower than the timeout (a CI run
   * on a loaded machine saw one) must not fail a consumer or a test that reads a dead letter.
   */
  private async fetchSchema(id: number): Promise<Awaited<ReturnType<SchemaRegistry['getSchema']>>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.registry.getSchema(id);
      } catch (err) {
        if (attempt >= LOOKUP_TIMEOUT_RETRIES || !/\bTimeout \(\d+ms\)/.test((err as Error).message ?? '')) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  private writerType(id: number): Promise<avro.Type> {
    let p = this.writers.get(id);
    if (!p) {
      p = this.fetchSchema(id).then(
        (s) => {
          const type = avro.Type.forSchema((s as unknown as avro.Type).schema() as avro.Schema);
          this.known.set(id, type);
          return type;
        },
        (err: unknown) => {
          this.writers.delete(id);
          const status = (err as { status?: number }).status;
          // An unknown id is bad data (it can never decode); anything else is the registry being unwell.
          if (status === 404) throw new PipelineError('DECODE_FAILED', `schema id ${id} is unknown to the registry`, { cause: err });
          throw new PipelineError('SCHEMA_REGISTRY', `fetching schema id ${id} failed`, { cause: err });
        },
      );
      this.writers.set(id, p);
    }
    return p;
  }
}
