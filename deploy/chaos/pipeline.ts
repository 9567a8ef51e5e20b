/**
 * The main command as the chaos run drives it: deploy/run-services.ts (every service of deploy/services.ts
 * under deploy/supervisor.ts) as a child process with a log folder and ports of its own, each service found
 * by its pid (a child of the run-services process running that entry), killed with SIGKILL, and probed
 * on /ready. Restarting a killed service is the supervisor's job, not this module's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { projectServices, servicePort } from '../services.js';
import { alive, cmdline } from './stack-control.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Children of `ppid` (from /proc), with their command lines. */
function childrenOf(ppid: number): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid && fields[0] !== 'Z') out.push({ pid: Number(name), cmd: cmdline(Number(name)) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface PipelineOptions {
  root: string;
  /** Environment of run-services (and so of every service): the stack, the run's topics, groups, schema. */
  env: Record<string, string>;
  logDir: string;
  portOffset: number;
  log: (line: string) => void;
}

export class SupervisedPipeline {
  readonly ports: Record<string, number>;
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  /** The supervisor's own lines (exits, restarts, crash loops), with the time seen. */
  readonly events: Array<{ atMs: number; line: string }> = [];

  constructor(private readonly o: PipelineOptions) {
    const env = { ...process.env, ...o.env };
    this.ports = Object.fromEntries(projectServices.map((s) => [s.name, servicePort(s, o.portOffset, env)!]));
  }

  get services(): string[] {
    return projectServices.map((s) => s.name);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts run-services; resolves once every service answers /ready (bounded). */
  async start(readyTimeoutMs: number): Promise<void> {
    const env = { ...process.env, RTB_STOP_TIMEOUT_MS: '10000', ...this.o.env, RTB_LOG_DIR: this.o.logDir, RTB_PORT_OFFSET: String(this.o.portOffset), RTB_SKIP_DEMO_SEED: '1' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'deploy/run-services.ts', '--no-demo-seed'], { cwd: this.o.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    let partial = '';
    child.stderr!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        this.events.push({ atMs: Date.now(), line });
        this.o.log(line);
      }
    });
    child.stdout!.resume();
    const missing = await this.waitAllReady(readyTimeoutMs);
    if (missing.length > 0) throw new Error(`services not ready within ${readyTimeoutMs} ms: ${missing.join(', ')} (logs in ${this.o.logDir})`);
  }

  /** The pid of `service` (a child of run-services running its entry), or null while it is not running. */
  pidOf(service: string): number | null {
    const entry = projectServices.find((s) => s.name === service)?.entry;
    if (!entry || this.child?.pid === undefined) return null;
    return childrenOf(this.child.pid).find((c) => c.cmd.includes(entry))?.pid ?? null;
  }

  /** SIGKILL to `service`; resolves with the pid killed once it is gone. */
  async kill(service: string): Promise<number> {
    const pid = this.pidOf(service);
    if (pid === null) throw new Error(`${service} is not running (no child of run-services runs it)`);
    process.kill(pid, 'SIGKILL');
    for (const deadline = Date.now() + 10_000; alive(pid); await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`${service} (pid ${pid}) still alive 10 s after SIGKILL`);
    }
    return pid;
  }

  async ready(service: string): Promise<boolean> {
    const res = await fetch(`http://127.0.0.1:${this.ports[service]}/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    await res?.body?.cancel().catch(() => undefined);
    return res?.status === 200;
  }

  /** Services not answering /ready 200 now. */
  async notReady(): Promise<string[]> {
    const states = await Promise.all(this.services.map(async (s) => [s, await this.ready(s)] as const));
    return states.filter(([, ok]) => !ok).map(([s]) => s);
  }

  /** Polls until every service is ready; the ones still not ready after `timeoutMs` (empty: all ready). */
  async waitAllReady(timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const missing = await this.notReady();
      if (missing.length === 0 || Date.now() > deadline) return missing;
      if (this.child?.exitCode !== null && this.child?.exitCode !== undefined) throw new Error(`run-services exited with code ${this.child.exitCode}`);
      await sleep(250);
    }
  }

  /** Ctrl-C as the user would: SIGTERM to run-services, which stops every service; SIGKILL to all after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const pids = this.services.map((s) => this.pidOf(s)).filter((p): p is number => p !== null);
    child.kill('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) this.killAll(pids);
  }

  /** Last resort (the run itself is dying): SIGKILL to run-services and every service it runs. */
  killAll(known: number[] = []): void {
    const pid = this.child?.pid;
    const pids = new Set([...known, ...(pid ? childrenOf(pid).map((c) => c.pid) : [])]);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (pid) this.child?.kill('SIGKILL');
  }
}
