/** The processors and the edge as the benchmarks start them: entry points and the env for the run's topics and group `rtb-<name>`. */
import { randomBytes } from 'node:crypto';
import { TOPICS } from '../../schemas/topics.js';
import type { ServiceSpec } from './services.js';

export type Delivery = 'exactly-once' | 'at-least-once';

export type Stage = 'passthrough' | 'enrich' | 'bid' | 'auction';

export const stageEntry = (stage: Stage): string => `processors/${stage}/main.ts`;

export const groupOf = (name: string): string => `rtb-${name}`;

/** `name`: unique per run (group and transactional id); pass-through only: `schema` and `delivery` (its stage's). */
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
    entry: stageEntry(stage), portVar: 'PROCESSOR_HTTP_PORT', cpu: o.cpu,
    env: stageEnv(stage, { name: `${prefix}-${stage}`, input, output, partitions: o.partitions, concurrency: o.concurrency }),
  });
  return { enrich: spec('enrich', t.req, t.enr), bid: spec('bid', t.enr, t.bids), auction: spec('auction', t.bids, t.out) };
}

/** The edge, one worker on loopback, with a throw-away tracking secret (it refuses to start without one). */
export function edgeSpec(o: {
  mode: 'sync' | 'async'; topic: string; outcomes: string; nodeId: string; partitions: number; cpu?: number; env?: Record<string, string>;
}): ServiceSpec {
  const env = {
    INGEST_HOST: '127.0.0.1', INGEST_WORKERS: '1', INGEST_OPENRTB_MODE: o.mode, INGEST_TOPIC: o.topic, INGEST_OUTCOMES_TOPIC: o.outcomes, INGEST_NODE_ID: o.nodeId,
    TOPIC_PARTITIONS: String(o.partitions), INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'), ...o.env,
  };
  return { entry: 'ingest/main.ts', portVar: 'INGEST_PORT', cpu: o.cpu, env };
}

export function catalogueSize(output: string): number | null {
  const m = /"campaigns":(\d+)[^\n]*campaign catalogue loaded/.exec(output);
  return m ? Number(m[1]) : null;
}

export function stageDelivery(output: string): Delivery | null {
  const m = /"delivery":"(exactly-once|at-least-once)"[^\n]*processor started/.exec(output);
  return m ? (m[1] as Delivery) : null;
}
