/**
 * Scenario: the edge's Kafka path alone (lib/produce-probe.ts, its own pinned process) in three modes: none (the baseline),
 * one-partition and keyed. keyed - none is Kafka's share of the edge's CPU; keyed - one-partition what one ProduceRequest
 * per partition costs (librdkafka issue #1700).
 */
import { int, list, num, positive, str } from './lib/options.js';
import { document, median, resultHead, scenario } from './lib/results.js';
import { runJsonScript } from './lib/services.js';

const MODES = ['none', 'one-partition', 'keyed'] as const;
type Mode = (typeof MODES)[number];
const { s, log, run, topics, finish, main } = scenario('producer', {
  rates: list(1, '4000,8000,16000,24000'), duration: positive('5'), repeat: int(1, '2'), partitions: int(1, '12'), linger: num(0, '5'), compression: str('lz4'),
});

interface ProbeResult {
  mode: Mode;
  rate: number;
  records: number;
  failed: number;
  cpuUsPerRecord: number;
  systemUsPerRecord: number;
  threadUsPerRecord: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
}

/** Medians over the repetitions of one rate and mode. */
function cell(results: readonly ProbeResult[], rate: number, mode: Mode) {
  const runs = results.filter((x) => x.rate === rate && x.mode === mode);
  const mid = (f: (x: ProbeResult) => number): number => median(runs.map(f), false) ?? Number.NaN;
  const thread = (x: ProbeResult, name: (t: string) => boolean): number => Object.entries(x.threadUsPerRecord).reduce((n, [t, v]) => n + (name(t) ? v : 0), 0);
  return {
    cpu: mid((x) => x.cpuUsPerRecord), p99: mid((x) => x.latencyMs.p99), main: mid((x) => thread(x, (t) => t === 'main')),
    broker: mid((x) => thread(x, (t) => t.startsWith('rdk:broker'))), failed: runs.reduce((n, x) => n + x.failed, 0),
  };
}

main(async () => {
  const topic = `bench-producer-${run}`;
  const { out: _, ...settings } = s;
  const head = resultHead({ ...settings, valueBytes: 700, users: 100_000 });
  const results: ProbeResult[] = [];
  await topics.connect();
  try {
    await topics.create(topic, s.partitions);
    for (const rate of s.rates) {
      for (let r = 0; r < s.repeat; r++) {
        for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
          const args = ['--topic', topic, '--rate', rate, '--duration', s.duration, '--mode', mode, '--linger', s.linger, '--compression', s.compression];
          const result = await runJsonScript<ProbeResult>('bench/lib/produce-probe.ts', args, { cpu: 0, timeoutMs: 120_000 });
          log.info({ rate, mode, cpuUsPerRecord: result.cpuUsPerRecord, p99Ms: result.latencyMs.p99, failed: result.failed }, 'probe done');
          results.push(result);
        }
      }
    }
  } finally {
    await topics.cleanup();
  }
  const r1 = (v: number): number => Math.round(v * 10) / 10;
  const medians = s.rates.flatMap((rate) => MODES.map((mode) => {
    const [c, base] = [cell(results, rate, mode), cell(results, rate, 'none')];
    return { rate, mode, cpuUsPerRecord: r1(c.cpu), overNoneUs: mode === 'none' ? null : r1(c.cpu - base.cpu), mainUs: r1(c.main), brokerUs: r1(c.broker),
      p99Ms: r1(c.p99), failed: c.failed };
  }));
  const markdown = document({
    title: 'Producer cost: the edge\'s Kafka path alone', head, details: [{ title: 'Medians per rate and mode', data: medians, label: (m: { rate: number; mode: string }) => `${m.rate}/s ${m.mode}` }],
    method: `Medians of ${s.repeat} runs per cell, each its own process pinned to CPU 0. cpuUsPerRecord: the whole process (user + system); overNoneUs: ` +
      'what Kafka adds to the baseline; mainUs and brokerUs: the main thread and librdkafka\'s broker threads; p99Ms: delivery latency from the ' +
      'scheduled send time (linger included).',
  });
  process.stdout.write(markdown);
  await finish({ ...head, medians, results }, markdown, {});
});
