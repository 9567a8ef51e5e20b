/**
 * The one service lifecycle: each service in its own process group (CPU read per group, stop ends the whole group), pinned
 * with `taskset` from its first instruction; one-shot scripts run pinned and bounded; a guard bounds the scenario in time.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { PipelineError } from '../../schemas/errors.js';
import { freePort } from '../../processors/runtime/free-port.js';
import { cpuSeconds, cpuShares, snapshotCpu, stackCpuSubjects, type CpuSubject } from './cpu.js';
import type { OpenLoopResult } from './open-loop.js';
import { errorText, firstLine } from './options.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TAIL_BYTES = 8192;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const unavailable = (message: string): PipelineError => new PipelineError('DEPENDENCY_UNAVAILABLE', message);

let tasksetAvailable: boolean | undefined;
export const hasTaskset = (): boolean => (tasksetAvailable ??= spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0);

const pinned = (cpu: number | undefined, argv: string[]): [string, string[]] =>
  cpu !== undefined && hasTaskset() ? ['taskset', ['-c', String(cpu), ...argv]] : [argv[0]!, argv.slice(1)];

/** The last few KB of a stream, always drained (a chatty child never blocks on a full pipe). */
function tail(stream: NodeJS.ReadableStream | null): () => string {
  let buf = '';
  stream?.on('data', (c: Buffer) => void (buf = (buf + c.toString()).slice(-TAIL_BYTES)));
  return () => buf;
}

export type Target = ReturnType<typeof startTarget>;

export function startTarget(command: string, opts: { cpu?: number; env?: NodeJS.ProcessEnv; cwd?: string; stopGraceMs?: number }) {
  const [file, args] = pinned(opts.cpu, ['sh', '-c', command]);
  const child = spawn(file, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw unavailable(`could not start: ${command}`);
  const pid = child.pid;
  const [out, err] = [tail(child.stdout), tail(child.stderr)];
  const signal = (sig: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, sig);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  const gone = async (ms: number): Promise<boolean> => {
    for (const deadline = performance.now() + ms; signal(0) && performance.now() < deadline; ) await sleep(25);
    return !signal(0);
  };
  return {
    pid,
    exited: new Promise<number | null>((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null)))),
    output: (): string => `${out()}${err()}`.slice(-TAIL_BYTES),
    /**
     * SIGTERM to the group, then waits until every process is gone (the `sh -c` wrapper dies at once while node is still shutting
     * down); SIGKILL after 35 s (the edge drains for up to 30 s). False when it had to be killed.
     */
    async stop(): Promise<boolean> {
      if (!signal(0)) return true;
      signal('SIGTERM');
      if (await gone(opts.stopGraceMs ?? 35_000)) return true;
      signal('SIGKILL');
      await gone(5_000);
      return false;
    },
  };
}

/** Runs a command to completion, pinned; exit code null when killed at `timeoutMs`. */
export function runPinned(argv: string[], opts: { cpu?: number; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, args] = pinned(opts.cpu, argv);
  const child = spawn(file, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const stderr = tail(child.stderr);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr() }));
  });
}

/** A bench script that prints one JSON line last (load.ts, produce-probe.ts); fails with its stderr. */
export async function runJsonScript<T>(script: string, flags: unknown[], opts: { cpu?: number; timeoutMs?: number } = {}): Promise<T> {
  const { code, stdout, stderr } = await runPinned([process.execPath, '--import', 'tsx', path.join(ROOT, script), ...flags.map(String)], opts);
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    throw unavailable(`${script} ${code === null ? `killed after ${opts.timeoutMs} ms` : `exited ${code}`}: ${stderr.trim()}`);
  }
  return JSON.parse(line) as T;
}

/** One run of bench/load.ts (openrtb bodies unless `extra` says otherwise), bounded, with the CPU of `subjects` and the stack over it. */
export async function runLoad(r: {
  url: string; rate: number; durationSec: number; warmupSec: number; connections: number; timeoutMs: number; extra?: string[]; cpu?: number;
}, subjects: Record<string, CpuSubject> = {}) {
  const flags = ['--url', r.url, '--rate', r.rate, '--duration', r.durationSec, '--warmup', r.warmupSec, '--connections', r.connections, '--timeout', r.timeoutMs];
  const timeoutMs = (r.durationSec + r.warmupSec) * 1000 + r.timeoutMs + 30_000;
  const all = { ...subjects, ...stackCpuSubjects() };
  const cpu0 = snapshotCpu(all);
  const out: { result?: OpenLoopResult; error?: string } = {};
  try {
    out.result = await runJsonScript<OpenLoopResult>('bench/load.ts', [...flags, '--body', 'openrtb', ...(r.extra ?? [])], { cpu: r.cpu, timeoutMs });
  } catch (err) {
    out.error = errorText(err);
  }
  const cpu1 = snapshotCpu(all);
  const cpuSec = Object.fromEntries(Object.keys(subjects).map((k) => [k, cpuSeconds(cpu0, cpu1, k)]));
  return { ...out, cpu: cpuShares(cpu0, cpu1), cpuSec, wallSec: (cpu1.at - cpu0.at) / 1000 };
}

export type Service = Target & {
  readonly label: string;
  readonly url: string;
  readonly command: string;
  failed(): string | undefined;
};

export interface ServiceSpec {
  entry?: string;
  command?: (port: number) => string;
  portVar?: string;
  env?: Record<string, string>;
  cpu?: number;
  /** 'wait' (default): until GET /ready answers 200; 'watch': at once, a /ready never reached shows in failed(); 'none': no HTTP. */
  ready?: 'wait' | 'watch' | 'none';
}

async function waitReady(target: Target, url: string, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void target.exited.then((c) => (exitCode = c));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    if (exitCode !== undefined) throw unavailable(`target exited with ${exitCode} before ${url} answered 200:\n${target.output()}`);
    if ((await fetch(url, { signal: AbortSignal.timeout(1000) }).then(async (r) => (await r.body?.cancel(), r.status), () => 0)) === 200) return;
  }
  throw unavailable(`${url} did not answer 200 within ${timeoutMs} ms:\n${target.output()}`);
}

/** A scenario's services by label, each on a free port (`RTB_DEV_MODE=1`, `LOG_LEVEL=warn` unless set); every stop timed. */
export class Services {
  private readonly running = new Map<string, Service>();
  readonly stops: Array<{ label: string; goneAfterMs: number | null }> = [];

  constructor(private readonly o: { readyTimeoutMs: number; log?: Logger }) {}

  async start(label: string, spec: ServiceSpec): Promise<Service> {
    const port = await freePort();
    const command = spec.command?.(port) ?? `${process.execPath} --import tsx ${spec.entry}`;
    this.o.log?.info({ label, command }, 'starting');
    const env = { RTB_DEV_MODE: '1', ...process.env, LOG_LEVEL: 'warn', ...spec.env, ...(spec.portVar ? { [spec.portVar]: String(port) } : {}) };
    const target = startTarget(command, { cpu: spec.cpu, env });
    let failure: string | undefined;
    void target.exited.then((code) => (failure ??= `${label} exited (${code}): ${target.output().slice(-1500)}`));
    const svc: Service = { ...target, label, url: `http://127.0.0.1:${port}`, command, failed: () => failure };
    this.running.set(label, svc);
    if (spec.ready === 'none') return svc;
    const ready = waitReady(target, `${svc.url}/ready`, this.o.readyTimeoutMs);
    if (spec.ready === 'watch') ready.catch((err: unknown) => (failure ??= `${label} never ready: ${errorText(err)}`));
    else {
      await ready.catch(async (err: unknown) => {
        await this.stop(label);
        throw err;
      });
    }
    return svc;
  }

  /** Starts them all at once; fails once every start has settled (none left starting unseen by the cleanup). */
  async startAll(specs: Record<string, ServiceSpec>): Promise<void> {
    const started = await Promise.allSettled(Object.entries(specs).map(([label, spec]) => this.start(label, spec)));
    for (const r of started) if (r.status === 'rejected') throw r.reason;
  }

  get(label: string): Service {
    const svc = this.running.get(label);
    if (!svc) throw new Error(`no service ${label}`);
    return svc;
  }

  async stop(label: string): Promise<void> {
    const svc = this.running.get(label);
    if (!svc) return;
    this.running.delete(label);
    const t0 = performance.now();
    this.stops.push({ label, goneAfterMs: (await svc.stop()) ? Math.round(performance.now() - t0) : null });
  }

  stopAll(): Promise<unknown> {
    return Promise.all([...this.running.keys()].map((label) => this.stop(label)));
  }

  dead(): string | undefined {
    return [...this.running.values()].map((s) => s.failed()).find((f) => f !== undefined);
  }

  cpuSubjects(): Record<string, CpuSubject> {
    return Object.fromEntries([...this.running].map(([k, v]) => [k, { pgid: v.pid }]));
  }

  commands(): Record<string, string> {
    return Object.fromEntries([...this.running].map(([k, v]) => [k, v.command]));
  }
}

/** On SIGINT/SIGTERM (exit 130) or past `maxMs` (exit 3, naming the step), runs the cleanup (bounded, 60 s) and exits. */
export function guard(maxMs: number, log: Logger, cleanup: () => Promise<unknown>) {
  let current = 'start';
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => (done ??= cleanup().then(() => undefined, (err: unknown) => void log.error({ err }, 'cleanup failed')));
  const exit = (code: number): void => {
    setTimeout(() => process.exit(code), 60_000).unref();
    void once().finally(() => process.exit(code));
  };
  const timer = setTimeout(() => {
    log.error({ step: current, maxMs }, 'watchdog: the run exceeded its time bound; cleaning up and exiting');
    exit(3);
  }, maxMs);
  timer.unref();
  process.once('SIGINT', () => exit(130));
  process.once('SIGTERM', () => exit(130));
  const g = {
    step(name: string): void {
      current = name;
      log.info({ step: name }, 'step');
    },
    cleanup(): Promise<void> {
      current = 'cleanup';
      return once().finally(() => clearTimeout(timer));
    },
    /** A failure ends the steps with a note and exit code 1 (the results still written); then the cleanup. */
    async steps(body: () => Promise<void>, notes: string[]): Promise<void> {
      try {
        await body();
      } catch (err) {
        notes.push(`Run stopped early: ${firstLine(errorText(err))}`);
        log.error({ err, step: current }, 'scenario step failed');
        process.exitCode = 1;
      } finally {
        await g.cleanup();
      }
    },
  };
  return g;
}
