/**
 * The chaos proof (deploy/chaos/run.ts, `npm run chaos`), bounded for the test suite: the main command's
 * services under their supervisor with steady load at the edge (asynchronous and synchronous requests,
 * notices, some sent twice) while the auction processor, the Kafka broker, Redis and the Postgres postmaster
 * are each killed with SIGKILL once (the supervisor restarts the service; the test restarts the stack servers
 * with deploy/stack/stack.sh). Every fault must be recovered from, and after draining, Postgres must count
 * exactly the requests Kafka holds (every acknowledged one among them), bids, wins and cost of the first
 * outcome of each request, and each notice once.
 *
 * It kills servers of the stack the suite runs on (STACK_* ports, the services' variables made to match),
 * which is safe because test files run one at a time; the stack is left running whatever happens (restarted
 * in a finally). It must fit in the 5 minutes a test file has: the run is given a 265 s budget.
 */
import './chaos/stack-env.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChaos } from './chaos/run.js';
import { chaosTable, writeChaosJson } from './chaos/report.js';
import { chaosStack } from './chaos/stack-env.js';
import { restartStack, stackListening } from './chaos/stack-control.js';

const root = fileURLToPath(new URL('..', import.meta.url));

after(async () => {
  // runChaos restarts what it left down; this covers a failure before it got there.
  if (Object.values(stackListening(chaosStack)).some((up) => !up)) await restartStack(root, 120_000);
});

test('chaos: SIGKILL of auction, the Kafka broker, Redis and Postgres under load: each recovered, Postgres = what Kafka holds and the edge acknowledged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rtb-chaos-'));
  const lines: string[] = [];
  const result = await runChaos({
    root, faults: ['auction', 'kafka', 'redis', 'postgres'],
    asyncRate: 25, syncRate: 25, tmaxMs: 1000, requestTimeoutMs: 10_000, connections: 128,
    warmupSec: 3, gapSec: 2, tailSec: 3, outageSec: 2,
    recoverTimeoutMs: 120_000, readyTimeoutMs: 120_000, drainTimeoutMs: 40_000, partitions: 4, windowMs: 60_000,
    logDir: join(dir, 'logs'), keep: false, budgetMs: 265_000, log: (line) => lines.push(line),
  });
  writeChaosJson(join(dir, 'chaos.json'), result);
  writeFileSync(join(dir, 'chaos.log'), `${lines.join('\n')}\n`);
  t.diagnostic(`${chaosTable(result)}\n(log, JSON summary and service logs in ${dir})`);

  assert.deepEqual(result.errors, [], 'the run itself completed');
  assert.equal(result.faults.length, 4, 'every fault was injected');
  for (const f of result.faults) {
    assert.equal(f.error, undefined, `${f.target}: ${f.error}`);
    assert.ok(f.recoveredMs !== null && f.backMs !== null && f.recoveredMs >= f.backMs, `${f.target} recovered`);
  }
  assert.ok(result.checks.length >= 10, 'every check ran');
  for (const c of result.checks) assert.ok(c.ok, `${c.name}: expected ${c.expected}, found ${c.found}: ${c.detail}`);
  assert.ok((result.load.async['202'] ?? 0) > 0 && (result.load.sync['200'] ?? 0) > 0, 'the load was acknowledged and won bids');
  assert.ok(result.ok);
});
