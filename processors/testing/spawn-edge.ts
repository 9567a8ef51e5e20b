/** Test support: the real edge (ingest/main.ts) as a child process on loopback, ready to take traffic. */
import { randomBytes } from 'node:crypto';
import { spawnService, type ServiceProcess } from './spawn-service.js';

export type EdgeProcess = ServiceProcess;

/** The edge refuses to start without a tracking secret of its own (issue 11): each spawned edge gets a throw-away one unless `env` sets it. */
export function spawnEdge(env: Record<string, string>, readyTimeoutMs = 30_000): Promise<EdgeProcess> {
  return spawnService('ingest/main.ts', 'INGEST_PORT', {
    // RTB_DEV_MODE: no exchange configured, requests without a key are exchange `dev` (a test of exchanges sets INGEST_EXCHANGES and RTB_DEV_MODE '0').
    INGEST_HOST: '127.0.0.1', INGEST_OPENRTB_MODE: 'async', RTB_DEV_MODE: '1', INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'), ...env,
  }, readyTimeoutMs);
}
