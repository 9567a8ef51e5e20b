/** The one start-up path (start.ts) in a child process: its log lines, readiness, exit codes and signals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./start-fixture.ts', import.meta.url));

interface Line {
  msg: string;
  [field: string]: unknown;
}

/** Runs the fixture; `onLine` may signal it. Resolves with its exit code and its JSON log lines (and plain lines). */
function run(mode: string, onLine: (line: Line, kill: (s: NodeJS.Signals) => void) => void = () => undefined): Promise<{ code: number | null; lines: Line[]; plain: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, START_FIXTURE: mode }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const plain: string[] = [];
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const p of parts) {
      if (!p.startsWith('{')) {
        plain.push(p);
        continue;
      }
      const line = JSON.parse(p) as Line;
      lines.push(line);
      onLine(line, (s) => child.kill(s));
    }
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, lines, plain })));
}

test('started: the health server answers, the started line carries its port; SIGTERM stops gracefully with exit 0 (a second signal is ignored)', async () => {
  let ready: number | undefined;
  const r = await run('ok', (line, kill) => {
    // The second signal while the stop runs (it takes 200 ms): ignored. Sent apart, since Linux hands over
    // pending signals lowest number first (SIGINT before SIGTERM).
    if (line.msg === 'stopping: fixture') kill('SIGINT');
    if (line.msg !== 'fixture started') return;
    void fetch(`http://127.0.0.1:${String(line.port)}/ready`).then((res) => {
      ready = res.status;
      kill('SIGTERM');
    });
  });
  assert.equal(r.code, 0);
  assert.equal(ready, 200);
  const msgs = r.lines.map((l) => l.msg);
  assert.deepEqual(msgs, ['fixture started', 'stopping: fixture', 'fixture stopped']);
  assert.equal(r.lines[0]!.answer, 42);
  assert.equal(typeof r.lines[0]!.port, 'number');
  assert.equal(r.lines[1]!.signal, 'SIGTERM');
  assert.equal(r.lines[1]!.inFlight, 0);
});

test('a start that throws: one fatal line naming the service and the cause, what it opened released, exit 1', async () => {
  const r = await run('fail');
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines.map((l) => l.msg), ['fixture failed to start: nothing to connect to']);
  assert.deepEqual(r.plain, ['released']);
});

test('a start that never finishes: exit 1 naming the step and the variable of the deadline', async () => {
  const r = await run('hang');
  assert.equal(r.code, 1);
  assert.deepEqual(r.lines.map((l) => l.msg), ["fixture did not finish start-up step 'connect' within FIXTURE_STARTUP_TIMEOUT_MS (1000 ms): exiting"]);
});
