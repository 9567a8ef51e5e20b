/** Benchmark child processes: stop() waits for the whole process group, not just the shell wrapper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTarget } from './services.js';

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

test('stop() resolves only once a slowly exiting node child is gone, not when its shell dies', async () => {
  // The shell runs node as its child (two commands, so sh cannot exec it); node takes 600 ms to shut down.
  const script = "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 600)); setInterval(() => {}, 1000); console.log('up')";
  const target = startTarget(`node -e "${script}"; true`, { cwd: process.cwd() });
  for (let i = 0; i < 100 && !target.output().includes('up'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(target.output().includes('up'), 'child started');
  const t0 = performance.now();
  assert.equal(await target.stop(), true, 'exited by itself');
  assert.ok(performance.now() - t0 >= 500, `stop() waited for node's graceful exit (${Math.round(performance.now() - t0)} ms)`);
  assert.equal(groupAlive(target.pid), false, 'nothing of the group is left');
});

test('stop() kills a group that ignores SIGTERM after the grace period', async () => {
  const script = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')";
  const target = startTarget(`node -e "${script}"; true`, { cwd: process.cwd(), stopGraceMs: 300 });
  for (let i = 0; i < 100 && !target.output().includes('up'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await target.stop(), false, 'had to be killed');
  assert.equal(groupAlive(target.pid), false, 'nothing of the group is left');
});
