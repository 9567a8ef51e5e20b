/**
 * The project's long-running services: one entry point each. deploy/start.sh runs them locally,
 * docker-compose.yml runs them in containers, and deploy/compose.test.ts keeps the two in step.
 */
import type { Spec } from '../processors/runtime/config.js';
import { ingestSpecs } from '../ingest/config.js';

export interface ProjectService {
  name: string;
  /** Entry module, relative to the repository root. */
  entry: string;
  specs: Record<string, Spec>;
  /** Config key holding the HTTP port (health, readiness, metrics), if the service listens. */
  port?: string;
}

export const projectServices: readonly ProjectService[] = [
  { name: 'ingest', entry: 'ingest/main.ts', specs: ingestSpecs, port: 'port' },
];
