/**
 * Scenario: what the ingest edge costs. For each offered rate, the same open-loop load (bench/load.ts, its own
 * process, pinned to CPU 1) is run first against the do-nothing uWebSockets.js server (bench/noop-server.ts) and
 * then against the real edge (each target pinned to CPU 0). Results: bench/results/<YYYY-MM-DD>-edge.md and .json.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { cpuSeconds, cpuShares, snapshotCpu, stackCpuSubjects } from './lib/cpu.js';
import { edgeReport, renderEdge, type TargetRuns } from './lib/edge-report.js';
import { choice, cli, errorText, int, list, many, num, positive, str } from './lib/options.js';
import { RESULTS_DIR, resultHead, writeResults } from './lib/results.js';
import { guard, runLoad, Services } from './lib/services.js';

const [TARGET_CPU, LOAD_CPU] = [0, 1];
const log = pino({ name: 'bench-edge' }, pino.destination(2));
const s = cli('bench/edge.ts', {
  rates: list(1, '2000,4000,8000,12000,16000,24000,32000'), duration: positive('10'), warmup: num(0, '1'),
  // Many keep-alive connections, as exchanges hold: with C connections and latency L a closed pool caps
  // throughput at C/L (32 connections at the edge's ~7 ms would cap it near 4,500 rps whatever its CPU).
  connections: int(1, '256'), body: choice(['openrtb', 'simple', 'noop'], 'openrtb'), timeout: positive('2000'), only: choice(['noop', 'edge']),
  edgeCmd: str('node --import tsx ingest/main.ts'), edgePath: str('/openrtb2/bid'), readyTimeout: positive('60'), pause: num(0, '2'), header: many('k:v'),
  out: str(RESULTS_DIR),
});

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
const services = new Services({ readyTimeoutMs: s.readyTimeout * 1000, log });

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
        const extra = ['--body', s.body, ...s.header.flatMap((h) => ['--header', h])];
        const load = { url: out.url, rate, durationSec: s.duration, warmupSec: s.warmup, connections: s.connections, timeoutMs: s.timeout, cpu: LOAD_CPU, extra };
        const result = await runLoad(load);
        const after = snapshotCpu(subjects);
        out.runs.push({ rate, result, targetCpuSec: cpuSeconds(before, after, 'target'), cpuShares: cpuShares(before, after) });
        log.info({ target: spec.name, rate, accepted: result.acceptedRps, p99: result.latencyMs.p99 }, 'rate done');
      } catch (err) {
        out.runs.push({ rate, error: errorText(err) });
        log.error({ err, target: spec.name, rate }, 'rate failed');
      }
      await new Promise((r) => setTimeout(r, s.pause * 1000)); // let the target drain before the next rate
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
  const head = resultHead({ rates: s.rates, durationSec: s.duration, warmupSec: s.warmup, connections: s.connections, body: s.body, timeoutMs: s.timeout });
  const perRate = s.duration + s.warmup + s.timeout / 1000 + s.pause + 35;
  const dog = guard((120 + TARGETS.length * (s.readyTimeout + s.rates.length * perRate)) * 1000, log, () => services.stopAll());
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
