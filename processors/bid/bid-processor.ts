/**
 * The bid processor: for each (enriched) bid request, every eligible campaign's bid, in one BidSet
 * record keyed by request id. Campaigns come from an in-memory index that follows the campaigns
 * topic; counters come from one Redis round trip per batch (bid-state.ts).
 */
import type { Counter } from 'prom-client';
import type { Processor, InRecord, OutRecord } from '../runtime/processor.js';
import type { BidRequest } from '../../schemas/bid-request.js';
import type { BidRecord, BidSet } from '../../schemas/bid-set.js';
import type { Campaign } from '../campaigns/types.js';
import type { CampaignIndex } from './campaign-index.js';
import { decideBids } from './decide.js';
import { localDay } from './schedule.js';
import { requestAttributes } from './targeting.js';
import { toProfile, toRequestView, userIdOf } from './request-view.js';
import { EMPTY_STATE, type StateQuery } from './bid-state.js';
import type { BidState } from './types.js';

export interface BidProcessorDeps {
  readonly name?: string;
  readonly input: string;
  readonly output: string;
  readonly index: CampaignIndex;
  /** Reads counters for a batch; may throw (Redis down): the batch then decides with empty counters. */
  readonly readState: (queries: readonly StateQuery[], nowMs: number) => Promise<BidState[]>;
  /** Resolves when the campaign catalogue has been loaded. */
  readonly catalogueReady?: () => Promise<void>;
  readonly now?: () => number;
  readonly rand?: () => number;
  readonly metrics?: { stateUnavailable: Counter; decisions: Counter<'result'> };
}

type Ctx = Map<InRecord<BidRequest>, BidState>;

/** The campaigns whose targeting matches any imp of the request: the only ones whose counters matter. */
function candidates(index: CampaignIndex, r: BidRequest): Campaign[] {
  const view = toRequestView(r);
  const profile = toProfile(r);
  const seen = new Map<string, Campaign>();
  for (const imp of view.imps) for (const { campaign } of index.candidates(requestAttributes(view, imp, profile))) seen.set(campaign.id, campaign);
  return [...seen.values()];
}

export function bidProcessor(deps: BidProcessorDeps): Processor<BidRequest, Ctx> {
  const now = deps.now ?? Date.now;
  const rand = deps.rand ?? Math.random;
  return {
    name: deps.name ?? 'bid',
    input: deps.input,
    outputs: [deps.output],
    init: deps.catalogueReady,
    async prepare(records) {
      const queries = records.map((rec) => ({ userId: userIdOf(rec.value), campaigns: candidates(deps.index, rec.value) }));
      let states: BidState[];
      try {
        states = await deps.readState(queries, now());
      } catch {
        deps.metrics?.stateUnavailable.inc(records.length);
        states = records.map(() => EMPTY_STATE);
      }
      return new Map(records.map((rec, i) => [rec, states[i] ?? EMPTY_STATE]));
    },
    process(record, ctx): OutRecord[] {
      const r = record.value;
      const nowMs = now();
      const decision = decideBids(toRequestView(r), toProfile(r), deps.index, ctx.get(record) ?? EMPTY_STATE, nowMs, rand);
      deps.metrics?.decisions.inc({ result: decision.bids.length > 0 ? 'bid' : (decision.noBidReason ?? 'no_bid') });
      const out: BidSet = {
        requestId: r.id,
        userId: userIdOf(r),
        at: r.at,
        tmax: r.tmax,
        test: r.test,
        receivedAtMs: r.receivedAtMs,
        decidedAtMs: nowMs,
        imps: r.imp.map((imp) => ({ impId: imp.id, floorMicros: imp.bidfloorMicros })),
        bids: decision.bids.map((b): BidRecord => {
          const c = deps.index.get(b.campaignId)!.campaign;
          const creative = c.creatives.find((cr) => cr.id === b.creativeId);
          const day = localDay(c.timezone, nowMs);
          // Every field written out: `{ ...b, more }` took ~11 us per bid (V8 adds properties to a
          // spread copy on a slow path; measured with 300 seeded campaigns), this takes ~0.2.
          return {
            impId: b.impId, campaignId: b.campaignId, advertiserId: b.advertiserId, creativeId: b.creativeId, priceMicros: b.priceMicros,
            adomain: [...b.adomain], w: b.w, h: b.h, dailyBudgetMicros: c.dailyBudgetMicros, lifetimeBudgetMicros: c.lifetimeBudgetMicros,
            frequencyCap: c.frequencyCap?.count ?? 0, dayKey: day.dayKey, dayEndsAtMs: day.nextMidnightMs,
            title: creative?.title ?? '', imageUrl: creative?.imageUrl ?? '', landingUrl: creative?.landingUrl ?? '',
          };
        }),
        noBidReason: decision.noBidReason,
      };
      return [{ topic: deps.output, key: r.id, value: out }];
    },
  };
}
