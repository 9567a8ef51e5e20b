/** Test support for start.test.ts: a service on the one start-up path whose start is steered by START_FIXTURE. */
import { runService } from './start.js';

const mode = process.env.START_FIXTURE ?? 'ok';

await runService({
  name: 'fixture',
  loadConfig: () => ({ logLevel: 'info' }),
  startupDeadline: () => ({ ms: 1000, variable: 'FIXTURE_STARTUP_TIMEOUT_MS' }),
  start: async ({ step, onStartFailure }) => {
    onStartFailure(async () => void process.stdout.write('released\n'));
    step('connect');
    if (mode === 'fail') throw new Error('nothing to connect to');
    if (mode === 'hang') await new Promise(() => setInterval(() => undefined, 1000));
    return {
      health: { host: '127.0.0.1', port: 0, portVariable: 'FIXTURE_HTTP_PORT', ready: () => ({ ready: true }) },
      started: { msg: 'fixture started', fields: { answer: 42 } },
      stopping: { msg: 'stopping: fixture', fields: () => ({ inFlight: 0 }) },
      stop: async () => void (await new Promise((r) => setTimeout(r, 200))),
      stopped: 'fixture stopped',
    };
  },
});
