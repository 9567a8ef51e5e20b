/**
 * The last line of defence that bounds a scenario in time: every step has its own timeout, but if the
 * run as a whole outlives `maxMs` (a broker call that never answers, say), the watchdog names the step
 * it was in, runs the cleanup (stop children, delete the run's topics) with a bound of its own, and exits.
 */
import type { Logger } from 'pino';

const CLEANUP_BOUND_MS = 60_000;

export interface Watchdog {
  /** Names the step now running (for the message if the watchdog fires). */
  step(name: string): void;
  stop(): void;
}

export function startWatchdog(maxMs: number, log: Logger, cleanup: () => Promise<unknown>): Watchdog {
  let current = 'start';
  const timer = setTimeout(() => {
    log.error({ step: current, maxMs }, 'watchdog: the run exceeded its time bound; cleaning up and exiting');
    const bound = setTimeout(() => process.exit(3), CLEANUP_BOUND_MS);
    void cleanup().finally(() => {
      clearTimeout(bound);
      process.exit(3);
    });
  }, maxMs);
  timer.unref();
  return {
    step(name) {
      current = name;
      log.info({ step: name }, 'step');
    },
    stop: () => clearTimeout(timer),
  };
}
