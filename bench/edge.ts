/**
 * Scenario: what the ingest edge costs. For each offered rate, the same open-loop load (bench/load.ts,
 * its own process, pinned to CPU 1) is run first against the do-nothing uWebSockets.js server
 * (bench/noop-server.ts) and then against the real edge (each target pinned to CPU 0). Results go to
 * bench/results/<YYYY-MM-DD>-edge.md and .json.
 *
 *   node --import tsx bench/edge.ts [--rates 2000,4000,8000,12000,16000,24000,32000] [--duration 10] [--only noop|edge]
 *     [--edge-cmd "node --import tsx ingest/main.ts"] [--connections 256] [--body openrtb|simple|noop]
 *     [--warmup 1] [--timeout 2000] [--ready-timeout 60] [--pause 2] [--header k:v]...
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PipelineError } from '../schemas/errors.js';
import { freePort, hasTaskset, runPinned, startTarget, waitReady, type Target } from './lib/child.js';
import type { OpenLoopResult } from './lib/open-loop.js';
import { commandLine, cpuComparison, machineInfo, sustainableRps, SUSTAINABLE_DEFINITION, writeReport, type EdgeReport, type TargetRuns } from './lib/report.js';
import { cpuShares, snapshotCpu, stackCpuSubjects } from './lib/cpu.js';
import { positiveArg } from './lib/options.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const TARGET_CPU = 0;
const LOAD_CPU = 1;
const log = pino({ name: 'bench-edge' }, pino.destination(2));

const { values: args } = parseArgs({
  strict: true,
  options: {
    rates: { type: 'string', default: '2000,4000,8000,12000,16000,24000,32000' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    // Many keep-alive connections, as exchanges hold: with C connections and latency L a closed pool caps
    // throughput at C/L (32 connections at the edge's ~7 ms would cap it near 4,500 rps whatever its CPU).
    connections: { type: 'string', default: '256' },
    body: { type: 'string', default: 'openrtb' },
    timeout: { type: 'string', default: '2000' },
    only: { type: 'string' },
    'edge-cmd': { type: 'string', default: 'node --import tsx ingest/main.ts' },
    'edge-path': { type: 'string', default: '/openrtb2/bid' },
    'ready-timeout': { type: 'string', default: '60' },
    pause: { type: 'string', default: '2' },
    header: { type: 'string', multiple: true, default: [] },
  },
});

const rates = args.rates.split(',').map((r) => positiveArg('rates', r.trim()));
const readyTimeoutMs = positiveArg('ready-timeout', args['ready-timeout']) * 1000;
const pauseMs = Number(args.pause) * 1000;
if (args.only !== undefined && args.only !== 'noop' && args.only !== 'edge') {
  throw new PipelineError('CONFIG_INVALID', `--only must be noop or edge, got ${JSON.stringify(args.only)}`);
}
positiveArg('duration', args.duration);

interface TargetSpec {
  name: string;
  command: (port: number) => string;
  env: (port: number) => NodeJS.ProcessEnv;
  path: string;
}

const TARGETS: TargetSpec[] = [
  {
    name: 'noop',
    command: (port) => `${process.execPath} --import tsx ${path.relative(ROOT, path.join(BENCH_DIR, 'noop-server.ts'))} ${port}`,
    env: () => process.env,
    path: args['edge-path'],
  },
  {
    name: 'edge',
    command: () => args['edge-cmd'],
    // A topic of its own, so bench traffic never mixes with the pipeline's (override with INGEST_TOPIC).
    // A throw-away tracking secret unless one is set: the edge refuses to start without one of its own.
    env: (port) => ({
      // RTB_DEV_MODE unless set: no exchange configured, the load (no API key) is exchange `dev`.
      INGEST_TOPIC: 'bench-bid-requests', INGEST_OPENRTB_MODE: 'async', RTB_DEV_MODE: '1',
      ...(process.env.INGEST_TRACKING_SECRET || process.env.INGEST_TRACKING_SECRET_FILE ? {} : { INGEST_TRACKING_SECRET: randomBytes(32).toString('base64') }), ...process.env, INGEST_PORT: String(port), INGEST_WORKERS: '1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    }),
    path: args['edge-path'],
  },
];

async function runLoad(url: string, rate: number): Promise<OpenLoopResult> {
  const loadArgs = ['--url', url, '--rate', String(rate), '--duration', args.duration, '--warmup', args.warmup,
    '--connections', args.connections, '--body', args.body, '--timeout', args.timeout, ...args.header.flatMap((h) => ['--header', h])];
  const { code, stdout, stderr } = await runPinned([process.execPath, '--import', 'tsx', path.join(BENCH_DIR, 'load.ts'), ...loadArgs], { cpu: LOAD_CPU, cwd: ROOT });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `load.ts exited ${code}: ${stderr.trim()}`);
  return JSON.parse(line) as OpenLoopResult;
}

async function runTarget(spec: TargetSpec, running: Set<Target>): Promise<TargetRuns> {
  const port = await freePort();
  const command = spec.command(port);
  const out: TargetRuns = { target: spec.name, command, url: `http://127.0.0.1:${port}${spec.path}`, runs: [] };
  log.info({ target: spec.name, command, port }, 'starting target');
  const target = startTarget(command, { cpu: TARGET_CPU, env: spec.env(port), cwd: ROOT });
  running.add(target);
  let exited = false;
  void target.exited.then(() => (exited = true));
  try {
    await waitReady(target, `http://127.0.0.1:${port}/ready`, readyTimeoutMs);
    for (const rate of rates) {
      if (exited) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `target exited during the run:\n${target.output()}`);
      try {
        // The broker shares the machine's cores with the target and the generator: its CPU is reported too.
        const subjects = { target: { pgid: target.pid }, ...stackCpuSubjects() };
        const before = snapshotCpu(subjects);
        const result = await runLoad(out.url, rate);
        const after = snapshotCpu(subjects);
        const [a, b] = [before.seconds['target'], after.seconds['target']];
        const targetCpuSec = a == null || b == null ? null : Math.round((b - a) * 100) / 100;
        out.runs.push({ rate, result, targetCpuSec, cpuShares: cpuShares(before, after) });
        log.info({ target: spec.name, rate, accepted: result.acceptedRps, p99: result.latencyMs.p99 }, 'rate done');
      } catch (err) {
        out.runs.push({ rate, error: err instanceof Error ? err.message : String(err) });
        log.error({ err, target: spec.name, rate }, 'rate failed');
      }
      await new Promise((r) => setTimeout(r, pauseMs)); // let the target drain before the next rate
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    log.error({ err, target: spec.name }, 'target failed');
  } finally {
    await target.stop();
    running.delete(target);
  }
  return out;
}

function cpuOf(targets: TargetRuns[]): EdgeReport['cpu'] {
  const both = targets.filter((t) => t.target === 'noop' || t.target === 'edge');
  const c = both.length === 2 ? cpuComparison(both) : null;
  if (!c) return null;
  const { noop, edge } = c.usPerRequest;
  return { ...c, ratioEdgeToNoop: Math.round(((noop ?? 0) / (edge ?? 1)) * 1000) / 1000 };
}

async function main(): Promise<void> {
  const running = new Set<Target>();
  const onSignal = (): void => {
    void Promise.all([...running].map((t) => t.stop())).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const date = new Date().toISOString();
  const targets: TargetRuns[] = [];
  for (const spec of TARGETS) {
    if (args.only === undefined || args.only === spec.name) targets.push(await runTarget(spec, running));
  }
  const sustainable = Object.fromEntries(targets.map((t) => [t.target, sustainableRps(t.runs)]));
  const noop = sustainable['noop'];
  const edge = sustainable['edge'];
  const report: EdgeReport = {
    date,
    machine: machineInfo(hasTaskset()),
    command: commandLine(),
    settings: { rates, durationSec: Number(args.duration), warmupSec: Number(args.warmup), connections: Number(args.connections), body: args.body, timeoutMs: Number(args.timeout) },
    targets,
    definition: SUSTAINABLE_DEFINITION,
    sustainableRps: sustainable,
    ratioEdgeToNoop: noop && edge !== undefined ? Math.round(((edge ?? 0) / noop) * 1000) / 1000 : null,
    cpu: cpuOf(targets),
  };
  const files = await writeReport(path.join(BENCH_DIR, 'results'), report);
  process.stdout.write(`${JSON.stringify({ files, sustainableRps: sustainable, ratioEdgeToNoop: report.ratioEdgeToNoop, cpu: report.cpu })}\n`);
  if (targets.some((t) => t.error !== undefined)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  log.error({ err }, 'edge scenario failed');
  process.exitCode = 2;
});
