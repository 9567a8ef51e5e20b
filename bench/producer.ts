/**
 * Scenario: what the edge's Kafka path costs by itself, with no HTTP, JSON or Avro. For each rate, the
 * same open-loop schedule of 700-byte records is run by bench/lib/produce-probe.ts (its own process,
 * pinned to CPU 0, the edge's producer class and settings, every record awaited like a 202) in three
 * modes, alternating their order on each repetition:
 *   none           the schedule and the per-record promise, no Kafka (the baseline);
 *   one-partition  every record to partition 0: one ProduceRequest per linger;
 *   keyed          keys from 100k users over the topic's partitions, as the edge writes bid requests.
 * keyed minus none is the Kafka share of the edge's CPU per request; keyed minus one-partition is what
 * librdkafka's one-ProduceRequest-per-partition costs (librdkafka issue #1700).
 * Results go to bench/results/<YYYY-MM-DD>-producer.md and .json.
 */
import { int, list, num, positive, str } from './lib/options.js';
import { document, median, resultHead, scenario, table } from './lib/results.js';
import { runJsonScript } from './lib/services.js';

const MODES = ['none', 'one-partition', 'keyed'] as const;
type Mode = (typeof MODES)[number];
const { s, log, run, topics, finish, main } = scenario('producer', {
  rates: list(1, '4000,8000,16000,24000'), duration: positive('5'), repeat: int(1, '2'), partitions: int(1, '12'), linger: num(0, '5'), compression: str('lz4'),
});

/** What produce-probe.ts prints. */
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

/** Medians over the repetitions of one rate and mode: CPU per record (whole process, main thread, librdkafka's broker threads), p99. */
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
