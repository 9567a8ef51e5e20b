/**
 * Test support: a Kafka client on the local stack for a test file, an admin client made from it when first
 * asked for, and the topics it creates, deleted when the file's tests are done (`created.push(topic)`).
 * Not used by production code.
 */
import { after } from 'node:test';
import { commonSpecs, loadConfig } from './config.js';
import { createKafka, type Admin } from './kafka.js';
import { createLogger } from './logger.js';

export function topicsFixture(clientId: string) {
  const cfg = loadConfig(commonSpecs);
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId, log: createLogger('test', 'silent'), security: cfg });
  const created: string[] = [];
  let connected: Promise<Admin> | undefined;
  const admin = (): Promise<Admin> =>
    (connected ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })());
  after(async () => {
    const a = await admin();
    await a.deleteTopics({ topics: created }).catch(() => undefined);
    await a.disconnect();
  });
  return { cfg, kafka, admin, created };
}
