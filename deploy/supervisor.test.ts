/** The supervisor's restart policy, crash-loop report and stop sequence, with a fake clock and a fake spawner. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestartPolicy, Supervisor, defaultPolicy, type Clock, type ExitInfo, type SupervisedService } from './supervisor.js';

/** Timers run only when the test advances time. */
class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
}

/** Records every start and signal; a test ends a process with `exit`. */
class FakeSpawner {
  starts: Array<{ name: string; at: number }> = [];
  signals: Array<{ name: string; signal: string }> = [];
  private live = new Map<string, (e: ExitInfo) => void>();
  failNextStart = false;
  constructor(private readonly clock: FakeClock) {}
  readonly spawn = (svc: SupervisedService, onExit: (e: ExitInfo) => void) => {
    this.starts.push({ name: svc.name, at: this.clock.now() });
    if (this.failNextStart) {
      this.failNextStart = false;
      onExit({ code: null, signal: null, error: 'spawn ENOENT' });
    } else {
      this.live.set(svc.name, onExit);
    }
    return { kill: (signal: 'SIGTERM' | 'SIGKILL') => void this.signals.push({ name: svc.name, signal }) };
  };
  exit(name: string, e: ExitInfo = { code: 1, signal: null }): void {
    const onExit = this.live.get(name);
    assert.ok(onExit, `${name} is running`);
    this.live.delete(name);
    onExit(e);
  }
  running(name: string): boolean {
    return this.live.has(name);
  }
  startsOf(name: string): number[] {
    return this.starts.filter((s) => s.name === name).map((s) => s.at);
  }
}

function setup(policy: Partial<typeof defaultPolicy> = {}, stopTimeoutMs = 10_000) {
  const clock = new FakeClock();
  const spawner = new FakeSpawner(clock);
  const lines: string[] = [];
  const services = ['enrich', 'bid', 'auction'].map((name) => ({ name, logPath: `/logs/${name}.log` }));
  const sup = new Supervisor(services, spawner.spawn, { clock, policy, stopTimeoutMs, report: (l) => lines.push(l) });
  sup.start();
  return { clock, spawner, lines, sup };
}

/** Delays between an exit and the restart that follows, for `n` immediate crashes. */
function crashDelays(clock: FakeClock, spawner: FakeSpawner, name: string, n: number): number[] {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const at = clock.now();
    spawner.exit(name);
    while (!spawner.running(name)) clock.advance(100);
    delays.push(clock.now() - at);
  }
  return delays;
}

test('restart policy doubles the backoff from 0.5 s up to 30 s and pins it there in a crash loop', () => {
  const p = new RestartPolicy({ ...defaultPolicy, crashLoopExits: 100 });
  assert.deepEqual(Array.from({ length: 9 }, (_, i) => p.onExit(i).delayMs), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  const loop = new RestartPolicy(defaultPolicy);
  const decisions = Array.from({ length: 6 }, (_, i) => loop.onExit(i * 1000));
  assert.deepEqual(decisions.map((d) => d.crashLoopStarted), [false, false, false, false, true, false], 'the loop starts once, at the fifth exit in the window');
  assert.deepEqual(decisions.map((d) => d.delayMs), [500, 1000, 2000, 4000, 30_000, 30_000]);
  assert.equal(loop.stable(), true, 'stable() reports that it was looping');
  assert.equal(loop.onExit(10_000).delayMs, 500, 'and starts over');
});

test('restart policy forgets exits older than the crash-loop window', () => {
  const p = new RestartPolicy({ ...defaultPolicy, crashLoopExits: 3, crashLoopWindowMs: 10_000 });
  assert.equal(p.onExit(0).crashLoopStarted, false);
  assert.equal(p.onExit(6000).crashLoopStarted, false);
  assert.equal(p.onExit(12_000).crashLoopStarted, false, 'the first exit fell out of the window');
  assert.equal(p.onExit(13_000).crashLoopStarted, true);
});

test('supervisor restarts an exited service with exponential backoff while the others keep running', () => {
  const { clock, spawner, lines } = setup({ crashLoopExits: 100 });
  assert.deepEqual(spawner.starts.map((s) => s.name), ['enrich', 'bid', 'auction']);
  assert.deepEqual(crashDelays(clock, spawner, 'enrich', 8), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  assert.ok(spawner.running('bid') && spawner.running('auction'), 'the others were never touched');
  assert.deepEqual(spawner.signals, []);
  assert.match(lines[0]!, /^enrich exited \(code 1\) after 0\.0 s up; restarting in 0\.5 s$/);
});

test('supervisor resets the backoff once a service has stayed up 60 s', () => {
  const { clock, spawner } = setup();
  assert.deepEqual(crashDelays(clock, spawner, 'bid', 3), [500, 1000, 2000]);
  clock.advance(59_000);
  assert.deepEqual(crashDelays(clock, spawner, 'bid', 1), [4000], 'up 59 s: not yet healthy');
  clock.advance(60_000);
  assert.deepEqual(crashDelays(clock, spawner, 'bid', 2), [500, 1000], 'up 60 s: back to 0.5 s');
});

test('supervisor reports a crash loop once, on one line naming the service, its last exit and its log, and keeps retrying at the cap', () => {
  const { clock, spawner, lines, sup } = setup();
  crashDelays(clock, spawner, 'auction', 4);
  lines.length = 0;
  spawner.exit('auction', { code: null, signal: 'SIGSEGV' });
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^CRASH LOOP: auction exited 5 times within 120 s, last with signal SIGSEGV; its log: \/logs\/auction\.log; retrying every 30 s, the other services keep running$/);
  assert.equal(lines[0]!.includes('\n'), false);
  clock.advance(29_999);
  assert.equal(spawner.running('auction'), false);
  clock.advance(1);
  assert.equal(spawner.running('auction'), true, 'retried after the capped backoff');
  assert.deepEqual(crashDelays(clock, spawner, 'auction', 3), [30_000, 30_000, 30_000], 'and keeps retrying at the cap');
  assert.equal(lines.filter((l) => l.startsWith('CRASH LOOP')).length, 1, 'reported once, not at every exit');
  assert.ok(spawner.running('enrich') && spawner.running('bid'));
  assert.equal(sup.snapshot().find((s) => s.name === 'auction')!.crashLooping, true);
  clock.advance(60_000);
  assert.match(lines.at(-1)!, /^auction has stayed up 60 s: out of its crash loop$/);
  assert.deepEqual(crashDelays(clock, spawner, 'auction', 1), [500]);
});

test('supervisor retries a service that could not be started at all', () => {
  const { clock, spawner, lines } = setup();
  spawner.failNextStart = true;
  spawner.exit('enrich');
  clock.advance(500);
  assert.equal(spawner.running('enrich'), false, 'the restart failed to start');
  assert.match(lines.at(-1)!, /^enrich exited \(failed to start: spawn ENOENT\) after 0\.0 s up; restarting in 1\.0 s$/);
  clock.advance(1000);
  assert.equal(spawner.running('enrich'), true);
});

test('supervisor stop sends SIGTERM, SIGKILL after the grace to what is left, and resolves once all exited; nothing restarts', async () => {
  const { clock, spawner, sup } = setup({}, 5000);
  spawner.exit('bid');
  let stopped = false;
  const done = sup.stop().then(() => (stopped = true));
  assert.deepEqual(spawner.signals, [{ name: 'enrich', signal: 'SIGTERM' }, { name: 'auction', signal: 'SIGTERM' }], 'bid was waiting for its restart: nothing to signal');
  spawner.exit('enrich', { code: 0, signal: null });
  clock.advance(4999);
  await Promise.resolve();
  assert.equal(stopped, false, 'auction is still shutting down');
  clock.advance(1);
  assert.deepEqual(spawner.signals.at(-1), { name: 'auction', signal: 'SIGKILL' });
  spawner.exit('auction', { code: null, signal: 'SIGKILL' });
  await done;
  clock.advance(120_000);
  assert.deepEqual(spawner.startsOf('bid'), [0], 'the pending restart was cancelled');
  assert.equal(sup.stop(), sup.stop(), 'stop is idempotent');
});

test('supervisor stop resolves as soon as every service exits on SIGTERM', async () => {
  const { spawner, sup } = setup();
  const done = sup.stop();
  for (const name of ['enrich', 'bid', 'auction']) spawner.exit(name, { code: 0, signal: null });
  await done;
  assert.equal(spawner.signals.filter((s) => s.signal === 'SIGKILL').length, 0);
  assert.ok(sup.snapshot().every((s) => !s.running));
});

test('supervisor kill (a second Ctrl-C) sends SIGKILL at once', () => {
  const { spawner, sup } = setup();
  void sup.stop();
  sup.kill();
  assert.deepEqual(spawner.signals.filter((s) => s.signal === 'SIGKILL').map((s) => s.name), ['enrich', 'bid', 'auction']);
});
