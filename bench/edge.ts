/**
 * Scenario: what the ingest edge costs. For each offered rate, the same open-loop load (bench/load.ts, its own
 * process, pinned to CPU 1) is run first against the do-nothing uWebSockets.js server (bench/noop-server.ts) and
 * then against the real edge (each target pinned to CPU 0). Results: bench/results/<YYYY-MM-DD>-edge.md and .json.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { cpuSeconds, cpuShares, snapshotCpu, stackCpuSubjects } from './lib/cpu.js';
import { edgeReport, renderEdge, type TargetRuns } from './lib/edge-report.js';
import { choiceArg, cli, errorText, flag, listArg, numArg, positiveArg } from './lib/options.js';
import { RESULTS_DIR, resultHead, writeResults } from './lib/results.js';
import { guard, runLoad, Services } from './lib/services.js';

const USAGE = `
node --import tsx bench/edge.ts [--rates 2000,4000,8000,12000,16000,24000,32000] [--duration 10] [--only noop|edge]
  [--edge-cmd "node --import tsx ingest/main.ts"] [--edge-path /openrtb2/bid] [--connections 256] [--body openrtb|simple|noop]
  [--warmup 1] [--timeout 2000] [--ready-timeout 60] [--pause 2] [--header k:v]... [--out bench/results]`;
const TARGET_CPU = 0;
const LOAD_CPU = 1;
const log = pino({ name: 'bench-edge' }, pino.destination(2));
const s = cli(USAGE, {
  rates: { type: 'string', default: '2000,4000,8000,12000,16000,24000,32000' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '1' },
  // Many keep-alive connections, as exchanges hold: with C connections and latency L a closed pool caps
  // throughput at C/L (32 connections at the edge's ~7 ms would cap it near 4,500 rps whatever its CPU).
  connections: { type: 'string', default: '256' }, body: { type: 'string', default: 'openrtb' }, timeout: { type: 'string', default: '2000' }, only: { type: 'string' },
  'edge-cmd': { type: 'string', default: 'node --import tsx ingest/main.ts' }, 'edge-path': { type: 'string', default: '/openrtb2/bid' },
  'ready-timeout': { type: 'string', default: '60' }, pause: { type: 'string', default: '2' }, header: { type: 'string', multiple: true, default: [] }, out: flag(RESULTS_DIR),
}, (a) => ({
  rates: listArg('rates', a.rates, 1), durationSec: positiveArg('duration', a.duration), warmupSec: numArg('warmup', a.warmup, 0), connections: numArg('connections', a.connections, 1, true),
  body: choiceArg('body', a.body, ['openrtb', 'simple', 'noop']), timeoutMs: positiveArg('timeout', a.timeout), only: a.only === undefined ? undefined : choiceArg('only', a.only, ['noop', 'edge']),
  edgeCmd: a['edge-cmd'], edgePath: a['edge-path'], readyTimeoutMs: positiveArg('ready-timeout', a['ready-timeout']) * 1000, pauseMs: numArg('pause', a.pause, 0) * 1000, headers: a.header, out: a.out,
}));

const TARGETS = [
  { name: 'noop', command: (port: number) => `${process.execPath} --import tsx bench/noop-server.ts ${port}`, env: {} },
  {
    name: 'edge', command: () => s.edgeCmd,
    // A topic of its own, so bench traffic never mixes with the pipeline's; a throw-away tracking secret unless one is set
    // (the edge refuses to start without one); RTB_DEV_MODE: no exchange configured, the load (no API key) is exchange `dev`.
    env: {
      INGEST_TOPIC: process.env.INGEST_TOPIC ?? 'bench-bid-requests', INGEST_OPENRTB_MODE: process.env.INGEST_OPENRTB_MODE ?? 'async', INGEST_WORKERS: '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ...(process.env.INGEST_TRACKING_SECRET || process.env.INGEST_TRACKING_SECRET_FILE ? {} : { INGEST_TRACKING_SECRET: randomBytes(32).toString('base64') }),
    },
  },
].filter((t) => s.only === undefined || s.only === t.name);
const services = new Services({ readyTimeoutMs: s.readyTimeoutMs, log });

async function runTarget(spec: (typeof TARGETS)[number]): Promise<TargetRuns> {
  const out: TargetRuns = { target: spec.name, command: '', url: '', runs: [] };
  try {
    const svc = await services.start(spec.name, { command: spec.command, portVar: 'INGEST_PORT', env: spec.env, cpu: TARGET_CPU });
    Object.assign(out, { command: svc.command, url: `${svc.url}${s.edgePath}` });
    for (const rate of s.rates) {
      if (svc.failed()) throw new Error(`target exited during the run: ${svc.failed()}`);
      try {
        // The broker shares the machine's cores with the target and the generator: its CPU is reported too.
        const subjects = { target: { pgid: svc.pid }, ...stackCpuSubjects() };
        const before = snapshotCpu(subjects);
        const extra = ['--body', s.body, ...s.headers.flatMap((h) => ['--header', h])];
        const result = await runLoad({ url: out.url, rate, durationSec: s.durationSec, warmupSec: s.warmupSec, connections: s.connections, timeoutMs: s.timeoutMs, cpu: LOAD_CPU, extra });
        const after = snapshotCpu(subjects);
        out.runs.push({ rate, result, targetCpuSec: cpuSeconds(before, after, 'target'), cpuShares: cpuShares(before, after) });
        log.info({ target: spec.name, rate, accepted: result.acceptedRps, p99: result.latencyMs.p99 }, 'rate done');
      } catch (err) {
        out.runs.push({ rate, error: errorText(err) });
        log.error({ err, target: spec.name, rate }, 'rate failed');
      }
      await new Promise((r) => setTimeout(r, s.pauseMs)); // let the target drain before the next rate
    }
  } catch (err) {
    out.error = errorText(err);
    log.error({ err, target: spec.name }, 'target failed');
  } finally {
    await services.stop(spec.name);
  }
  return out;
}

async function main(): Promise<void> {
  const head = resultHead({ rates: s.rates, durationSec: s.durationSec, warmupSec: s.warmupSec, connections: s.connections, body: s.body, timeoutMs: s.timeoutMs });
  const perRate = s.durationSec + s.warmupSec + s.timeoutMs / 1000 + s.pauseMs / 1000 + 35;
  const dog = guard((120 + TARGETS.length * (s.readyTimeoutMs / 1000 + s.rates.length * perRate)) * 1000, log, () => services.stopAll());
  const targets: TargetRuns[] = [];
  for (const spec of TARGETS) {
    dog.step(spec.name);
    targets.push(await runTarget(spec));
  }
  await dog.cleanup();
  const report = edgeReport(head, targets);
  const files = await writeResults(s.out, 'edge', report, renderEdge(report));
  process.stdout.write(`${JSON.stringify({ files, sustainableRps: report.sustainableRps, ratioEdgeToNoop: report.ratioEdgeToNoop, cpu: report.cpu })}\n`);
  if (targets.some((t) => t.error !== undefined)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  log.error({ err }, 'edge scenario failed');
  process.exitCode = 2;
});
