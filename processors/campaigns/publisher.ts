/**
 * Publishes campaigns to the compacted `campaigns` topic, keyed by campaign id, Avro (rtb.v1.Campaign)
 * in the Confluent wire format. The producer is idempotent with acks=all, so a resolved publish is on
 * every in-sync replica and retries inside librdkafka cannot duplicate or reorder a key's records.
 *
 * Postgres commits first, then the API publishes. A crash (or a Kafka outage) between the two would lose
 * the change on the topic, so `republishAll` re-sends every campaign from Postgres at start-up and every
 * CAMPAIGNS_REPUBLISH_MS. Consumers keep the newest `updatedAtMs` per id, so re-sends are harmless.
 * A row the schema cannot carry (written around the API's validation) is skipped and reported, never
 * allowed to stop the re-send of the others or the service's start-up.
 */
import type { Admin, Kafka, Producer } from '../runtime/kafka.js';
import { ensureTopics } from '../runtime/kafka.js';
import { PipelineError, isPipelineError } from '../../schemas/errors.js';
import type { Logger } from '../runtime/logger.js';
import type { AvroCodec } from '../../schemas/codec.js';
import { TOPICS, subjectFor } from '../../schemas/topics.js';
import { campaignToRecord } from '../domain/campaign-record.js';
import type { Campaign } from '../domain/campaign.js';
import type { CampaignStore } from './store.js';

/**
 * Creates the campaigns topic compacted (the latest record per campaign id is kept forever) if missing.
 * An existing topic is left as it is. Bidders call this too, so they can follow the topic before the API first ran.
 */
export function ensureCampaignsTopic(admin: Admin, opts: { numPartitions: number; replicationFactor: number }): Promise<string[]> {
  return ensureTopics(admin, [{ topic: TOPICS.campaigns, ...opts, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }]);
}

/** An idempotent acks=all producer whose deliveries fail after `timeoutMs` rather than hang the API. */
export function createCampaignProducer(kafka: Kafka, timeoutMs: number): Producer {
  return kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 1, 'message.timeout.ms': timeoutMs });
}

/** sent; skipped: a newer version was already sent; failed: Kafka refused; unpublishable: the schema cannot carry it. */
export type PublishResult = 'sent' | 'skipped' | 'failed' | 'unpublishable';
export interface RepublishResult {
  sent: number;
  skipped: number;
  unpublishable: number;
}

/** Logs a campaign the republisher had to skip: an error, naming it and why, for an operator to fix the row. */
export function unpublishableLogger(log: Logger): (campaignId: string, reason: string) => void {
  return (campaign, reason) => log.error({ campaign, reason }, `campaign ${campaign} cannot be published and was skipped: ${reason}; fix its row in Postgres (PUT /campaigns/${campaign})`);
}

export class CampaignPublisher {
  /** updatedAtMs of the newest version handed to the producer per id, so a re-send never overtakes a newer change. */
  private readonly sent = new Map<string, number>();
  private readonly subject = subjectFor(TOPICS.campaigns);

  /** `codec` must have the campaigns-value subject registered; `onResult` feeds a metric. */
  constructor(
    private readonly producer: Producer,
    private readonly codec: AvroCodec,
    private readonly onResult: (result: PublishResult) => void = () => undefined,
  ) {}

  /**
   * Resolves once the broker has acknowledged the record; throws KAFKA_PRODUCE_FAILED otherwise, and
   * ENCODE_FAILED (sending nothing) for a campaign the schema cannot carry.
   * Returns false (sending nothing) when a newer version of the campaign was already sent by this process.
   */
  async publish(c: Campaign): Promise<boolean> {
    if ((this.sent.get(c.id) ?? -Infinity) > c.updatedAtMs) {
      this.onResult('skipped');
      return false;
    }
    const value = this.codec.encode(this.subject, campaignToRecord(c));
    // Recorded before the send, so a republish racing this call sees it; on failure the republisher retries it.
    this.sent.set(c.id, c.updatedAtMs);
    try {
      await this.producer.send({ topic: TOPICS.campaigns, messages: [{ key: c.id, value }] });
      this.onResult('sent');
      return true;
    } catch (err) {
      this.onResult('failed');
      throw new PipelineError('KAFKA_PRODUCE_FAILED', `publishing campaign ${c.id} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Re-sends every campaign in Postgres (idempotent: the topic ends up with the same latest record per id).
   * A campaign that cannot be encoded is skipped, counted (`unpublishable`, and onResult 'unpublishable')
   * and passed to `onUnpublishable` with the reason; the others are still sent. A failed send (Kafka)
   * still fails the whole run, to be retried at the next one.
   */
  async republishAll(
    store: CampaignStore,
    opts: { batchSize?: number; onUnpublishable?: (campaignId: string, reason: string) => void } = {},
  ): Promise<RepublishResult> {
    const result = { sent: 0, skipped: 0, unpublishable: 0 };
    await store.eachCampaignBatch(opts.batchSize ?? 500, async (batch) => {
      // One batch in flight at a time: librdkafka batches the sends, and memory stays bounded.
      const results = await Promise.all(batch.map((c) => this.publish(c).catch((err: unknown) => {
        if (!isPipelineError(err, 'ENCODE_FAILED')) throw err;
        this.onResult('unpublishable');
        opts.onUnpublishable?.(c.id, err.message);
        return 'unpublishable' as const;
      })));
      for (const r of results) r === 'unpublishable' ? result.unpublishable++ : r ? result.sent++ : result.skipped++;
    });
    return result;
  }
}

/**
 * Runs `republishAll` every `intervalMs` (never two at once). Failures are logged and retried at the
 * next tick: the API's own publishes keep working meanwhile.
 */
export function startRepublisher(opts: {
  publisher: CampaignPublisher;
  store: CampaignStore;
  intervalMs: number;
  log: Logger;
  onDone?: (result: RepublishResult | Error, seconds: number) => void;
}): { stop: () => Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = (): void => {
    if (running) return;
    const started = performance.now();
    running = opts.publisher.republishAll(opts.store, { onUnpublishable: unpublishableLogger(opts.log) }).then(
      (r) => {
        opts.log.debug(r, 'republished every campaign');
        opts.onDone?.(r, (performance.now() - started) / 1000);
      },
      (err: unknown) => {
        opts.log.error({ err }, 'republishing campaigns failed: retrying at the next interval');
        opts.onDone?.(err instanceof Error ? err : new Error(String(err)), (performance.now() - started) / 1000);
      },
    ).finally(() => {
      running = null;
    });
  };
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
