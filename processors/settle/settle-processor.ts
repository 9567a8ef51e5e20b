/**
 * The settle processor: consumes tracking events and settles the auction's pending budget reservation
 * for each WIN or BILLING notice (the impression was bought, so its spend stays). Other notice types
 * need nothing. It writes no records (outputs: []): the runner commits its offsets. Settling is
 * idempotent, so a batch re-read after a failure settles nothing twice (repeats count as duplicate).
 * A Redis failure fails the batch (retryable).
 */
import type { InRecord, Processor } from '../runtime/processor.js';
import type { TrackingEvent } from '../../schemas/tracking-event.js';
import type { ReservationRef, SettleResult } from './settle-scripts.js';

/** Settles reservations in order, one result each; the Redis implementation is PendingReservations.settle. */
export type Settle = (refs: readonly ReservationRef[]) => Promise<SettleResult[]>;

export interface SettleProcessorDeps {
  readonly name?: string;
  readonly input: string;
  readonly settle: Settle;
  /** Called once per settled notice with its result (domain metrics). */
  readonly onResult?: (result: SettleResult, event: TrackingEvent) => void;
  readonly init?: () => Promise<void>;
  readonly close?: () => Promise<void>;
}

const SETTLES: ReadonlySet<TrackingEvent['type']> = new Set(['WIN', 'BILLING']);

export function settleProcessor(deps: SettleProcessorDeps): Processor<TrackingEvent> {
  return {
    name: deps.name ?? 'settle',
    input: deps.input,
    outputs: [],
    ...(deps.init ? { init: deps.init } : {}),
    ...(deps.close ? { close: deps.close } : {}),
    // The whole batch in one pipelined Redis round trip; process() then has nothing left to do.
    async prepare(records: readonly InRecord<TrackingEvent>[]): Promise<void> {
      const events = records.map((r) => r.value).filter((e) => SETTLES.has(e.type));
      const results = await deps.settle(events.map((e) => ({ campaignId: e.campaignId, requestId: e.requestId, impId: e.impId })));
      results.forEach((result, i) => deps.onResult?.(result, events[i]!));
    },
    process: () => [],
  };
}
