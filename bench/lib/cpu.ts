/**
 * CPU accounting from /proc (Linux; elsewhere every reading is null): the CPU time of a process group
 * (a service and anything it forked) and how busy the whole machine was. On a shared machine a rate
 * alone cannot tell "slow code" from "starved of CPU"; records per CPU-second and the machine's
 * utilisation in the same window can.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: the unit of /proc times. 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** The numeric entries of /proc (process ids), or null where /proc is unreadable. */
export function procPids(): string[] | null {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
}

/** A process's parent, group and CPU seconds so far (user + system, every thread); null when it is gone. */
export function procStat(pid: number | string): { ppid: number; pgrp: number; cpuSec: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state ppid pgrp ... utime(14) stime(15).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), pgrp: Number(f[2]), cpuSec: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND };
  } catch {
    return null; // exited meanwhile
  }
}

/** CPU seconds (user + system) used so far by every live process in group `pgid`; null when /proc is unreadable. */
export function groupCpuSeconds(pgid: number): number | null {
  const pids = procPids();
  if (!pids) return null;
  let sec = 0;
  for (const d of pids) {
    const st = procStat(d);
    if (st?.pgrp === pgid) sec += st.cpuSec;
  }
  return sec;
}

export interface MachineTicks {
  busy: number;
  total: number;
}

/** Aggregate CPU ticks of the machine (all cores) from /proc/stat; null when unreadable. */
export function machineTicks(): MachineTicks | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Share of all cores busy between two readings, 0..1 (null if either is missing). */
export function busyShare(a: MachineTicks | null, b: MachineTicks | null): number | null {
  if (!a || !b || b.total <= a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

/** CPU seconds (user + system, all threads) of one process; null when it is gone or /proc is unreadable. */
export const pidCpuSeconds = (pid: number): number | null => procStat(pid)?.cpuSec ?? null;

/** The first process whose command line matches `re` (e.g. the Kafka broker), or undefined. Read-only. */
export function findPid(re: RegExp): number | undefined {
  for (const d of procPids() ?? []) {
    try {
      if (re.test(readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '))) return Number(d);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** What to watch: a process group (a bench-started service) or a single process (a stack server). */
export type CpuSubject = { pgid: number } | { pid: number };

export interface CpuSnapshot {
  at: number;
  ticks: MachineTicks | null;
  seconds: Record<string, number | null>;
}

export function snapshotCpu(subjects: Readonly<Record<string, CpuSubject>>): CpuSnapshot {
  const seconds = Object.fromEntries(Object.entries(subjects).map(([k, s]) => [k, 'pgid' in s ? groupCpuSeconds(s.pgid) : pidCpuSeconds(s.pid)]));
  return { at: performance.now(), ticks: machineTicks(), seconds };
}

/** Per subject, CPU used between two snapshots as a share of one core; `machine` is the share of all cores busy. */
export function cpuShares(a: CpuSnapshot, b: CpuSnapshot): Record<string, number | null> {
  const wall = (b.at - a.at) / 1000;
  const r = (v: number): number => Math.round(v * 100) / 100;
  const machine = busyShare(a.ticks, b.ticks);
  const out: Record<string, number | null> = { machine: machine === null ? null : r(machine) };
  for (const [k, before] of Object.entries(a.seconds)) {
    const after = b.seconds[k];
    out[k] = before !== null && after != null && wall > 0 ? r((after - before) / wall) : null;
  }
  return out;
}

/** The local stack's Kafka broker and Redis, when found: they compete with the services for the same cores. */
export function stackCpuSubjects(): Record<string, CpuSubject> {
  const out: Record<string, CpuSubject> = {};
  const kafka = findPid(/kafka\.Kafka /);
  const redis = findPid(/^\S*redis-server /);
  if (kafka !== undefined) out.kafka = { pid: kafka };
  if (redis !== undefined) out.redis = { pid: redis };
  return out;
}

/**
 * CPU of the local PostgreSQL server: the postmaster and every backend it forked. Backends each lead their own
 * process group, so group accounting cannot see them; a snapshot keeps per-pid totals, and a difference counts a
 * backend that appeared meanwhile in full (one that exited meanwhile is lost: the bench's and the sink's connections stay open).
 */
export interface PgCpu {
  /** CPU seconds used between `earlier` and this snapshot (null when /proc or the postmaster was not found). */
  minus(earlier: PgCpu): number | null;
  readonly perPid: ReadonlyMap<number, number> | null;
}

let postmaster: number | undefined | null = null;

export function postgresCpu(): PgCpu {
  if (postmaster === null) postmaster = findPid(/^\S*\/postgres\s+-D\s/);
  const pids = procPids();
  let perPid: Map<number, number> | null = null;
  if (postmaster !== undefined && pids) {
    perPid = new Map();
    for (const d of pids) {
      const st = procStat(d);
      if (st && (Number(d) === postmaster || st.ppid === postmaster)) perPid.set(Number(d), st.cpuSec);
    }
  }
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
