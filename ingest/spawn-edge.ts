/** Test support: the real edge (ingest/main.ts) as a child process on loopback, ready to take traffic. */
import { spawnService, type ServiceProcess } from '../processors/runtime/spawn-service.js';

export type EdgeProcess = ServiceProcess;

export function spawnEdge(env: Record<string, string>, readyTimeoutMs = 30_000): Promise<EdgeProcess> {
  return spawnService('ingest/main.ts', 'INGEST_PORT', { INGEST_HOST: '127.0.0.1', INGEST_OPENRTB_MODE: 'async', ...env }, readyTimeoutMs);
}
