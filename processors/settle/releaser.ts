/**
 * The periodic releaser of the settle service: every `everyMs`, reservations pending for longer than
 * `afterMs` (never won: no WIN or BILLING notice came) are released, giving their spend and frequency
 * count back. Runs never overlap; a failed run is logged and counted, and the next one tries again.
 * Any number of settle instances may run it at once: each reservation is released exactly once.
 */
import type { Logger } from '../runtime/logger.js';
import type { ReleaseCounts } from './reservations.js';

export interface ReleaserOptions {
  readonly everyMs: number;
  readonly afterMs: number;
  /** Releases everything reserved before the cutoff (PendingReservations.releaseBefore). */
  readonly release: (cutoffMs: number) => Promise<ReleaseCounts>;
  readonly log: Logger;
  readonly onRun?: (counts: ReleaseCounts | null, err?: unknown) => void;
  readonly now?: () => number;
}

export interface Releaser {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function startReleaser(opts: ReleaserOptions): Releaser {
  const now = opts.now ?? Date.now;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const run = async (): Promise<void> => {
    try {
      const counts = await opts.release(now() - opts.afterMs);
      opts.onRun?.(counts);
      if (counts.released > 0 || counts.invalid > 0) opts.log.debug(counts, 'released reservations never won');
    } catch (err) {
      opts.onRun?.(null, err);
      opts.log.error({ err }, 'releasing pending reservations failed: will retry');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run().finally(() => {
        running = null;
        schedule();
      });
    }, opts.everyMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
