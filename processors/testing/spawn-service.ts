/** Test support: runs a real service entry point as a child process on a free port and waits until /ready answers 200; reads its metrics. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<ServiceExit>;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<ServiceExit>;
}

/**
 * Every child still running when the test process exits is killed. With `--test-force-exit` (npm test)
 * the runner exits a test file once its tests are done; without this, a child left behind by a failed
 * assertion kept the file alive and CI waited forever.
 */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** How long one /ready probe may take: a probe that hangs must not carry the wait past its deadline. */
const PROBE_TIMEOUT_MS = 2000;
const PROBE_INTERVAL_MS = 100;

import { freePort } from '../runtime/free-port.js';

export { freePort };

/** 'ready', or what the probe saw instead (an HTTP status, or why no answer came). */
async function probeReady(url: string): Promise<'ready' | string> {
  try {
    const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return res.status === 200 ? 'ready' : `HTTP ${res.status} (listening, not ready)`;
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    // A service opens its HTTP port only at the end of its start-up: refused means it is still starting.
    return code === 'ECONNREFUSED' ? 'connection refused (still starting: the port opens last)' : `no answer (${code})`;
  }
}

function describeExit(e: ServiceExit): string {
  return e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
}

/**
 * @param entry path relative to the repository root, e.g. 'ingest/main.ts'
 * @param portVar the variable naming the service's HTTP port, e.g. 'INGEST_PORT'
 * @param readyTimeoutMs bound on the whole start-up; a child that exits first (by code or by signal) fails at once
 */
export async function spawnService(entry: string, portVar: string, env: Record<string, string>, readyTimeoutMs = 30_000): Promise<ServiceProcess> {
  const port = await freePort();
  const main = fileURLToPath(new URL(`../../${entry}`, import.meta.url));
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, LOG_LEVEL: 'warn', [portVar]: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // Recorded from the event, not read from child.exitCode: a child killed by a signal (abort() in native
  // code, the OOM killer) has exitCode null, and polling exitCode took that for "still starting" until the
  // deadline, reporting a crash as "not ready within 30000 ms".
  let exit: ServiceExit | null = null;
  const exited = new Promise<ServiceExit>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      exit = { code, signal };
      resolve(exit);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  let last = 'no probe yet';
  for (;;) {
    const seen = exit as ServiceExit | null;
    if (seen) throw new Error(`${entry} ${describeExit(seen)} ${Date.now() - started} ms after spawn, before ready:\n${out}`);
    last = await probeReady(url);
    if (last === 'ready') break;
    if (Date.now() - started > readyTimeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${entry} not ready within ${readyTimeoutMs} ms; last /ready probe: ${last}:\n${out}`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS)), exited]);
  }
  return {
    url,
    child,
    exited,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
