/**
 * `npm run chaos`: the chaos proof from edge to Postgres (deploy/chaos/run.ts). Runs the main command's
 * services under their supervisor on the running local stack (STACK_* ports, as deploy/stack/stack.sh),
 * with steady load at the edge, kills each service, the Kafka broker, Redis and Postgres with SIGKILL in
 * turn, measures the time to recover from each, drains, and checks that Postgres counts exactly what the
 * edge acknowledged and Kafka holds. Prints a table (faults, then checks), writes a JSON summary, and
 * exits 1 on any mismatch or fault not recovered from.
 *
 *   npm run chaos -- [--faults enrich,bid,...,kafka,redis,postgres] [--async-rate 100] [--sync-rate 100]
 *     [--tmax 500] [--warmup 15] [--gap 15] [--tail 15] [--outage 5] [--recover-timeout 180]
 *     [--partitions 12] [--window-ms 60000] [--port-offset N] [--out bench/results/<date>-chaos.json]
 *     [--log-dir .stack/chaos-logs/<time>] [--keep]
 *
 * It kills servers of the stack it is pointed at: run it on a stack of your own (STACK_KAFKA_PORT, ...),
 * never on one that others are using.
 */
import './chaos/stack-env.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { numArg } from '../bench/lib/options.js';
import { ALL_TARGETS, BASELINE, runChaos } from './chaos/run.js';
import { chaosTable, writeChaosJson } from './chaos/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: a } = parseArgs({
  strict: true,
  options: {
    faults: { type: 'string', default: [BASELINE, ...ALL_TARGETS].join(',') },
    'async-rate': { type: 'string', default: '100' }, 'sync-rate': { type: 'string', default: '100' }, tmax: { type: 'string', default: '1000' },
    timeout: { type: 'string', default: '10000' }, connections: { type: 'string', default: '256' },
    warmup: { type: 'string', default: '15' }, gap: { type: 'string', default: '15' }, tail: { type: 'string', default: '15' }, outage: { type: 'string', default: '5' },
    'recover-timeout': { type: 'string', default: '180' }, 'ready-timeout': { type: 'string', default: '240' }, 'drain-timeout': { type: 'string', default: '180' },
    partitions: { type: 'string', default: '12' }, 'window-ms': { type: 'string', default: '60000' }, 'port-offset': { type: 'string' },
    out: { type: 'string' }, 'log-dir': { type: 'string' }, keep: { type: 'boolean', default: false },
  },
});
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = resolve(a.out ?? join(root, 'bench', 'results', `${stamp.slice(0, 10)}-chaos.json`));
// Ctrl-C: stop injecting and waiting, clean up (the stack left running); a second one exits at once.
const interrupted = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted.signal.aborted) process.exit(130);
    process.stderr.write(`chaos: ${sig}: stopping the faults, cleaning up (again to exit now)\n`);
    interrupted.abort();
  });
}
const result = await runChaos({
  root,
  faults: a.faults.split(',').map((f) => f.trim()).filter(Boolean),
  asyncRate: numArg('async-rate', a['async-rate'], 0), syncRate: numArg('sync-rate', a['sync-rate'], 0), tmaxMs: numArg('tmax', a.tmax, 10, true),
  requestTimeoutMs: numArg('timeout', a.timeout, 1000), connections: numArg('connections', a.connections, 1, true),
  warmupSec: numArg('warmup', a.warmup, 0), gapSec: numArg('gap', a.gap, 0), tailSec: numArg('tail', a.tail, 0), outageSec: numArg('outage', a.outage, 0),
  recoverTimeoutMs: numArg('recover-timeout', a['recover-timeout'], 1) * 1000, readyTimeoutMs: numArg('ready-timeout', a['ready-timeout'], 1) * 1000,
  drainTimeoutMs: numArg('drain-timeout', a['drain-timeout'], 1) * 1000, partitions: numArg('partitions', a.partitions, 1, true),
  windowMs: numArg('window-ms', a['window-ms'], 1000, true), portOffset: a['port-offset'] === undefined ? undefined : numArg('port-offset', a['port-offset'], 0, true),
  logDir: resolve(a['log-dir'] ?? join(root, '.stack', 'chaos-logs', stamp)), keep: a.keep, signal: interrupted.signal,
  log: (line) => process.stderr.write(`${line}\n`),
}).catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
  return process.exit(2);
});
process.stdout.write(`${chaosTable(result)}\n`);
writeChaosJson(out, result);
process.stdout.write(`summary: ${out}\n`);
process.exit(result.ok ? 0 : 1);
