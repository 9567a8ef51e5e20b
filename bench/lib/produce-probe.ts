/**
 * One measurement for bench/producer.ts, run as its own (pinned) process: the edge's producer path
 * (processors/runtime/delivery-producer.ts with the edge's settings: idempotent, acks=all, linger, compression),
 * driven open loop at a fixed rate with a 700-byte value, every record awaited like a 202 is.
 * Prints one JSON line: CPU per record (whole process and per thread), delivery latency from the
 * scheduled time.
 *
 * --mode keyed: keys from a pool of users, placed by the partitioner (what the edge does);
 * one-partition: the same keys, every record to partition 0 (one ProduceRequest per linger);
 * none: the schedule, the same per-record promise and timer work, no Kafka (the baseline).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createLogger } from '../../processors/runtime/logger.js';
import { DeliveryProducer } from '../../processors/runtime/delivery-producer.js';
import { kafkaSecurityProperties } from '../../processors/runtime/kafka.js';
import { stackConfig } from './run-topics.js';
import { Histogram } from './histogram.js';
import { choiceArg, cli, flag as str, numArg, positiveArg } from './options.js';

const USAGE = `
node --import tsx bench/lib/produce-probe.ts --topic T --rate 8000 --duration 5 --mode keyed|one-partition|none
  [--brokers host:port] [--linger 5] [--compression lz4] [--poll-ms 1] [--warmup 1] [--users 100000]`;
const a = cli(USAGE, {
  topic: str(), brokers: str(stackConfig.kafkaBrokers), rate: str('8000'), duration: str('5'), warmup: str('1'), mode: str('keyed'),
  linger: str('5'), compression: str('lz4'), 'poll-ms': str('1'), users: str('100000'),
}, (v) => {
  if (!v.topic) throw new Error('--topic is required');
  return {
    topic: v.topic, brokers: v.brokers, rate: positiveArg('rate', v.rate), durationS: positiveArg('duration', v.duration), warmupS: numArg('warmup', v.warmup, 0),
    mode: choiceArg('mode', v.mode, ['keyed', 'one-partition', 'none']), linger: numArg('linger', v.linger, 0), compression: v.compression,
    pollMs: numArg('poll-ms', v['poll-ms'], 0), users: numArg('users', v.users, 1, true),
  };
});
const { rate, durationS, warmupS, mode, users } = a;

/** CPU ticks per thread name (the main thread is "main"), from /proc/self/task. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const name = Number(tid) === process.pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + Number(f[11]) + Number(f[12]));
  }
  return out;
}

const value = Buffer.alloc(700, 7);
const producer = mode === 'none' ? null : await DeliveryProducer.connect({
  brokers: a.brokers, clientId: 'bench-produce-probe', log: createLogger('probe', 'warn'), pollIntervalMs: a.pollMs,
  config: { 'enable.idempotence': true, acks: -1, 'linger.ms': a.linger, 'compression.codec': a.compression, 'message.timeout.ms': 10_000, 'queue.buffering.max.messages': 1_000_000, ...kafkaSecurityProperties(stackConfig) },
});
const send: (key: string) => Promise<void> =
  producer === null ? () => new Promise((resolve) => setTimeout(resolve, 5))
  : mode === 'one-partition' ? (key) => producer.produceTo(a.topic, 0, key, value)
  : (key) => producer.produce(a.topic, key, value);

const hist = new Histogram();
const total = Math.round(rate * (warmupS + durationS));
const warm = Math.round(rate * warmupS);
let failed = 0;
let settled = 0;
let cpu0 = process.cpuUsage();
let threads0 = threadTicks();
const t0 = performance.now();
await new Promise<void>((resolve) => {
  let i = 0;
  const fire = (n: number, scheduled: number): void => {
    send(`user-${n % users}`).then(
      () => n >= warm && hist.record((performance.now() - scheduled) * 1000),
      () => void failed++,
    ).finally(() => ++settled === total && resolve());
  };
  const tick = (): void => {
    const now = performance.now();
    for (; i < total && t0 + (i * 1000) / rate <= now; i++) {
      if (i === warm) {
        cpu0 = process.cpuUsage();
        threads0 = threadTicks();
      }
      fire(i, t0 + (i * 1000) / rate);
    }
    if (i < total) setTimeout(tick, 1);
  };
  tick();
});
const cpu = process.cpuUsage(cpu0);
const threads1 = threadTicks();
const measured = total - warm;
const perThread: Record<string, number> = {};
for (const [name, ticks] of threads1) {
  const us = ((ticks - (threads0.get(name) ?? 0)) * 10_000) / measured;
  if (us >= 0.5) perThread[name] = Math.round(us * 10) / 10;
}
await producer?.disconnect();
process.stdout.write(`${JSON.stringify({
  mode, rate, records: measured, failed,
  cpuUsPerRecord: Math.round(((cpu.user + cpu.system) / measured) * 10) / 10,
  systemUsPerRecord: Math.round((cpu.system / measured) * 10) / 10,
  threadUsPerRecord: perThread,
  latencyMs: { p50: hist.percentile(50) / 1000, p99: hist.percentile(99) / 1000, max: hist.max / 1000 },
})}\n`);
process.exit(0);
