/**
 * CPU of the local PostgreSQL server from /proc (read-only): the postmaster and every backend it forked.
 * Backends each lead their own process group, so cpu.ts's process-group accounting cannot see them; here
 * each snapshot keeps per-pid totals, and a difference counts a backend that appeared meanwhile in full
 * (a backend that exited meanwhile is lost: the bench's and the sink's connections stay open).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { findPid } from './cpu.js';

const TICKS_PER_SECOND = 100;

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
  if (postmaster === undefined) return snapshot(null);
  const out = new Map<number, number>();
  let dirs: string[];
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return snapshot(null);
  }
  for (const d of dirs) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(d);
      if (pid === postmaster || Number(f[1]) === postmaster) out.set(pid, (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND);
    } catch {
      // exited meanwhile
    }
  }
  return snapshot(out);
}
