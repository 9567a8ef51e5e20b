/**
 * Keeps a set of services running, like an init system for the main command (deploy/run-services.ts):
 *
 * - a service that exits (for any reason, code 0 included: these services never finish) is restarted
 *   after a backoff that starts at `initialBackoffMs` and doubles up to `maxBackoffMs`;
 * - a service that has stayed up `resetAfterMs` is healthy again: its backoff and exit history reset;
 * - `crashLoopExits` exits within `crashLoopWindowMs` is a crash loop: reported once as one plain line
 *   (service, last exit, where its logs are), then retried at the capped backoff while the others run on;
 * - `stop()` sends SIGTERM to every running service and SIGKILL to those still running after
 *   `stopTimeoutMs`; pending restarts are cancelled.
 *
 * Pure logic: processes and time come in through a Spawner and a Clock, so it is tested with fakes.
 */

/** How a service process ended; `error` when it could not be started at all. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  error?: string;
}

/** A started process, as the supervisor sees it. */
export interface ChildHandle {
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface SupervisedService {
  name: string;
  /** Where the service's output goes, named in crash-loop reports. */
  logPath: string;
}

/** Starts `service`; must call `onExit` exactly once when the process has ended (or failed to start). */
export type Spawner = (service: SupervisedService, onExit: (exit: ExitInfo) => void) => ChildHandle;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export interface RestartPolicyOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  resetAfterMs: number;
  crashLoopExits: number;
  crashLoopWindowMs: number;
}

export const defaultPolicy: Readonly<RestartPolicyOptions> = Object.freeze({
  initialBackoffMs: 500, maxBackoffMs: 30_000, resetAfterMs: 60_000, crashLoopExits: 5, crashLoopWindowMs: 120_000,
});

/** The restart decision for one service: when to restart it, and whether it is crash looping. */
export class RestartPolicy {
  private backoffMs: number;
  private exits: number[] = [];
  private looping = false;

  constructor(private readonly opts: RestartPolicyOptions = defaultPolicy) {
    this.backoffMs = opts.initialBackoffMs;
  }

  get crashLooping(): boolean {
    return this.looping;
  }

  /** Records an exit at `now`: the delay before the restart, and whether a crash loop starts with this exit. */
  onExit(now: number): { delayMs: number; crashLoopStarted: boolean; exitsInWindow: number } {
    const { crashLoopExits, crashLoopWindowMs, maxBackoffMs } = this.opts;
    this.exits = [...this.exits.filter((t) => now - t < crashLoopWindowMs), now];
    const wasLooping = this.looping;
    this.looping = this.exits.length >= crashLoopExits;
    // In a crash loop the backoff is already near its cap; pinning it there makes the retry rate plain.
    const delayMs = this.looping ? maxBackoffMs : this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, maxBackoffMs);
    return { delayMs, crashLoopStarted: this.looping && !wasLooping, exitsInWindow: this.exits.length };
  }

  /** The service stayed up long enough: start over. Returns whether it was crash looping. */
  stable(): boolean {
    const was = this.looping;
    this.backoffMs = this.opts.initialBackoffMs;
    this.exits = [];
    this.looping = false;
    return was;
  }
}

export interface SupervisorOptions {
  policy?: Partial<RestartPolicyOptions>;
  /** Grace between SIGTERM and SIGKILL when stopping (default 10 s). */
  stopTimeoutMs?: number;
  clock?: Clock;
  /** One human-readable line per event (the CLI writes them to stderr). */
  report: (line: string) => void;
}

interface Slot {
  service: SupervisedService;
  policy: RestartPolicy;
  child: ChildHandle | null;
  startedAt: number;
  restarts: number;
  lastExit: ExitInfo | null;
  restartTimer: unknown;
  stableTimer: unknown;
}

/** A readable exit: "code 1", "signal SIGKILL", or why it could not start. */
export function describeExit(e: ExitInfo): string {
  if (e.error !== undefined) return `failed to start: ${e.error}`;
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

const seconds = (ms: number): string => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;

export class Supervisor {
  private readonly slots: Slot[];
  private readonly policy: RestartPolicyOptions;
  private readonly clock: Clock;
  private stopping: Promise<void> | null = null;
  private onAllExited: (() => void) | null = null;
  private killTimer: unknown = null;

  constructor(services: readonly SupervisedService[], private readonly spawner: Spawner, private readonly opts: SupervisorOptions) {
    this.policy = { ...defaultPolicy, ...opts.policy };
    this.clock = opts.clock ?? systemClock;
    this.slots = services.map((service) => ({
      service, policy: new RestartPolicy(this.policy), child: null, startedAt: 0, restarts: 0, lastExit: null, restartTimer: null, stableTimer: null,
    }));
  }

  /** Starts every service. */
  start(): void {
    for (const slot of this.slots) this.launch(slot);
  }

  /** What each service is doing now. */
  snapshot(): Array<{ name: string; running: boolean; restarts: number; crashLooping: boolean; lastExit: ExitInfo | null }> {
    return this.slots.map((s) => ({ name: s.service.name, running: s.child !== null, restarts: s.restarts, crashLooping: s.policy.crashLooping, lastExit: s.lastExit }));
  }

  /** SIGTERM to all, SIGKILL after the grace; resolves once every service has exited. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = new Promise<void>((resolve) => (this.onAllExited = resolve));
    for (const slot of this.slots) {
      this.clock.clearTimeout(slot.restartTimer);
      this.clock.clearTimeout(slot.stableTimer);
      slot.child?.kill('SIGTERM');
    }
    this.killTimer = this.clock.setTimeout(() => this.kill(), this.opts.stopTimeoutMs ?? 10_000);
    this.checkAllExited();
    return this.stopping;
  }

  /** SIGKILL to every service still running (the grace ran out, or the user insisted). */
  kill(): void {
    void this.stop();
    const left = this.slots.filter((s) => s.child !== null);
    if (left.length > 0) this.opts.report(`still running, killing: ${left.map((s) => s.service.name).join(', ')}`);
    for (const slot of left) slot.child!.kill('SIGKILL');
  }

  private launch(slot: Slot): void {
    slot.startedAt = this.clock.now();
    let ended = false;
    const child = this.spawner(slot.service, (exit) => {
      ended = true;
      this.exited(slot, exit);
    });
    // A spawner may report a failed start at once; the slot then already waits for its restart.
    if (ended) return;
    slot.child = child;
    slot.stableTimer = this.clock.setTimeout(() => {
      if (slot.policy.stable()) this.opts.report(`${slot.service.name} has stayed up ${seconds(this.policy.resetAfterMs)}: out of its crash loop`);
    }, this.policy.resetAfterMs);
  }

  private exited(slot: Slot, exit: ExitInfo): void {
    const { name, logPath } = slot.service;
    slot.child = null;
    slot.lastExit = exit;
    this.clock.clearTimeout(slot.stableTimer);
    if (this.stopping) return this.checkAllExited();
    const upMs = this.clock.now() - slot.startedAt;
    const { delayMs, crashLoopStarted, exitsInWindow } = slot.policy.onExit(this.clock.now());
    if (crashLoopStarted) {
      this.opts.report(
        `CRASH LOOP: ${name} exited ${exitsInWindow} times within ${seconds(this.policy.crashLoopWindowMs)}, last with ${describeExit(exit)}; ` +
          `its log: ${logPath}; retrying every ${seconds(delayMs)}, the other services keep running`,
      );
    } else {
      this.opts.report(`${name} exited (${describeExit(exit)}) after ${seconds(upMs)} up; restarting in ${seconds(delayMs)}${slot.policy.crashLooping ? ' (crash loop)' : ''}`);
    }
    slot.restartTimer = this.clock.setTimeout(() => {
      slot.restartTimer = null;
      slot.restarts++;
      this.launch(slot);
    }, delayMs);
  }

  private checkAllExited(): void {
    if (!this.onAllExited || this.slots.some((s) => s.child !== null)) return;
    this.clock.clearTimeout(this.killTimer);
    this.onAllExited();
    this.onAllExited = null;
  }
}
