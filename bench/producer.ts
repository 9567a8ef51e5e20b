/**
 * Scenario: the edge's Kafka path alone (lib/produce-probe.ts, its own pinned process) in three modes: none (the baseline),
 * one-partition and keyed. keyed - none is Kafka's share of the edge's CPU; keyed - one-partition what one ProduceRequest
 * per partition costs (librdkafka issue #1700).
 */
import { int, list, num, positive, str } from './lib/options.js';
import { document, median, resultHead, scenario, table } from './lib/results.js';
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
  const rows = s.rates.flatMap((rate) => MODES.map((mode) => {
    const [c, base] = [cell(results, rate, mode), cell(results, rate, 'none')];
    return [rate, mode, c.cpu.toFixed(1), mode === 'none' ? '-' : (c.cpu - base.cpu).toFixed(1), c.main.toFixed(1), c.broker.toFixed(1), c.p99.toFixed(1), c.failed];
  }));
  const markdown = document({
    title: 'Producer cost: the edge\'s Kafka path alone', head, sections: [],
    intro: [
      `Medians of ${s.repeat} runs per cell, each its own process pinned to CPU 0. CPU is the whole process (user + system) per record; "over none" is what ` +
        'Kafka adds to the baseline; main and rdk:broker are the main thread and librdkafka\'s broker thread. p99 is delivery latency from the scheduled ' +
        'send time (linger included).',
      table(['rate/s', 'mode', 'CPU µs/record', 'over none', 'main µs', 'rdk:broker µs', 'delivery p99 ms', 'failed'], rows),
    ],
  });
  process.stdout.write(markdown);
  await finish({ ...head, results }, markdown, {});
});
