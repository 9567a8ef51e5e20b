/**
 * The one start-up path of every entry point (the processors, the sink, the edge, the campaign API):
 *
 *   config -> logger -> metrics registry -> start -> health server -> signals -> graceful stop
 *
 * Each main.ts calls `runService` with what is its own: how it reads its configuration and what its
 * `start` does (and, from what `start` returns, its readiness, its log lines and its graceful stop).
 * The order, the start-up deadline, the fatal line of a failed start and the exit codes are here:
 *  - start-up fails (a bad variable, a dependency that refuses): `<name> failed to start: <why>`, exit 1;
 *  - start-up does not finish within the deadline (when the service has one): exit 1 naming the step;
 *  - SIGTERM/SIGINT once started: the stopping line, the service's graceful stop, the health server
 *    closed, the stopped line, exit 0 (a second signal meanwhile is ignored; a stop that throws exits 1).
 */
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from './logger.js';
import { createRegistry } from './metrics.js';
import { startHealthServer, type ReadyState } from './health-server.js';

export interface StartContext<C> {
  readonly cfg: C;
  readonly log: Logger;
  /** The process's registry (default Node metrics, labelled with the service name), served on /metrics. */
  readonly registry: Registry;
  /** Names the start-up step now running: the deadline's fatal line names it. */
  step(name: string): void;
  /** Runs after the fatal line when start-up fails: releases what `start` had opened (best effort). */
  onStartFailure(release: () => Promise<unknown>): void;
}

export interface Running {
  /**
   * /health, /ready and /metrics answered by the health server on this address. Omitted by services that
   * answer them on a server of their own (the edge's uWS server, the campaign API).
   */
  health?: { host: string; port: number; portVariable: string; ready: () => boolean | ReadyState };
  /** The line logged once started; `port` (the health server's) is added to its fields. */
  started: { msg: string; fields?: Record<string, unknown> };
  /** The line logged when a signal arrives, with `signal` and these fields; none when omitted. */
  stopping?: { msg: string; fields?: () => Record<string, unknown> };
  /** Graceful stop: lets in-flight work finish and releases what `start` opened. */
  stop(): Promise<void>;
  /** The line logged once stopped, before exit 0; none when omitted. */
  stopped?: string;
}

export interface ServiceDefinition<C extends { readonly logLevel: string }> {
  /** The logger's and the metrics registry's service name. */
  name: string;
  loadConfig(): C;
  /** A bound on everything from the registry to a listening health server (a hang becomes an exit the supervisor restarts). */
  startupDeadline?: (cfg: C) => { ms: number; variable: string };
  start(ctx: StartContext<C>): Promise<Running>;
}

export async function runService<C extends { readonly logLevel: string }>(def: ServiceDefinition<C>): Promise<void> {
  let log = createLogger(def.name, 'info');
  const releases: Array<() => Promise<unknown>> = [];
  try {
    const cfg = def.loadConfig();
    log = createLogger(def.name, cfg.logLevel);
    let step = 'start';
    const limit = def.startupDeadline?.(cfg);
    // Every start-up step is bounded as a whole: one that never completes (a request nobody answers)
    // must end in an exit that names it, not in a process that is alive and never ready.
    const deadline = limit && setTimeout(() => {
      log.fatal({ step, timeoutMs: limit.ms }, `${def.name} did not finish start-up step '${step}' within ${limit.variable} (${limit.ms} ms): exiting`);
      process.exit(1);
    }, limit.ms);
    deadline?.unref();
    const registry = createRegistry(def.name);
    const running = await def.start({ cfg, log, registry, step: (name) => void (step = name), onStartFailure: (release) => void releases.push(release) });
    let health: Server | undefined;
    let port: unknown;
    if (running.health) {
      step = 'health server';
      const h = running.health;
      health = await startHealthServer({ host: h.host, port: h.port, portVariable: h.portVariable, registry, isReady: h.ready });
      const address = health.address();
      port = typeof address === 'object' ? address?.port : address;
    }
    clearTimeout(deadline);
    log.info({ ...running.started.fields, ...(health ? { port } : {}) }, running.started.msg);
    let stopping = false;
    const stop = async (signal: string): Promise<void> => {
      if (stopping) return;
      stopping = true;
      if (running.stopping) log.info({ signal, ...running.stopping.fields?.() }, running.stopping.msg);
      try {
        await running.stop();
      } catch (err) {
        log.fatal({ err }, `${def.name} did not stop cleanly: ${(err as Error).message}`);
        process.exit(1);
      }
      health?.close();
      if (running.stopped) log.info(running.stopped);
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  } catch (err) {
    log.fatal({ err }, `${def.name} failed to start: ${(err as Error).message}`);
    for (const release of releases) await release().catch(() => undefined);
    process.exit(1);
  }
}
