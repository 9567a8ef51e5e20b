/** A consumer group's lag: end offsets minus committed offsets, per partition. For replay progress, benches and tests. */
import { kafkaSecurityProperties, type Admin, type KafkaSecurityConfig } from './kafka.js';

export interface PartitionLag {
  topic: string;
  partition: number;
  committed: bigint;
  end: bigint;
  lag: bigint;
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
export class CommittedOffsets {
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

/**
 * `committed`: read the group's offsets with a CommittedOffsets reader (safe while brokers restart)
 * instead of the admin API (fine while the cluster is steady, as in most tests).
 */
export async function groupLag(admin: Admin, groupId: string, topics: readonly string[], committed?: CommittedOffsets): Promise<{ total: bigint; partitions: PartitionLag[] }> {
  const partitions: PartitionLag[] = [];
  const ends = new Map<string, Array<{ partition: number; low: string; high: string }>>();
  for (const topic of topics) ends.set(topic, await admin.fetchTopicOffsets(topic));
  const at = new Map<string, bigint | null>();
  if (committed) {
    for (const [k, v] of await committed.read([...ends].flatMap(([topic, ps]) => ps.map((p) => ({ topic, partition: p.partition }))))) at.set(k, v);
  } else {
    for (const c of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
      for (const p of c.partitions) at.set(`${c.topic}/${p.partition}`, Number(p.offset) < 0 ? null : BigInt(p.offset));
    }
  }
  for (const [topic, list] of ends) {
    for (const e of list) {
      // No commit yet: the group would start at the beginning (auto.offset.reset=earliest).
      const c = at.get(`${topic}/${e.partition}`) ?? BigInt(e.low);
      const end = BigInt(e.high);
      partitions.push({ topic, partition: e.partition, committed: c, end, lag: end > c ? end - c : 0n });
    }
  }
  return { total: partitions.reduce((s, p) => s + p.lag, 0n), partitions };
}

/** Polls until the group has consumed everything in `topics` (lag 0) or the timeout passes. */
export async function waitDrained(admin: Admin, groupId: string, topics: readonly string[], timeoutMs: number, committed?: CommittedOffsets): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await groupLag(admin, groupId, topics, committed)).total === 0n) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}
