/**
 * The settle processor: consumes tracking events and loss notices and keeps Redis's money and delivery
 * counters in step with what the exchanges report. It writes no records (outputs: []): the runner
 * commits its offsets.
 *   - WIN and BILLING: the reservation is settled at the notice's cost (base micros), adjusted from the
 *     reserved cost; spend is final at billing; a notice whose reservation was already released or has
 *     expired is charged (settle-scripts.ts says exactly how).
 *   - loss notices (topic loss-notices): the reservation is released at once instead of after
 *     SETTLE_RELEASE_AFTER_MS.
 *   - IMPRESSION and CLICK: counted once per event id into the campaign's performance counters, which
 *     the bidder's performance multiplier reads.
 *   - test traffic (event.test): none of the above; nothing reserved is touched, nothing counted.
 * Every effect is idempotent per reservation or event id, so a batch re-read after a failure changes
 * nothing twice. A Redis failure fails the batch (retryable); a WIN/BILLING whose cost is not a
 * non-negative integer is dead-lettered.
 */
import type { InRecord, Processor } from '../runtime/processor.js';
import { PipelineError } from '../../schemas/errors.js';
import type { LossNotice, TrackingEvent } from '../../schemas/tracking-event.js';
import type { LossResult, PerfResult } from './reservations.js';
import type { PerfRef, ReservationRef, SettleRef, SettleResult } from './settle-scripts.js';

export interface SettleProcessorDeps {
  readonly name?: string;
  /** The tracking events topic (SETTLE_INPUT). */
  readonly input: string;
  /** The loss notices topic (SETTLE_LOSS_INPUT). */
  readonly lossInput: string;
  /** Settles reservations in order, one result each; the Redis implementation is PendingReservations.settle. */
  readonly settle: (refs: readonly SettleRef[]) => Promise<SettleResult[]>;
  /** PendingReservations.releaseLost. */
  readonly releaseLost: (refs: readonly ReservationRef[]) => Promise<LossResult[]>;
  /** PendingReservations.countPerf. */
  readonly countPerf: (refs: readonly PerfRef[]) => Promise<PerfResult[]>;
  /** Called once per WIN/BILLING notice with its result (domain metrics); 'test' for test traffic, left alone. */
  readonly onResult?: (result: SettleResult | 'test', event: TrackingEvent) => void;
  readonly onLoss?: (result: LossResult | 'test', notice: LossNotice) => void;
  readonly onPerf?: (result: PerfResult | 'test', event: TrackingEvent) => void;
  readonly init?: () => Promise<void>;
  readonly close?: () => Promise<void>;
}

type Input = TrackingEvent | LossNotice;
/** The records of a batch refused as invalid, dead-lettered by process(). */
type Invalid = ReadonlyMap<InRecord<Input>, string>;

const SETTLES: ReadonlySet<TrackingEvent['type']> = new Set(['WIN', 'BILLING']);
const validCost = (c: number): boolean => Number.isSafeInteger(c) && c >= 0;

export function settleProcessor(deps: SettleProcessorDeps): Processor<Input, Invalid> {
  return {
    name: deps.name ?? 'settle',
    input: [deps.input, deps.lossInput],
    outputs: [],
    ...(deps.init ? { init: deps.init } : {}),
    ...(deps.close ? { close: deps.close } : {}),
    // The whole batch in a few pipelined Redis round trips, in this order; process() then only dead-letters.
    async prepare(records: readonly InRecord<Input>[]): Promise<Invalid> {
      const invalid = new Map<InRecord<Input>, string>();
      const settles: TrackingEvent[] = [];
      const perf: Array<TrackingEvent & { type: PerfRef['type'] }> = [];
      const losses: LossNotice[] = [];
      for (const r of records) {
        if (r.topic === deps.lossInput) {
          const n = r.value as LossNotice;
          if (n.test) deps.onLoss?.('test', n);
          else losses.push(n);
          continue;
        }
        const e = r.value as TrackingEvent;
        if (SETTLES.has(e.type)) {
          if (e.test) deps.onResult?.('test', e);
          else if (!validCost(e.costMicros)) invalid.set(r, `${e.type} notice with cost ${e.costMicros}: not a non-negative integer of micros`);
          else settles.push(e);
        } else if (e.type === 'IMPRESSION' || e.type === 'CLICK') {
          if (e.test) deps.onPerf?.('test', e);
          else perf.push(e as TrackingEvent & { type: PerfRef['type'] });
        }
      }
      const settled = await deps.settle(settles.map((e) => ({
        campaignId: e.campaignId, requestId: e.requestId, impId: e.impId, dayKey: e.dayKey, kind: e.type as SettleRef['kind'], costMicros: e.costMicros,
      })));
      settled.forEach((result, i) => deps.onResult?.(result, settles[i]!));
      const released = await deps.releaseLost(losses.map((n) => ({ campaignId: n.campaignId, requestId: n.requestId, impId: n.impId })));
      released.forEach((result, i) => deps.onLoss?.(result, losses[i]!));
      const counted = await deps.countPerf(perf.map((e) => ({ campaignId: e.campaignId, eventId: e.eventId, type: e.type })));
      counted.forEach((result, i) => deps.onPerf?.(result, perf[i]!));
      return invalid;
    },
    process: (record, invalid) => {
      const reason = invalid.get(record);
      if (reason !== undefined) throw new PipelineError('INVALID_RECORD', reason);
      return [];
    },
  };
}
