/** A processor whose start-up cannot finish (a schema registry that accepts connections and never answers) exits 1 naming the step, instead of living on unready. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { spawnService } from '../testing/spawn-service.js';
import { createKafka } from './kafka.js';
import { createLogger } from './logger.js';
import { loadConfig, commonSpecs } from '../../schemas/config.js';

test('service start-up: a step that never finishes ends in exit 1 naming it, within PROCESSOR_STARTUP_TIMEOUT_MS', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => void sockets.add(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const run = randomUUID().slice(0, 8);
  t.after(async () => {
    for (const s of sockets) s.destroy();
    silent.close();
    const admin = createKafka({ brokers: loadConfig(commonSpecs).kafkaBrokers, clientId: 'startup-test', log: createLogger('test', 'silent') }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`st-in-${run}`, `st-out-${run}`] }).catch(() => undefined);
    await admin.disconnect();
  });
  const registryUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  await assert.rejects(
    spawnService('processors/passthrough/main.ts', 'PROCESSOR_HTTP_PORT', {
      PASSTHROUGH_NAME: `st-${run}`, PASSTHROUGH_INPUT: `st-in-${run}`, PASSTHROUGH_OUTPUT: `st-out-${run}`,
      SCHEMA_REGISTRY_URL: registryUrl, PROCESSOR_STARTUP_TIMEOUT_MS: '3000', LOG_LEVEL: 'info',
    }, 60_000),
    (err: Error) => {
      assert.match(err.message, /exited with code 1/);
      assert.match(err.message, /did not finish start-up step 'schemas'/);
      return true;
    },
  );
});
