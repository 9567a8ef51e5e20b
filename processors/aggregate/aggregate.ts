/**
 * The aggregate processor: maps each auction outcome, tracking notice and loss notice to its tumbling
 * event-time window and key (campaign, creative, deal, test flag, privacy basis, currency: window.ts)
 * and emits, within each consumed batch's transaction, the batch's partial sums to `window-counts`.
 * Stateless across batches: nothing is held between batches, which is what keeps it exactly-once under
 * the runner's transactions (windows are additive; the sink adds). Notices (tracking events and loss
 * notices) are de-duplicated by event id where the id is first seen (dedup.ts), and auction outcomes by
 * request id: the decision hops are at-least-once, so an auction killed between
 * producing an outcome and committing its input emits that outcome again; the copy is counted once.
 * A record older than the lateness horizon when it reached Kafka is counted as late and dropped, so
 * an outcome id needs remembering only a little longer than that horizon (`outcomeDedupTtlMs`).
 */
import type { Counter } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import type { InRecord, OutRecord, Processor } from '../runtime/processor.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import type { LossNotice, TrackingEvent } from '../../schemas/tracking-event.js';
import { WindowSums, isLate } from './window.js';
import type { FirstSeen } from './dedup.js';
import { requestKey } from '../../schemas/request-key.js';

export interface AggregateDeps {
  readonly name?: string;
  readonly outcomesTopic: string;
  readonly trackingTopic: string;
  readonly lossesTopic: string;
  readonly output: string;
  readonly windowMs: number;
  readonly latenessMs: number;
  readonly firstSeen: FirstSeen;
  /** How long an outcome's request id is remembered (>= latenessMs; default 2 x latenessMs). */
  readonly outcomeDedupTtlMs?: number;
  readonly log: Logger;
  readonly metrics?: { late: Counter<'topic'>; duplicates: Counter; duplicateOutcomes?: Counter };
}

type Input = AuctionOutcome | TrackingEvent | LossNotice;
interface Ctx {
  sums: WindowSums;
  duplicates: Set<InRecord<Input>>;
  late: number;
}

const eventTime = (topic: string, outcomesTopic: string, v: Input): number =>
  topic === outcomesTopic ? (v as AuctionOutcome).receivedAtMs : (v as TrackingEvent | LossNotice).occurredAtMs;

/**
 * The de-duplication id of a request's auction outcome (notice event ids never start with `outcome:`):
 * by requestKey(exchange, id), since two exchanges may send the same request id.
 */
export const outcomeEventId = (requestId: string, exchange = ''): string => `outcome:${requestKey(exchange, requestId)}`;

/** The de-duplication id of a loss notice: its event id, kept apart from the tracking events' ids. */
export const lossEventId = (eventId: string): string => `loss:${eventId}`;

export function aggregateProcessor(deps: AggregateDeps): Processor<Input, Ctx> {
  return {
    name: deps.name ?? 'aggregate',
    input: [deps.outcomesTopic, deps.trackingTopic, deps.lossesTopic],
    outputs: [deps.output],
    async prepare(records) {
      const outcomeTtlMs = deps.outcomeDedupTtlMs ?? 2 * Math.max(deps.latenessMs, 60_000);
      const first = await deps.firstSeen(records.map((r) => {
        const position = `${r.topic}/${r.partition}/${r.offset}`;
        if (r.topic === deps.trackingTopic) return { eventId: (r.value as TrackingEvent).eventId, position };
        if (r.topic === deps.lossesTopic) return { eventId: lossEventId((r.value as LossNotice).eventId), position };
        return { eventId: outcomeEventId((r.value as AuctionOutcome).requestId, (r.value as AuctionOutcome).exchange), position, ttlMs: outcomeTtlMs };
      }));
      return { sums: new WindowSums(deps.windowMs), duplicates: new Set(records.filter((_, i) => !first[i])), late: 0 };
    },
    process(record, ctx): OutRecord[] {
      if (ctx.duplicates.has(record)) {
        if (record.topic === deps.outcomesTopic) deps.metrics?.duplicateOutcomes?.inc();
        else deps.metrics?.duplicates.inc();
        return [];
      }
      if (isLate(eventTime(record.topic, deps.outcomesTopic, record.value), record.timestampMs, deps.latenessMs)) {
        ctx.late++;
        deps.metrics?.late.inc({ topic: record.topic });
        return [];
      }
      if (record.topic === deps.outcomesTopic) ctx.sums.addOutcome(record.value as AuctionOutcome);
      else if (record.topic === deps.lossesTopic) ctx.sums.addLoss(record.value as LossNotice);
      else ctx.sums.addTracking(record.value as TrackingEvent);
      return [];
    },
    flush(ctx, batch) {
      if (ctx.late > 0) deps.log.warn({ topic: batch.topic, partition: batch.partition, late: ctx.late, horizonMs: deps.latenessMs }, 'late records dropped');
      return ctx.sums.toRecords(batch).map((value) => ({ topic: deps.output, key: value.campaignId, value }));
    },
  };
}
