/**
 * Test support: a private redis-server on a free loopback port, so a test can hang it (SIGSTOP) or kill
 * it without touching the shared stack's Redis. Not used by production code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort } from './spawn-service.js';
import { waitFor } from './wait.js';

export interface ThrowawayRedis {
  url: string;
  child: ChildProcess;
  /** Freezes the server (the socket stays open, nothing answers) / lets it run again. */
  hang(): void;
  resume(): void;
  /** Kills the server (also when frozen) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface ThrowawayRedisOptions {
  /** requirepass: clients must authenticate with it. */
  password?: string;
  /** Serve TLS only (rediss://) with this PEM certificate and key; `ca` signed the certificate. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

/** @param port default: a free one (give one to restart a server where a client expects it) */
export async function startThrowawayRedis(port?: number, bin = '/usr/bin/redis-server', opts: ThrowawayRedisOptions = {}): Promise<ThrowawayRedis> {
  port ??= await freePort();
  const args = opts.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.certFile, '--tls-key-file', opts.tls.keyFile, '--tls-ca-cert-file', opts.tls.caFile, '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  if (opts.password !== undefined) args.push('--requirepass', opts.password);
  const child = spawn(bin, [...args, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`;
  const probe = new Redis(url, {
    lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null,
    ...(opts.password === undefined ? {} : { password: opts.password }),
    ...(opts.tls ? { tls: { ca: readFileSync(opts.tls.caFile) } } : {}),
  });
  probe.on('error', () => undefined);
  try {
    await waitFor(async () => {
      const up = await probe.connect().then(() => probe.ping(), () => null);
      if (up === 'PONG') return true;
      probe.disconnect();
      if (child.exitCode !== null) throw new Error('redis-server exited');
      return false;
    }, { what: 'redis-server', timeoutMs: 10_000, intervalMs: 50 });
  } catch {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  }
  probe.disconnect();
  return {
    url,
    child,
    hang: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
