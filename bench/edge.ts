/** Scenario: the ingest edge against the do-nothing server, same open-loop load per rate (bench/README.md). */
import { randomBytes } from 'node:crypto';
import { edgeReport, renderEdge, type TargetRuns } from './lib/edge-report.js';
import { choice, errorText, int, list, many, num, positive, str } from './lib/options.js';
import { resultHead, scenario } from './lib/results.js';
import { runLoad } from './lib/services.js';

const [TARGET_CPU, LOAD_CPU] = [0, 1];
const { s, log, services, guard, finish, main } = scenario('edge', {
  rates: list(1, '2000,4000,8000,12000,16000,24000,32000'), duration: positive('10'), warmup: num(0, '1'),
  // Many keep-alive connections, as exchanges hold: with C connections and latency L a closed pool caps
  // throughput at C/L (32 connections at the edge's ~7 ms would cap it near 4,500 rps whatever its CPU).
  connections: int(1, '256'), body: choice(['openrtb', 'simple', 'noop'], 'openrtb'), timeout: positive('2000'), only: choice(['noop', 'edge']),
  edgeCmd: str('node --import tsx ingest/main.ts'), edgePath: str('/openrtb2/bid'), readyTimeout: positive('60'), pause: num(0, '2'), header: many('k:v'),
});
const env = process.env;
const TARGETS = [
  { name: 'noop', command: (port: number) => `${process.execPath} --import tsx bench/noop-server.ts ${port}`, env: {} },
  {
    name: 'edge', command: () => s.edgeCmd,
    // A topic of its own, so bench traffic never mixes with the pipeline's; a throw-away tracking secret unless one is set
    // (the edge refuses to start without one); RTB_DEV_MODE: no exchange configured, the load (no API key) is exchange `dev`.
    env: {
      INGEST_TOPIC: env.INGEST_TOPIC ?? 'bench-bid-requests', INGEST_OPENRTB_MODE: env.INGEST_OPENRTB_MODE ?? 'async', INGEST_WORKERS: '1',
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      ...(env.INGEST_TRACKING_SECRET || env.INGEST_TRACKING_SECRET_FILE ? {} : { INGEST_TRACKING_SECRET: randomBytes(32).toString('base64') }),
    },
  },
].filter((t) => s.only === undefined || s.only === t.name);

async function runTarget(spec: (typeof TARGETS)[number]): Promise<TargetRuns> {
  const out: TargetRuns = { target: spec.name, command: '', url: '', runs: [] };
  try {
    const svc = await services.start(spec.name, { command: spec.command, portVar: 'INGEST_PORT', env: spec.env, cpu: TARGET_CPU });
    Object.assign(out, { command: svc.command, url: `${svc.url}${s.edgePath}` });
    for (const rate of s.rates) {
      if (svc.failed()) throw new Error(`target exited during the run: ${svc.failed()}`);
      const extra = ['--body', s.body, ...s.header.flatMap((h) => ['--header', h])];
      const load = { url: out.url, rate, durationSec: s.duration, warmupSec: s.warmup, connections: s.connections, timeoutMs: s.timeout, cpu: LOAD_CPU, extra };
      // The broker shares the machine's cores with the target and the generator: its CPU is reported too.
      const { result, error, cpu, cpuSec } = await runLoad(load, { target: { pgid: svc.pid } });
      out.runs.push(result ? { rate, result, targetCpuSec: cpuSec.target, cpuShares: cpu } : { rate, error });
      log.info({ target: spec.name, rate, accepted: result?.acceptedRps, p99: result?.latencyMs.p99, error }, 'rate done');
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

main(async () => {
  const head = resultHead({ rates: s.rates, durationSec: s.duration, warmupSec: s.warmup, connections: s.connections, body: s.body, timeoutMs: s.timeout });
  const perRate = s.duration + s.warmup + s.timeout / 1000 + s.pause + 35;
  const dog = guard((120 + TARGETS.length * (s.readyTimeout + s.rates.length * perRate)) * 1000, () => services.stopAll());
  const targets: TargetRuns[] = [];
  for (const spec of TARGETS) {
    dog.step(spec.name);
    targets.push(await runTarget(spec));
  }
  await dog.cleanup();
  const report = edgeReport(head, targets);
  await finish(report, renderEdge(report), { sustainableRps: report.sustainableRps, ratioEdgeToNoop: report.ratioEdgeToNoop, cpu: report.cpu });
  if (targets.some((t) => t.error !== undefined)) process.exitCode = 1;
});
