/**
 * Runs every project service (deploy/services.ts) as a child process in the foreground, like
 * `docker compose up`: their JSON logs go to stdout; SIGINT/SIGTERM stops them gracefully; if one
 * exits on its own, the others are stopped and the exit code is non-zero.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { projectServices } from './services.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const children = new Map<string, ChildProcess>();
let stopping = false;
let exitCode = 0;

function stopAll(): void {
  stopping = true;
  for (const c of children.values()) if (c.exitCode === null) c.kill('SIGTERM');
}

for (const svc of projectServices) {
  const env = svc.httpPort === undefined ? process.env : { PROCESSOR_HTTP_PORT: String(svc.httpPort), ...process.env };
  const child = spawn(process.execPath, ['--import', 'tsx', svc.entry], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env });
  children.set(svc.name, child);
  child.on('exit', (code, signal) => {
    children.delete(svc.name);
    if (!stopping) {
      process.stderr.write(`[run-services] ${svc.name} exited (${signal ?? code}); stopping the others\n`);
      exitCode = 1;
      stopAll();
    }
    if (children.size === 0) process.exit(exitCode);
  });
}
process.stderr.write(`[run-services] started ${projectServices.map((s) => s.name).join(', ')}; Ctrl-C stops them (the stack stays up: npm run stack:down)\n`);
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
