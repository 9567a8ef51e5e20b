/**
 * The long-running services of a scenario, by label: started pinned (child.ts startService), checked for
 * an unexpected exit before each measurement, their process groups offered for CPU accounting, and all
 * stopped together (on success, error, watchdog or Ctrl-C).
 */
import { startService, type Service } from './child.js';
import type { CpuSubject } from './cpu.js';

export class ServiceSet {
  private readonly services = new Map<string, Service>();

  constructor(private readonly opts: { cwd: string; readyTimeoutMs: number; onStart?: (label: string, entry: string) => void }) {}

  async start(label: string, entry: string, portVar: string, env: Record<string, string>, cpu: number | undefined): Promise<Service> {
    this.opts.onStart?.(label, entry);
    const svc = await startService(entry, portVar, env, { cpu, cwd: this.opts.cwd, readyTimeoutMs: this.opts.readyTimeoutMs });
    this.services.set(label, svc);
    return svc;
  }

  get(label: string): Service {
    const svc = this.services.get(label);
    if (!svc) throw new Error(`no service ${label}`);
    return svc;
  }

  /** A service that has exited, with the tail of its output, or undefined while all are up. */
  async dead(): Promise<string | undefined> {
    for (const [label, svc] of this.services) {
      const code = await Promise.race([svc.target.exited, Promise.resolve(undefined)]);
      if (code !== undefined) return `${label} exited (${code}): ${svc.target.output().slice(-1500)}`;
    }
    return undefined;
  }

  cpuSubjects(): Record<string, CpuSubject> {
    return Object.fromEntries([...this.services].map(([k, v]) => [k, { pgid: v.target.pid }]));
  }

  commands(): Record<string, string> {
    return Object.fromEntries([...this.services].map(([k, v]) => [k, v.command]));
  }

  stopAll(): Promise<unknown> {
    return Promise.all([...this.services.values()].map((svc) => svc.target.stop()));
  }
}
