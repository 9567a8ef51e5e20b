/**
 * Hard faults in the local stack (deploy/stack/stack.sh): `kill -9` of the Kafka broker, Redis or the
 * PostgreSQL postmaster, found by the port it listens on, and the restart with `stack.sh up` (the way an
 * operator brings it back). Only a server that stack.sh itself restarts from the same data is killed: the
 * broker and Redis must be the ones named by .stack/<kafka|redis>/*.pid, Postgres a Debian cluster on
 * that port; anything else is refused, since `up` would then start a different server.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackPorts } from './stack-env.js';

export const STACK_COMPONENTS = ['kafka', 'redis', 'postgres'] as const;
export type StackComponent = (typeof STACK_COMPONENTS)[number];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pid of the process listening on TCP `port` (any local address), or null. */
export function listenerPid(port: number): number | null {
  const out = execFileSync('ss', ['-Hltnp', 'sport', '=', `:${port}`], { encoding: 'utf8' });
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : null;
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function pidFile(path: string): number | null {
  try {
    // The first line: a postmaster.pid goes on with the data folder, the start time, the port, ...
    const n = Number(readFileSync(path, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The pid to kill for `component`, after checking that stack.sh (run in `root`) would restart the same server. */
export function stackPid(component: StackComponent, ports: StackPorts, root: string): number {
  const p = component === 'kafka' ? ports.kafka : component === 'redis' ? ports.redis : ports.pg;
  const pid = listenerPid(p);
  if (pid === null) throw new Error(`${component}: nothing listens on port ${p}`);
  const cmd = cmdline(pid);
  if (component === 'kafka' || component === 'redis') {
    const file = join(root, '.stack', component, `${component}.pid`);
    if (pidFile(file) !== pid) {
      throw new Error(`${component} on :${p} (pid ${pid}: ${cmd.slice(0, 80)}) was not started by ${root}/deploy/stack/stack.sh (${file} names ${pidFile(file) ?? 'nothing'}): refusing to kill what stack.sh would not restart the same way`);
    }
    if (component === 'kafka' && !cmd.includes('kafka.Kafka')) throw new Error(`pid ${pid} on :${p} is not a Kafka broker: ${cmd.slice(0, 120)}`);
    if (component === 'redis' && !cmd.startsWith('redis-server')) throw new Error(`pid ${pid} on :${p} is not redis-server: ${cmd.slice(0, 120)}`);
    return pid;
  }
  const clusters = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/));
  const cluster = clusters.find((c) => Number(c[2]) === p);
  if (!cluster) throw new Error(`postgres on :${p} is no Debian cluster (pg_lsclusters): stack.sh could not restart it`);
  const postmaster = pidFile(join(cluster[5] ?? '', 'postmaster.pid'));
  if (postmaster !== pid) throw new Error(`postgres on :${p}: the listener (pid ${pid}) is not the postmaster of cluster ${cluster[0]}/${cluster[1]} (${postmaster})`);
  return pid;
}

/** `kill -9` of the component's server; resolves once it is gone and its port is free (bounded). */
export async function killStack(component: StackComponent, ports: StackPorts, root: string, timeoutMs = 30_000): Promise<number> {
  const pid = stackPid(component, ports, root);
  process.kill(pid, 'SIGKILL');
  const p = component === 'kafka' ? ports.kafka : component === 'redis' ? ports.redis : ports.pg;
  for (const deadline = Date.now() + timeoutMs; alive(pid) || listenerPid(p) !== null; await sleep(100)) {
    if (Date.now() > deadline) throw new Error(`${component} (pid ${pid}) still there ${timeoutMs} ms after SIGKILL`);
  }
  return pid;
}

/**
 * `bash deploy/stack/stack.sh up` in `root` with the caller's STACK_* variables, repeated until it
 * succeeds or `timeoutMs` passes (a Postgres whose old backends still hold its shared memory refuses to
 * start for a moment). Resolves with the number of attempts.
 */
export async function restartStack(root: string, timeoutMs = 180_000, log: (line: string) => void = () => undefined): Promise<number> {
  const script = join(root, 'deploy', 'stack', 'stack.sh');
  if (!existsSync(script)) throw new Error(`no ${script}`);
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const left = deadline - Date.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('bash', [script, 'up'], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1000, left));
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve({ code: c, output: out });
      });
    });
    if (code === 0) return attempt;
    log(`stack.sh up failed (attempt ${attempt}, exit ${code}): ${output.trim().split('\n').slice(-3).join(' | ')}`);
    if (Date.now() + 1000 > deadline) throw new Error(`stack.sh up did not succeed within ${timeoutMs} ms: ${output.trim().split('\n').slice(-5).join(' | ')}`);
    await sleep(1000);
  }
}

/** Every component's port answers (for the final safety net: the stack must be left running). */
export function stackListening(ports: StackPorts): Record<StackComponent | 'registry', boolean> {
  return { kafka: listenerPid(ports.kafka) !== null, redis: listenerPid(ports.redis) !== null, postgres: listenerPid(ports.pg) !== null, registry: listenerPid(ports.registry) !== null };
}
