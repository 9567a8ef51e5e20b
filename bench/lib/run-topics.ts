/** The Kafka side of a run: topics of its own, filled, copied and read, and everything it created removed at the end. */
import { commonSpecs, loadConfig, redisSpecs } from '../../schemas/config.js';
import { PipelineError } from '../../schemas/errors.js';
import { createKafka, ensureTopics, type Admin, type Kafka } from '../../processors/runtime/kafka.js';
import { readTopicFully, type RawRecord, type ReadOptions } from '../../processors/runtime/read-topic.js';
import type { Logger } from '../../processors/runtime/logger.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../../schemas/topics.js';

const SEND_BATCH = 1000;

export const stackConfig = loadConfig({ ...commonSpecs, ...redisSpecs });

export class RunTopics {
  readonly kafka: Kafka;
  readonly codec: AvroCodec;
  readonly admin: Admin;
  private readonly topics = new Set<string>();
  private readonly groups = new Set<string>();
  private readonly groupPrefixes = new Set<string>();

  constructor(private readonly log: Logger, clientId: string) {
    this.kafka = createKafka({ brokers: stackConfig.kafkaBrokers, clientId, log, security: stackConfig });
    this.codec = new AvroCodec(stackConfig.schemaRegistryUrl);
    this.admin = this.kafka.admin();
  }

  async connect(): Promise<void> {
    await this.admin.connect();
  }

  async create(topic: string, partitions: number, schemaFile?: string): Promise<void> {
    this.topics.add(topic);
    await ensureTopics(this.admin, [{ topic, numPartitions: partitions, replicationFactor: stackConfig.topicReplication }]);
    if (schemaFile) await this.codec.register(subjectFor(topic), loadSchema(schemaFile));
  }

  async createAll(schemas: Record<string, string>, partitions: number): Promise<void> {
    for (const [topic, schema] of Object.entries(schemas)) await this.create(topic, partitions, `${schema}.avsc`);
  }

  track(kind: 'topic' | 'group', name: string): void {
    (kind === 'topic' ? this.topics : this.groups).add(name);
  }

  /** Consumer groups only the service can name (the edge's listener): removed by prefix. */
  trackGroupPrefix(prefix: string): void {
    this.groupPrefixes.add(prefix);
  }

  /** Encodes and writes `values` (plain producer), bounded: a producer without acks retries for minutes. */
  async fill<T>(topic: string, values: readonly T[], keyOf: (v: T) => string, timeoutMs = 90_000): Promise<void> {
    const subject = subjectFor(topic);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PipelineError('DEPENDENCY_UNAVAILABLE', `filling ${topic} did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    const sent = this.send(topic, values.map((v) => ({ key: keyOf(v), value: this.codec.encode(subject, v) })));
    await Promise.race([sent, timeout]).finally(() => clearTimeout(timer));
  }

  /** Writes records read from another topic, bytes unchanged, with a plain producer: no commit markers. */
  async write(topic: string, records: readonly RawRecord[]): Promise<void> {
    await this.send(topic, records.map((r) => ({ key: r.key, value: r.value as Buffer })));
  }

  /** Every committed record of `topic` (with `onRecord`, handed over, none kept); an incomplete read is logged. */
  async read(topic: string, opts: ReadOptions = {}): Promise<RawRecord[]> {
    const r = await readTopicFully(this.kafka, topic, { idleMs: 10_000, idleBeforeFirst: true, markerWaitMs: 1000, ...opts });
    if (!r.complete) this.log.warn({ topic, records: r.count, ms: r.ms }, 'topic read stopped before its end (idle or timeout): counts from it are a lower bound');
    return r.records;
  }

  /** Records ever written to the shared dead-letter topic: compare before and after a run. */
  async deadLetterCount(): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(TOPICS.deadLetters).catch(() => []);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  }

  private async send(topic: string, messages: Array<{ key: string | Buffer | null; value: Buffer }>): Promise<void> {
    const producer = this.kafka.producer({ 'linger.ms': 5, 'compression.codec': 'lz4' });
    await producer.connect();
    try {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < messages.length; i += SEND_BATCH) sends.push(producer.send({ topic, messages: messages.slice(i, i + SEND_BATCH) }));
      await Promise.all(sends);
    } finally {
      await producer.disconnect();
    }
  }

  /** Deletes the run's groups (a just-stopped member may keep one ERR_NON_EMPTY_GROUP for a while: retried 25 s), topics, subjects. */
  async cleanup(): Promise<void> {
    const listed = this.groupPrefixes.size > 0 ? (await this.admin.listGroups().catch(() => null))?.groups ?? [] : [];
    for (const { groupId } of listed) if ([...this.groupPrefixes].some((p) => groupId.startsWith(p))) this.groups.add(groupId);
    const [groups, topics] = [[...this.groups], [...this.topics]];
    for (let attempt = 1; groups.length > 0; attempt++) {
      const err = await this.admin.deleteGroups(groups).then(() => null, (e: unknown) => e as Error & { groups?: unknown });
      const detail = err && JSON.stringify(err.groups ?? err.message);
      if (!detail) break;
      if (!detail.includes('NON_EMPTY') || attempt >= 25) {
        this.log.warn({ err, groups }, 'deleting consumer groups failed');
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const failed = (what: string, names: string[]) => (err: unknown): void => this.log.warn({ err, names }, `deleting ${what} failed`);
    if (topics.length > 0) await this.admin.deleteTopics({ topics, timeout: 30_000 }).catch(failed('topics', topics));
    for (const topic of topics) await this.deleteSubject(subjectFor(topic));
    await this.admin.disconnect().catch(() => undefined);
  }

  private async deleteSubject(subject: string): Promise<void> {
    const url = `${stackConfig.schemaRegistryUrl}/subjects/${encodeURIComponent(subject)}`;
    for (const suffix of ['', '?permanent=true']) {
      const res = await fetch(url + suffix, { method: 'DELETE', signal: AbortSignal.timeout(5000) }).catch((err: unknown) => err as Error);
      if (res instanceof Error || (!res.ok && res.status !== 404)) {
        this.log.debug({ subject, status: res instanceof Error ? res.message : res.status }, 'deleting subject failed');
        return;
      }
    }
  }
}
