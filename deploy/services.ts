/**
 * The project's long-running services: one entry point each. deploy/start.sh runs them locally,
 * docker-compose.yml runs them in containers, and deploy/compose.test.ts keeps the two in step.
 */
import { loadConfig, type Spec } from '../schemas/config.js';
import { ingestSpecs } from '../ingest/config.js';
import { runnerSpecs } from '../processors/runtime/service.js';
import { enrichSpecs } from '../processors/enrich/config.js';
import { bidSpecs } from '../processors/bid/config.js';
import { auctionSpecs } from '../processors/auction/config.js';
import { campaignsSpecs } from '../processors/campaigns/config.js';
import { settleSpecs } from '../processors/settle/config.js';
import { aggregateSpecs } from '../processors/aggregate/config.js';
import { sinkSpecs } from '../sink/config.js';

export interface ProjectService {
  name: string;
  /** Entry module, relative to the repository root. */
  entry: string;
  specs: Record<string, Spec>;
  /** Config key holding the HTTP port (health, readiness, metrics), if its default is the port to use. */
  port?: string;
  /** For processors (whose PROCESSOR_HTTP_PORT defaults to any free port): the port this service gets locally and in compose. */
  httpPort?: number;
}

export const projectServices: readonly ProjectService[] = [
  { name: 'campaigns', entry: 'processors/campaigns/main.ts', specs: campaignsSpecs, port: 'port' },
  { name: 'enrich', entry: 'processors/enrich/main.ts', specs: { ...enrichSpecs, ...runnerSpecs }, httpPort: 9101 },
  { name: 'bid', entry: 'processors/bid/main.ts', specs: { ...bidSpecs, ...runnerSpecs }, httpPort: 9102 },
  { name: 'auction', entry: 'processors/auction/main.ts', specs: { ...auctionSpecs, ...runnerSpecs }, httpPort: 9103 },
  { name: 'settle', entry: 'processors/settle/main.ts', specs: { ...settleSpecs, ...runnerSpecs }, httpPort: 9105 },
  { name: 'aggregate', entry: 'processors/aggregate/main.ts', specs: { ...aggregateSpecs, ...runnerSpecs }, httpPort: 9106 },
  { name: 'sink', entry: 'sink/main.ts', specs: sinkSpecs, port: 'httpPort' },
  { name: 'ingest', entry: 'ingest/main.ts', specs: ingestSpecs, port: 'port' },
];

/**
 * The variables that give `svc` its local port, shifted by `offset` (RTB_PORT_OFFSET: a second copy of
 * the main command, e.g. the chaos run on a second stack, beside the first): PROCESSOR_HTTP_PORT for a
 * processor, its own port variable (INGEST_PORT, ...) for the others when shifted. A variable already set
 * in `env` is left as it is (the caller spreads `env` over this).
 */
export function servicePortEnv(svc: ProjectService, offset = 0): Record<string, string> {
  if (svc.httpPort !== undefined) return { PROCESSOR_HTTP_PORT: String(svc.httpPort + offset) };
  if (svc.port === undefined || offset === 0) return {};
  const spec = (svc.specs as Record<string, Spec>)[svc.port]!;
  return { [spec.env]: String((spec.default as number) + offset) };
}

/** The port `svc` listens on locally under `env` and `offset` (undefined when it has none, or its config is invalid). */
export function servicePort(svc: ProjectService, offset = 0, env: Record<string, string | undefined> = process.env): number | undefined {
  const merged = { ...servicePortEnv(svc, offset), ...env };
  if (svc.httpPort !== undefined) return Number(merged.PROCESSOR_HTTP_PORT);
  try {
    return svc.port ? (loadConfig(svc.specs, merged) as Record<string, unknown>)[svc.port] as number : undefined;
  } catch {
    return undefined;
  }
}
