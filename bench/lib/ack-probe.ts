/**
 * A side probe of the broker's responsiveness during a run: one small record every `intervalMs` to a
 * scratch topic, produced like the edge produces (idempotent, acks=all), timing each until its ack.
 * When the pipeline's transactions load the broker, this shows how long an edge's publish waits.
 */
import type { Kafka } from '../../processors/runtime/kafka.js';
import { percentiles, type Percentiles } from './results.js';

export interface AckProbe {
  /** Stops probing and returns the ack latencies (ms) seen since start. */
  stop(): Promise<Percentiles | null>;
}

export async function startAckProbe(kafka: Kafka, topic: string, intervalMs = 50): Promise<AckProbe> {
  const producer = kafka.producer({ 'enable.idempotence': true, acks: -1, 'linger.ms': 0 });
  await producer.connect();
  const samples: number[] = [];
  const pending = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const t = performance.now();
    const p = producer.send({ topic, messages: [{ key: null, value: Buffer.from('probe') }] }).then(
      () => void samples.push(Math.round((performance.now() - t) * 10) / 10),
      () => undefined,
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
      await producer.disconnect().catch(() => undefined);
      return percentiles(samples);
    },
  };
}
