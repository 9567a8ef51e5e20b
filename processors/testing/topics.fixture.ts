/**
 * Test support: a Kafka client on the local stack for a test file, and the topics it creates, deleted when
 * the file's tests are done (`created.push(topic)`). Not used by production code.
 */
import { after } from 'node:test';
import { commonSpecs, loadConfig } from '../../schemas/config.js';
import { createKafka } from '../runtime/kafka.js';
import { createLogger } from '../runtime/logger.js';

export function topicsFixture(clientId: string) {
  const cfg = loadConfig(commonSpecs);
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId, log: createLogger('test', 'silent'), security: cfg });
  const created: string[] = [];
  after(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
  });
  return { cfg, kafka, created };
}
