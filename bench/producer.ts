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
 *
 *   node --import tsx bench/producer.ts [--rates 4000,8000,16000,24000] [--duration 5] [--repeat 2]
 *     [--partitions 12] [--linger 5] [--compression lz4]
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PipelineError } from '../schemas/errors.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, ensureTopics } from '../processors/runtime/kafka.js';
import { hasTaskset, runPinned } from './lib/child.js';
import { positiveArg } from './lib/options.js';
import { codeVersion, commandLine, machineInfo, machineLines, writeResults } from './lib/report.js';
import { median } from './lib/processors-report.js';
import { stackConfig } from './lib/run-topics.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH_DIR);
const MODES = ['none', 'one-partition', 'keyed'] as const;
type Mode = (typeof MODES)[number];

const { values: args } = parseArgs({
  strict: true,
  options: {
    rates: { type: 'string', default: '4000,8000,16000,24000' },
    duration: { type: 'string', default: '5' },
    repeat: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '12' },
    linger: { type: 'string', default: '5' },
    compression: { type: 'string', default: 'lz4' },
  },
});
const rates = args.rates.split(',').map((r) => positiveArg('rates', r.trim()));
const repeat = positiveArg('repeat', args.repeat);
const partitions = positiveArg('partitions', args.partitions);
positiveArg('duration', args.duration);

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

const log = createLogger('bench-producer', 'info');
const kafka = createKafka({ brokers: stackConfig.kafkaBrokers, clientId: 'bench-producer', log: createLogger('bench-producer', 'warn'), security: stackConfig });
const admin = kafka.admin();
await admin.connect();
const topic = `bench-producer-${randomBytes(4).toString('hex')}`;
await ensureTopics(admin, [{ topic, numPartitions: partitions, replicationFactor: stackConfig.topicReplication }]);
const date = new Date().toISOString();
const machine = machineInfo(hasTaskset());
const results: ProbeResult[] = [];
try {
  for (const rate of rates) {
    for (let r = 0; r < repeat; r++) {
      for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
        const out = await runPinned(['node', '--import', 'tsx', path.join(BENCH_DIR, 'lib', 'produce-probe.ts'), '--topic', topic, '--brokers', stackConfig.kafkaBrokers,
          '--rate', String(rate), '--duration', args.duration, '--mode', mode, '--linger', args.linger, '--compression', args.compression], { cpu: 0, cwd: ROOT, timeoutMs: 120_000 });
        const line = out.stdout.trim().split('\n').pop() ?? '';
        if (out.code !== 0 || !line.startsWith('{')) throw new PipelineError('DEPENDENCY_UNAVAILABLE', `produce-probe ${mode} at ${rate}/s failed (exit ${out.code}):\n${out.stderr}`);
        const result = JSON.parse(line) as ProbeResult;
        log.info({ rate, mode, cpuUsPerRecord: result.cpuUsPerRecord, p99Ms: result.latencyMs.p99, failed: result.failed }, 'probe done');
        results.push(result);
      }
    }
  }
} finally {
  await admin.deleteTopics({ topics: [topic], timeout: 30_000 }).catch((err: unknown) => log.warn({ err, topic }, 'deleting the bench topic failed'));
  await admin.disconnect();
}

const command = commandLine();
const settings = { rates, durationS: Number(args.duration), repeat, partitions, lingerMs: Number(args.linger), compression: args.compression, valueBytes: 700, users: 100_000, code: codeVersion(ROOT) };
const mid = (values: number[]): number => median(values, false) ?? Number.NaN;
const cell = (rate: number, mode: Mode): { cpu: number; p99: number; main: number; broker: number; failed: number } => {
  const runs = results.filter((x) => x.rate === rate && x.mode === mode);
  const thread = (name: (t: string) => boolean) => mid(runs.map((x) => Object.entries(x.threadUsPerRecord).filter(([t]) => name(t)).reduce((s, [, v]) => s + v, 0)));
  return {
    cpu: mid(runs.map((x) => x.cpuUsPerRecord)), p99: mid(runs.map((x) => x.latencyMs.p99)),
    main: thread((t) => t === 'main'), broker: thread((t) => t.startsWith('rdk:broker')), failed: runs.reduce((s, x) => s + x.failed, 0),
  };
};
const rows = rates.flatMap((rate) => {
  const base = cell(rate, 'none');
  return MODES.map((mode) => {
    const c = cell(rate, mode);
    return `| ${rate} | ${mode} | ${c.cpu.toFixed(1)} | ${mode === 'none' ? '-' : (c.cpu - base.cpu).toFixed(1)} | ${c.main.toFixed(1)} | ${c.broker.toFixed(1)} | ${c.p99.toFixed(1)} | ${c.failed} |`;
  });
});
const markdown = [
  `# Producer cost: the edge's Kafka path alone`,
  '',
  ...machineLines(date, machine, command, settings),
  '',
  `Medians of ${repeat} runs per cell, each its own process pinned to CPU 0. CPU is the whole process (user + system) per`,
  'record; "over none" is what Kafka adds to the baseline; main and rdk:broker are the main thread and librdkafka\'s broker',
  'thread. p99 is delivery latency from the scheduled send time (linger included).',
  '',
  '| rate/s | mode | CPU µs/record | over none | main µs | rdk:broker µs | delivery p99 ms | failed |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
const files = await writeResults(path.join(BENCH_DIR, 'results'), date, 'producer', markdown, { date, machine, command, settings, results });
process.stdout.write(`${markdown}\nwritten: ${files.join(', ')}\n`);
process.exit(0);
