/**
 * One measurement of bench/producer.ts: the edge's producer (delivery-producer.ts, the edge's settings) open loop with a
 * 700-byte value, every record awaited like a 202; prints CPU per record (process and thread) and delivery latency.
 */
import { readdirSync } from 'node:fs';
import { createLogger } from '../../processors/runtime/logger.js';
import { DeliveryProducer } from '../../processors/runtime/delivery-producer.js';
import { kafkaSecurityProperties } from '../../processors/runtime/kafka.js';
import { procStat } from './cpu.js';
import { Histogram } from './histogram.js';
import { Schedule } from './open-loop.js';
import { choice, cli, int, num, positive, required, str } from './options.js';
import { stackConfig } from './run-topics.js';

const a = cli('bench/lib/produce-probe.ts', {
  topic: required('topic'), rate: positive('8000'), duration: positive('5'), warmup: num(0, '1'),
  mode: choice(['keyed', 'one-partition', 'none'], 'keyed'), linger: num(0, '5'), compression: str('lz4'), pollMs: num(0, '1'), users: int(1, '100000'),
});

/** CPU seconds per thread name, from /proc/self/task (a thread that exited meanwhile, a tsx loader worker say, is skipped). */
function threadSeconds(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const st = procStat(`self/task/${tid}`);
    const name = Number(tid) === process.pid ? 'main' : st?.name;
    if (st && name) out.set(name, (out.get(name) ?? 0) + st.cpuSec);
  }
  return out;
}

const value = Buffer.alloc(700, 7);
const producer = a.mode === 'none' ? null : await DeliveryProducer.connect({
  brokers: stackConfig.kafkaBrokers, clientId: 'bench-produce-probe', log: createLogger('probe', 'warn'), pollIntervalMs: a.pollMs,
  config: {
    'enable.idempotence': true, acks: -1, 'linger.ms': a.linger, 'compression.codec': a.compression, 'message.timeout.ms': 10_000,
    'queue.buffering.max.messages': 1_000_000, ...kafkaSecurityProperties(stackConfig),
  },
});
const send: (key: string) => Promise<void> =
  producer === null ? () => new Promise((resolve) => setTimeout(resolve, 5))
  : a.mode === 'one-partition' ? (key) => producer.produceTo(a.topic, 0, key, value)
  : (key) => producer.produce(a.topic, key, value);

const hist = new Histogram();
const total = Math.round(a.rate * (a.warmup + a.duration));
const warm = Math.round(a.rate * a.warmup);
let [failed, settled] = [0, 0];
let [cpu0, threads0] = [process.cpuUsage(), threadSeconds()];
await new Promise<void>((resolve) => {
  new Schedule(a.rate, total, (i, scheduled) => {
    if (i === warm) [cpu0, threads0] = [process.cpuUsage(), threadSeconds()];
    send(`user-${i % a.users}`)
      .then(() => i >= warm && hist.record((performance.now() - scheduled) * 1000), () => void failed++)
      .finally(() => ++settled === total && resolve());
  });
});
const cpu = process.cpuUsage(cpu0);
const measured = total - warm;
const perThread: Record<string, number> = {};
for (const [name, sec] of threadSeconds()) {
  const us = ((sec - (threads0.get(name) ?? 0)) * 1e6) / measured;
  if (us >= 0.5) perThread[name] = Math.round(us * 10) / 10;
}
await producer?.disconnect();
const perRecord = (us: number): number => Math.round((us / measured) * 10) / 10;
process.stdout.write(`${JSON.stringify({
  mode: a.mode, rate: a.rate, records: measured, failed, cpuUsPerRecord: perRecord(cpu.user + cpu.system), systemUsPerRecord: perRecord(cpu.system),
  threadUsPerRecord: perThread, latencyMs: { p50: hist.percentile(50) / 1000, p99: hist.percentile(99) / 1000, max: hist.max / 1000 },
})}\n`);
process.exit(0);
