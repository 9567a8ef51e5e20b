/**
 * Follows the auction-outcomes topic for the synchronous OpenRTB mode. Every edge process reads every
 * partition (a consumer group of its own, starting at the end, read_committed), because an outcome is
 * keyed by request id, not by the edge that is waiting for it; outcomes for other edges' requests are
 * skipped after a map lookup. (At very large scale one would route replies per edge node instead.)
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from '../processors/runtime/kafka.js';
import type { Logger } from '../processors/runtime/logger.js';
import type { AvroCodec } from '../schemas/codec.js';
import { subjectFor } from '../schemas/topics.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import type { OutcomeWaiter } from './outcome-waiter.js';
import { traceLogFields } from '../processors/runtime/trace-context.js';

export class OutcomeListener {
  private consumer: Consumer | null = null;
  assigned = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly codec: AvroCodec,
    private readonly topic: string,
    private readonly waiter: OutcomeWaiter,
    private readonly log: Logger,
    private readonly nodeId: string,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      'group.id': `rtb-edge-${this.nodeId}-${randomUUID()}`,
      'enable.auto.commit': false,
      'auto.offset.reset': 'latest',
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': 5,
      'js.consumer.max.batch.size': 1000,
      rebalance_cb: (err: { code: number }) => {
        // -175 is ERR__ASSIGN_PARTITIONS: the listener only counts as ready once it owns the partitions.
        this.assigned = err.code === -175;
      },
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic] });
    const subject = subjectFor(this.topic);
    void this.consumer.run({
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

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
