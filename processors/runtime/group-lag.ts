/**
 * How far behind a consumer is: a Kafka consumer group (its committed offsets) or the sink (its positions
 * in Postgres, sink/offsets.ts `sinkPositions`), against where its topics end (end-offsets.ts), per
 * partition and in total; and the one wait until it has caught up. For the replay tool, the chaos run, the
 * benchmarks and the tests.
 */
import { kafkaSecurityProperties, type Admin, type KafkaSecurityConfig } from './kafka.js';
import { committedDataEnds, topicEnds } from './end-offsets.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Where the consumer resumes: its stored next offset, or the log start when it has none. */
  committed: bigint;
  end: bigint;
  lag: bigint;
}

export interface Lag {
  total: bigint;
  partitions: PartitionLag[];
}

/**
 * Where a consumer resumes, keyed `topic/partition`: its stored next offset; null (or no entry) when it has
 * none yet, so it starts at the log start (auto.offset.reset=earliest; the sink claims the log start).
 */
export interface Positions {
  read(topicPartitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<Map<string, bigint | null>>;
}

/** Where a topic ends for the consumer, per partition, with its log start. */
export type Ends = (admin: Admin, topic: string) => Promise<Array<{ partition: number; low: bigint; end: bigint }>>;

/** The high watermarks: the end for a consumer of a topic written without transactions. */
export const highWatermarks: Ends = async (admin, topic) => (await topicEnds(admin, topic)).map((p) => ({ partition: p.partition, low: p.low, end: p.high }));

/**
 * The committed data ends (end-offsets.ts): the end for a consumer that stores "last record + 1" on a
 * topic written in transactions (the sink on window-counts), where the high watermark is one past a marker.
 */
export function committedDataEndsOf(brokers: string, security?: KafkaSecurityConfig, tail = 200): Ends {
  return async (admin, topic) => {
    const ends = await topicEnds(admin, topic);
    const data = await committedDataEnds(brokers, topic, ends, tail, security);
    return ends.map((p) => ({ partition: p.partition, low: p.low, end: data.get(p.partition) ?? p.low }));
  };
}

type RdConsumer = InstanceType<(typeof import('@confluentinc/kafka-javascript'))['RdKafka']['KafkaConsumer']>;

/**
 * A group's committed offsets read through a consumer client that never joins the group, for tools that
 * keep polling while brokers restart (the replay tool, the chaos run). Not through the admin API: when an
 * OffsetFetch answers NOT_COORDINATOR (the coordinator is loading or moved, e.g. while a broker restarts),
 * librdkafka's handler asks the client's consumer-group handle to look the coordinator up again, and an
 * admin client has none: the process dies (SIGSEGV, or the assertion `eonce->refcnt > 0` in
 * rd_kafka_enq_once_del_source_return). A consumer has that handle and just retries.
 */
export class CommittedOffsets implements Positions {
  private consumer: RdConsumer | null = null;

  constructor(private readonly brokers: string, readonly groupId: string, private readonly security?: KafkaSecurityConfig) {}

  async read(topicPartitions: ReadonlyArray<{ topic: string; partition: number }>, timeoutMs = 5000): Promise<Map<string, bigint | null>> {
    if (!this.consumer) {
      const { RdKafka } = await import('@confluentinc/kafka-javascript');
      const consumer = new RdKafka.KafkaConsumer({ 'group.id': this.groupId, 'metadata.broker.list': this.brokers, 'enable.auto.commit': false, ...kafkaSecurityProperties(this.security) }, {});
      await new Promise<void>((resolve, reject) => consumer.connect({ timeout: timeoutMs }, (err) => (err ? reject(err) : resolve())));
      this.consumer = consumer;
    }
    const consumer = this.consumer;
    const tps = await new Promise<Array<{ topic: string; partition: number; offset?: number }>>((resolve, reject) =>
      consumer.committed(topicPartitions.map((tp) => ({ ...tp })), timeoutMs, (err, out) => (err ? reject(err) : resolve(out as Array<{ topic: string; partition: number; offset?: number }>))));
    // librdkafka reports "no committed offset" as a negative offset (OFFSET_INVALID).
    return new Map(tps.map((tp) => [`${tp.topic}/${tp.partition}`, typeof tp.offset === 'number' && tp.offset >= 0 ? BigInt(tp.offset) : null]));
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    if (consumer) await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** A group's committed offsets through the admin API: fine while the cluster is steady (most tests); see CommittedOffsets. */
export function groupOffsets(admin: Admin, groupId: string): Positions {
  return {
    async read(topicPartitions) {
      const out = new Map<string, bigint | null>();
      const topics = [...new Set(topicPartitions.map((tp) => tp.topic))];
      for (const c of await admin.fetchOffsets({ groupId, topics })) {
        for (const p of c.partitions) out.set(`${c.topic}/${p.partition}`, Number(p.offset) < 0 ? null : BigInt(p.offset));
      }
      return out;
    },
  };
}

/** The consumer's lag on `topics`: per partition, the end (`ends`, default the high watermarks) minus where it resumes. */
export async function consumerLag(admin: Admin, topics: readonly string[], positions: Positions, ends: Ends = highWatermarks): Promise<Lag> {
  const byTopic = new Map<string, Awaited<ReturnType<Ends>>>();
  for (const topic of topics) byTopic.set(topic, await ends(admin, topic));
  const at = await positions.read([...byTopic].flatMap(([topic, ps]) => ps.map((p) => ({ topic, partition: p.partition }))));
  const partitions: PartitionLag[] = [];
  for (const [topic, list] of byTopic) {
    for (const e of list) {
      const committed = at.get(`${topic}/${e.partition}`) ?? e.low;
      partitions.push({ topic, partition: e.partition, committed, end: e.end, lag: e.end > committed ? e.end - committed : 0n });
    }
  }
  return { total: partitions.reduce((s, p) => s + p.lag, 0n), partitions };
}

/**
 * A Kafka consumer group's lag: its committed offsets against the high watermarks. `committed`: read them with
 * a CommittedOffsets reader (safe while brokers restart) instead of the admin API.
 */
export async function groupLag(admin: Admin, groupId: string, topics: readonly string[], committed?: CommittedOffsets): Promise<Lag> {
  return consumerLag(admin, topics, committed ?? groupOffsets(admin, groupId));
}

/**
 * Reads `lagNow` every `pollMs` (first at once) until it is 0 or `timeoutMs` has passed (default: no limit);
 * `onPoll` sees every reading. Resolves with the last reading: 0 when caught up.
 */
export async function untilCaughtUp(lagNow: () => Promise<bigint>, opts: { timeoutMs?: number; pollMs?: number; onPoll?: (lag: bigint) => void } = {}): Promise<bigint> {
  const deadline = Date.now() + (opts.timeoutMs ?? Number.POSITIVE_INFINITY);
  for (;;) {
    const lag = await lagNow();
    opts.onPoll?.(lag);
    if (lag === 0n || Date.now() >= deadline) return lag;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
  }
}

/** Polls until the group has consumed everything in `topics` (lag 0): true, or false once `timeoutMs` has passed. */
export async function waitDrained(admin: Admin, groupId: string, topics: readonly string[], timeoutMs: number, committed?: CommittedOffsets): Promise<boolean> {
  return (await untilCaughtUp(async () => (await groupLag(admin, groupId, topics, committed)).total, { timeoutMs })) === 0n;
}
