/**
 * The processors as the benchmarks start them: entry point and the environment that points one instance
 * at the run's own topics and consumer group (group `rtb-<name>`, see processors/runtime/runner.ts).
 */
import { TOPICS } from '../../schemas/topics.js';

/** How a runner writes and commits (processors/runtime/processor.ts `Delivery`); logged by the service at start. */
export type Delivery = 'exactly-once' | 'at-least-once';

export const STAGES = ['passthrough', 'enrich', 'bid', 'auction'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageSettings {
  /** Processor name: a-z, 0-9 and '-', unique per run (it names the consumer group and transactional id). */
  name: string;
  input: string;
  output: string;
  partitions: number;
  /** PROCESSOR_MAX_BATCH; the runner's default (500) when undefined. */
  maxBatch?: number;
  /** PROCESSOR_CONCURRENCY (partition batches at once, sharing a transaction); the runner's default when undefined. */
  concurrency?: number;
  /** Pass-through only: the schema file of its input and output. */
  schema?: string;
  /** Pass-through only: its delivery (PASSTHROUGH_DELIVERY), to match the stage it is the baseline of; its default when undefined. */
  delivery?: Delivery;
  /** Bid only: the compacted topic of campaigns to load (default: the pipeline's `campaigns`). */
  campaignsTopic?: string;
  logLevel?: string;
}

export const STAGE_ENTRY: Readonly<Record<Stage, string>> = {
  passthrough: 'processors/passthrough/main.ts',
  enrich: 'processors/enrich/main.ts',
  bid: 'processors/bid/main.ts',
  auction: 'processors/auction/main.ts',
};

/** The consumer group the runner uses for a processor name. */
export const groupOf = (name: string): string => `rtb-${name}`;

export function stageEnv(stage: Stage, s: StageSettings): Record<string, string> {
  const prefix = stage.toUpperCase();
  const env: Record<string, string> = {
    TOPIC_PARTITIONS: String(s.partitions),
    PROCESSOR_INSTANCE_ID: 'bench',
    PROCESSOR_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: s.logLevel ?? 'warn',
    [`${prefix}_NAME`]: s.name,
    [`${prefix}_INPUT`]: s.input,
    [`${prefix}_OUTPUT`]: s.output,
  };
  if (s.maxBatch !== undefined) env.PROCESSOR_MAX_BATCH = String(s.maxBatch);
  if (s.concurrency !== undefined) env.PROCESSOR_CONCURRENCY = String(s.concurrency);
  if (stage === 'passthrough') env.PASSTHROUGH_SCHEMA = s.schema ?? 'bid-request.avsc';
  if (stage === 'passthrough' && s.delivery) env.PASSTHROUGH_DELIVERY = s.delivery;
  if (stage === 'bid') env.BID_CAMPAIGNS_TOPIC = s.campaignsTopic ?? TOPICS.campaigns;
  return env;
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
