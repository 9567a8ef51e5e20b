/**
 * Follows the auction-outcomes topic for the synchronous OpenRTB mode. Every edge process reads every
 * partition (a consumer group of its own, starting at the end, read_committed), because an outcome is
 * keyed by request id, not by the edge that is waiting for it; outcomes for other edges' requests are
 * skipped after a map lookup. (At very large scale one would route replies per edge node instead.)
 *
 * A consumer that loses its partitions (its group session expired while the broker was down) was seen
 * never to get them back: no outcome reached the edge again, every synchronous request was answered 204
 * at its deadline and /ready stayed 503, while the process lived on (deploy/chaos.int.test.ts, a broker
 * kill). So after `rejoinTimeoutMs` without partitions the consumer is replaced by a new one (a new
 * group, starting at the end, as at start-up), and again while that does not get them either.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from '../processors/runtime/kafka.js';
import type { Logger } from '../processors/runtime/logger.js';
import type { AvroCodec } from '../schemas/codec.js';
import { subjectFor } from '../schemas/topics.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import type { OutcomeWaiter } from './outcome-waiter.js';
import { traceLogFields } from '../processors/runtime/trace-context.js';
import { topicEnds } from '../processors/runtime/end-offsets.js';

/** Longest wait on a consumer's connect or disconnect while replacing it (one that hangs must not stop the next try). */
const STEP_TIMEOUT_MS = 10_000;
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms).unref())]);

export class OutcomeListener {
  private consumer: Consumer | null = null;
  assigned = false;
  /** Which consumer is current: a replaced one's late rebalance events are ignored. */
  private generation = 0;
  private unassignedSince = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  private replacing = false;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: AvroCodec,
    private readonly topic: string,
    private readonly waiter: OutcomeWaiter,
    private readonly log: Logger,
    private readonly nodeId: string,
    private readonly rejoinTimeoutMs = 30_000,
  ) {}

  async start(): Promise<void> {
    await this.open();
    this.watchdog = setInterval(() => void this.check(), Math.min(1000, this.rejoinTimeoutMs));
    this.watchdog.unref();
  }

  private async open(): Promise<void> {
    const generation = ++this.generation;
    this.assigned = false;
    this.unassignedSince = Date.now();
    const consumer = this.kafka.consumer({
      'group.id': `rtb-edge-${this.nodeId}-${randomUUID()}`,
      'enable.auto.commit': false,
      'auto.offset.reset': 'latest',
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': 5,
      'js.consumer.max.batch.size': 1000,
      rebalance_cb: async (err: { code: number }, assignment: Array<{ topic: string; partition: number }>) => {
        if (generation !== this.generation) return undefined;
        // -175 is ERR__ASSIGN_PARTITIONS: the listener only counts as ready once it owns the partitions.
        if (err.code !== -175) {
          this.assigned = false;
          this.unassignedSince = Date.now();
          return undefined;
        }
        // Each partition starts at the end it has NOW, read before the assignment takes effect, not at
        // auto.offset.reset=latest: that end is looked up only after the assignment, when /ready already
        // answers 200, and an outcome written in between was skipped; its request was answered 204 at its
        // deadline (twice in CI: the first synchronous request after start-up, tmax 20 s).
        const start = await this.endsNow(assignment);
        this.assigned = true;
        return start;
      },
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic] });
    const subject = subjectFor(this.topic);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.value) continue;
          try {
            const outcome = await this.codec.decode<AuctionOutcome>(m.value, subject);
            // A late outcome (its request was answered no-bid at the deadline) is a slow request worth following, at debug.
            if (this.waiter.deliver(outcome) === 'late' && this.log.isLevelEnabled('debug')) {
              this.log.debug({ ...traceLogFields(m.headers), bidRequestId: outcome.requestId, offset: m.offset }, 'outcome arrived after the deadline (answered no-bid)');
            }
          } catch (err) {
            this.log.error({ err, topic: batch.topic, partition: batch.partition, offset: m.offset, ...traceLogFields(m.headers) }, 'undecodable auction outcome skipped');
          }
        }
      },
    });
  }

  /** `assignment` with each partition's current committed end as its offset; null (start at latest) if the broker cannot say. */
  private async endsNow(assignment: Array<{ topic: string; partition: number }>): Promise<Array<{ topic: string; partition: number; offset: number }> | null> {
    const admin = this.kafka.admin();
    try {
      await within(admin.connect(), STEP_TIMEOUT_MS, 'admin connect');
      const ends = new Map((await within(topicEnds(admin, this.topic, { readCommitted: true }), STEP_TIMEOUT_MS, 'end offsets')).map((p) => [p.partition, p.high]));
      if (!assignment.every((tp) => tp.topic === this.topic && ends.has(tp.partition))) return null;
      return assignment.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: Number(ends.get(tp.partition)!) }));
    } catch (err) {
      this.log.warn({ err, topic: this.topic }, 'outcome listener could not read the end offsets: starting at the latest offset');
      return null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Replaces the consumer once it has been without partitions for `rejoinTimeoutMs`. */
  private async check(): Promise<void> {
    if (this.stopped || this.replacing || this.assigned || Date.now() - this.unassignedSince < this.rejoinTimeoutMs) return;
    this.replacing = true;
    this.log.warn({ topic: this.topic, unassignedMs: Date.now() - this.unassignedSince }, 'outcome listener has had no partitions for too long: replacing its consumer');
    const old = this.consumer;
    this.consumer = null;
    this.generation++;
    await within(old?.disconnect() ?? Promise.resolve(), STEP_TIMEOUT_MS, 'disconnect').catch(() => undefined);
    try {
      if (!this.stopped) await within(this.open(), STEP_TIMEOUT_MS, 'connect');
    } catch (err) {
      this.log.error({ err }, 'replacing the outcome listener\'s consumer failed: trying again later');
      const failed = this.consumer as Consumer | null;
      this.consumer = null;
      this.generation++;
      this.unassignedSince = Date.now();
      await within(failed?.disconnect() ?? Promise.resolve(), STEP_TIMEOUT_MS, 'disconnect').catch(() => undefined);
    } finally {
      this.replacing = false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
