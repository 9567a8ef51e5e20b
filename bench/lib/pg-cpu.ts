/**
 * CPU of the local PostgreSQL server from /proc (read-only): the postmaster and every backend it forked.
 * Backends each lead their own process group, so cpu.ts's process-group accounting cannot see them; here
 * each snapshot keeps per-pid totals, and a difference counts a backend that appeared meanwhile in full
 * (a backend that exited meanwhile is lost: the bench's and the sink's connections stay open).
 */
import { findPid, procPids, procStat } from './cpu.js';

export interface PgCpu {
  /** CPU seconds used between `earlier` and this snapshot (null when /proc or the postmaster was not found). */
  minus(earlier: PgCpu): number | null;
  readonly perPid: ReadonlyMap<number, number> | null;
}

let postmaster: number | undefined | null = null;

function snapshot(perPid: Map<number, number> | null): PgCpu {
  return {
    perPid,
    minus(earlier) {
      if (!perPid || !earlier.perPid) return null;
      let s = 0;
      for (const [pid, sec] of perPid) s += sec - (earlier.perPid.get(pid) ?? 0);
      return Math.round(s * 100) / 100;
    },
  };
}

export function postgresCpu(): PgCpu {
  if (postmaster === null) postmaster = findPid(/^\S*\/postgres\s+-D\s/);
  const pids = procPids();
  if (postmaster === undefined || !pids) return snapshot(null);
  const out = new Map<number, number>();
  for (const d of pids) {
    const st = procStat(d);
    if (st && (Number(d) === postmaster || st.ppid === postmaster)) out.set(Number(d), st.cpuSec);
  }
  return snapshot(out);
}
