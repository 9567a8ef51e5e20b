/**
 * Child processes for benchmark scenarios: a long-running target (server under test) started in its
 * own process group so it and anything it forks can be stopped by that group's id, and one-shot
 * commands (the load generator). Both are pinned to a CPU with `taskset` when it exists.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { PipelineError } from '../../schemas/errors.js';

const TAIL_BYTES = 8192;
const STOP_GRACE_MS = 35_000;

let tasksetAvailable: boolean | undefined;
/** True when `taskset` can be run here. */
export function hasTaskset(): boolean {
  tasksetAvailable ??= spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return tasksetAvailable;
}

function pinned(cpu: number | undefined, argv: string[]): [string, string[]] {
  if (cpu !== undefined && hasTaskset()) return ['taskset', ['-c', String(cpu), ...argv]];
  return [argv[0]!, argv.slice(1)];
}

/** Keeps the last few KB of a stream (and always drains it, so a chatty child never blocks on a full pipe). */
function tail(stream: NodeJS.ReadableStream | null): () => string {
  let buf = '';
  stream?.on('data', (c: Buffer) => {
    buf = (buf + c.toString()).slice(-TAIL_BYTES);
  });
  return () => buf;
}

export interface Target {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  output(): string;
  /**
   * SIGTERM to the whole process group, then waits until every process in it is gone (not only the
   * `sh -c` wrapper, which dies at once while node is still shutting down); SIGKILL after the grace
   * period. Resolves true when the group exited by itself, false when it had to be killed.
   */
  stop(): Promise<boolean>;
}

/** Starts `command` (a shell command line) in its own process group, pinned to `cpu`. */
export function startTarget(command: string, opts: { cpu?: number; env?: NodeJS.ProcessEnv; cwd: string; stopGraceMs?: number }): Target {
  // A shell runs the line (so it may set variables or chain commands); stop() signals the whole group.
  const [file, args] = pinned(opts.cpu, ['sh', '-c', command]);
  const child: ChildProcess = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `could not start: ${command}`);
  const pid = child.pid;
  const out = tail(child.stdout);
  const err = tail(child.stderr);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is already gone
    }
  };
  const groupAlive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  return {
    pid,
    exited,
    output: () => `${out()}${err()}`.slice(-TAIL_BYTES),
    async stop() {
      if (!groupAlive()) return true;
      signalGroup('SIGTERM');
      // The edge drains in-flight requests on SIGTERM (INGEST_SHUTDOWN_TIMEOUT_MS, 30 s by default).
      const deadline = performance.now() + (opts.stopGraceMs ?? STOP_GRACE_MS);
      while (groupAlive() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      if (!groupAlive()) return true;
      signalGroup('SIGKILL');
      const killDeadline = performance.now() + 5_000;
      while (groupAlive() && performance.now() < killDeadline) await new Promise((r) => setTimeout(r, 25));
      return false;
    },
  };
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls `url` until it answers 200; fails if the target exits first or `timeoutMs` passes. */
export async function waitReady(target: Target, url: string, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void target.exited.then((c) => (exitCode = c));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new PipelineError('DEPENDENCY_UNAVAILABLE', `target exited with ${exitCode} before ${url} answered 200:\n${target.output()}`);
    }
    if ((await probe(url)) === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new PipelineError('DEPENDENCY_UNAVAILABLE', `${url} did not answer 200 within ${timeoutMs} ms:\n${target.output()}`);
}

/** Runs a command to completion, pinned to `cpu`; resolves with its exit code (null if killed at `timeoutMs`) and output. */
export function runPinned(argv: string[], opts: { cpu?: number; cwd: string; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, args] = pinned(opts.cpu, argv);
  const child = spawn(file, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const stderr = tail(child.stderr);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr() }));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Service {
  readonly target: Target;
  readonly url: string;
  readonly command: string;
}

/**
 * Starts a service entry point (`node --import tsx <entry>`, e.g. processors/bid/main.ts) pinned to `cpu`
 * from its first instruction, on a free port passed as `portVar`, and waits until its /ready answers 200.
 * The test helper spawnService does the same without pinning; this one also stops the whole process group.
 */
export async function startService(entry: string, portVar: string, env: NodeJS.ProcessEnv, opts: { cpu?: number; cwd: string; readyTimeoutMs: number }): Promise<Service> {
  const port = await freePort();
  const command = `${process.execPath} --import tsx ${entry}`;
  // A bench is a development run (RTB_DEV_MODE=1 unless set): e.g. the edge takes requests without a key as exchange `dev`.
  const target = startTarget(command, { cpu: opts.cpu, cwd: opts.cwd, env: { RTB_DEV_MODE: '1', ...process.env, LOG_LEVEL: 'warn', ...env, [portVar]: String(port) } });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(target, `${url}/ready`, opts.readyTimeoutMs);
  } catch (err) {
    await target.stop();
    throw err;
  }
  return { target, url, command };
}
