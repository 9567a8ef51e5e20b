/**
 * Test support for the tests that run edge -> enrich -> bid -> auction as real processes on topics of their
 * own (processors/pipeline.int.test.ts, processors/request-trace.int.test.ts): the topic names, their
 * creation, the processors' variables and an OpenRTB request body. Not used by production code.
 */
import { randomUUID } from 'node:crypto';
import type { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor } from '../../schemas/topics.js';
import { ensureTopics, type Kafka } from '../runtime/kafka.js';

export interface DecisionTopics { req: string; enr: string; bids: string; out: string; camps: string }

/** `<prefix>-req-<run>`, `-enr-`, `-bids-`, `-out-` and `-camps-`. */
export const decisionTopics = (prefix: string, run: string): DecisionTopics =>
  ({ req: `${prefix}-req-${run}`, enr: `${prefix}-enr-${run}`, bids: `${prefix}-bids-${run}`, out: `${prefix}-out-${run}`, camps: `${prefix}-camps-${run}` });

/** Creates the topics (4 partitions; campaigns compacted, 1 partition) and registers the campaign schema. */
export async function createDecisionTopics(kafka: Kafka, codec: AvroCodec, T: DecisionTopics): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    ...[T.req, T.enr, T.bids, T.out].map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })),
    { topic: T.camps, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  await admin.disconnect();
  await codec.register(subjectFor(T.camps), loadSchema('campaign.avsc'));
}

/** A processor's variables: instance `instance`, 4 partitions, batches of at most 100, named `<name>-<run>`. */
export const processorEnv = (run: string, name: string, instance = 'a'): Record<string, string> =>
  ({ PROCESSOR_INSTANCE_ID: instance, TOPIC_PARTITIONS: '4', PROCESSOR_MAX_BATCH: '100', [`${name.toUpperCase()}_NAME`]: `${name}-${run}` });

/** An OpenRTB request body: one 300x250 banner at a 0.5 floor, a news site, a US device, user `userId`. */
export const ortbRequest = (userId: string, tmax: number, over: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.5 }],
  site: { domain: 'news.example.com', cat: ['IAB17'] },
  device: { ip: '192.0.2.1', devicetype: 2, geo: { country: 'USA' } },
  user: { id: userId },
  tmax,
  ...over,
});
