/**
 * The processors and the edge as the benchmarks start them: entry point and the environment that points one instance
 * at the run's own topics and consumer group (group `rtb-<name>`, see processors/runtime/runner.ts).
 */
import { randomBytes } from 'node:crypto';
import { TOPICS } from '../../schemas/topics.js';
import type { ServiceSpec } from './services.js';

/** How a runner writes and commits (processors/runtime/processor.ts `Delivery`); logged by the service at start. */
export type Delivery = 'exactly-once' | 'at-least-once';

export type Stage = 'passthrough' | 'enrich' | 'bid' | 'auction';

export const STAGE_ENTRY: Readonly<Record<Stage, string>> = {
  passthrough: 'processors/passthrough/main.ts',
  enrich: 'processors/enrich/main.ts',
  bid: 'processors/bid/main.ts',
  auction: 'processors/auction/main.ts',
};

/** The consumer group the runner uses for a processor name. */
export const groupOf = (name: string): string => `rtb-${name}`;

/**
 * `name`: unique per run (it names the consumer group and transactional id); `maxBatch`, `concurrency`: PROCESSOR_MAX_BATCH and
 * PROCESSOR_CONCURRENCY, the runner's defaults when undefined; pass-through only: the `schema` file of its input and output, and
 * its `delivery` (to match the stage it is the baseline of); bid only: the compacted `campaignsTopic` (default `campaigns`).
 */
export function stageEnv(stage: Stage, s: {
  name: string; input: string; output: string; partitions: number; maxBatch?: number; concurrency?: number; schema?: string; delivery?: Delivery;
  campaignsTopic?: string; logLevel?: string;
}): Record<string, string> {
  const prefix = stage.toUpperCase();
  return {
    TOPIC_PARTITIONS: String(s.partitions), PROCESSOR_INSTANCE_ID: 'bench', PROCESSOR_HTTP_HOST: '127.0.0.1', LOG_LEVEL: s.logLevel ?? 'warn',
    [`${prefix}_NAME`]: s.name, [`${prefix}_INPUT`]: s.input, [`${prefix}_OUTPUT`]: s.output,
    ...(s.maxBatch !== undefined ? { PROCESSOR_MAX_BATCH: String(s.maxBatch) } : {}),
    ...(s.concurrency !== undefined ? { PROCESSOR_CONCURRENCY: String(s.concurrency) } : {}),
    ...(stage === 'passthrough' ? { PASSTHROUGH_SCHEMA: s.schema ?? 'bid-request.avsc', ...(s.delivery ? { PASSTHROUGH_DELIVERY: s.delivery } : {}) } : {}),
    ...(stage === 'bid' ? { BID_CAMPAIGNS_TOPIC: s.campaignsTopic ?? TOPICS.campaigns } : {}),
  };
}

/** The run's topics of the decision pipeline, `<prefix>-{req,enr,bids,out}`, and `extra` ones (key: `<prefix>-<suffix>`). */
export function pipelineTopics<K extends string>(prefix: string, extra: Record<K, string>): Record<'req' | 'enr' | 'bids' | 'out' | K, string> {
  const suffixes = { req: 'req', enr: 'enr', bids: 'bids', out: 'out', ...extra } as Record<string, string>;
  return Object.fromEntries(Object.entries(suffixes).map(([k, v]) => [k, `${prefix}-${v}`])) as Record<'req' | 'enr' | 'bids' | 'out' | K, string>;
}

/** Enrich, bid (following the `campaigns` topic) and auction over topics req -> enr -> bids -> out, as processors `<prefix>-<stage>`. */
export function decisionStages(prefix: string, t: Record<'req' | 'enr' | 'bids' | 'out', string>, o: { partitions: number; concurrency?: number; cpu?: number }) {
  const spec = (stage: 'enrich' | 'bid' | 'auction', input: string, output: string): ServiceSpec => ({
    entry: STAGE_ENTRY[stage], portVar: 'PROCESSOR_HTTP_PORT', cpu: o.cpu,
    env: stageEnv(stage, { name: `${prefix}-${stage}`, input, output, partitions: o.partitions, concurrency: o.concurrency }),
  });
  return { enrich: spec('enrich', t.req, t.enr), bid: spec('bid', t.enr, t.bids), auction: spec('auction', t.bids, t.out) };
}

/** The ingest edge, one worker on loopback, with a throw-away tracking secret (it refuses to start without one of its own). */
export function edgeSpec(o: {
  mode: 'sync' | 'async'; topic: string; outcomes: string; nodeId: string; partitions: number; cpu?: number; env?: Record<string, string>;
}): ServiceSpec {
  const env = {
    INGEST_HOST: '127.0.0.1', INGEST_WORKERS: '1', INGEST_OPENRTB_MODE: o.mode, INGEST_TOPIC: o.topic, INGEST_OUTCOMES_TOPIC: o.outcomes, INGEST_NODE_ID: o.nodeId,
    TOPIC_PARTITIONS: String(o.partitions), INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'), ...o.env,
  };
  return { entry: 'ingest/main.ts', portVar: 'INGEST_PORT', cpu: o.cpu, env };
}

/** The size of the catalogue the bid service logged when it had loaded it ("campaign catalogue loaded"). */
export function catalogueSize(output: string): number | null {
  const m = /"campaigns":(\d+)[^\n]*campaign catalogue loaded/.exec(output);
  return m ? Number(m[1]) : null;
}

/** The delivery the service logged when it started ("processor started", at LOG_LEVEL info); null when not found. */
export function stageDelivery(output: string): Delivery | null {
  const m = /"delivery":"(exactly-once|at-least-once)"[^\n]*processor started/.exec(output);
  return m ? (m[1] as Delivery) : null;
}
