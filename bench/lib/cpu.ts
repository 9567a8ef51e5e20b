/**
 * CPU accounting from /proc (Linux; elsewhere every reading is null), read-only: the CPU time of a process group
 * (a service and anything it forked), of a single process (a stack server), of the local Postgres server (the
 * postmaster and its backends), and how busy the whole machine was. On a shared machine a rate alone cannot tell
 * "slow code" from "starved of CPU"; records per CPU-second and the machine's utilisation in the same window can.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: the unit of /proc times. 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

/** The numeric entries of /proc (process ids), or null where /proc is unreadable. */
function procPids(): string[] | null {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
}

/** A process's parent, group and CPU seconds so far (user + system, every thread); null when it is gone. */
function procStat(pid: number | string): { ppid: number; pgrp: number; cpuSec: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): state ppid pgrp ... utime(14) stime(15).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), pgrp: Number(f[2]), cpuSec: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND };
  } catch {
    return null; // exited meanwhile
  }
}

/** CPU seconds (user + system) so far of every live process in group `pgid`; null when /proc is unreadable. */
function groupCpuSeconds(pgid: number): number | null {
  const pids = procPids();
  return pids && pids.reduce((sec, d) => { const st = procStat(d); return st?.pgrp === pgid ? sec + st.cpuSec : sec; }, 0);
}

/** Busy and total CPU ticks of the machine (all cores) from /proc/stat; null when unreadable. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const v = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return null;
  }
}

/** The first process whose command line matches `re` (e.g. the Kafka broker), or undefined. */
function findPid(re: RegExp): number | undefined {
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
  ticks: { busy: number; total: number } | null;
  seconds: Record<string, number | null>;
}

export function snapshotCpu(subjects: Readonly<Record<string, CpuSubject>>): CpuSnapshot {
  const seconds = Object.fromEntries(Object.entries(subjects).map(([k, s]) => [k, 'pgid' in s ? groupCpuSeconds(s.pgid) : (procStat(s.pid)?.cpuSec ?? null)]));
  return { at: performance.now(), ticks: machineTicks(), seconds };
}

/** Per subject, CPU used between two snapshots as a share of one core; `machine` is the share of all cores busy. */
export function cpuShares(a: CpuSnapshot, b: CpuSnapshot): Record<string, number | null> {
  const wall = (b.at - a.at) / 1000;
  const r = (v: number): number => Math.round(v * 100) / 100;
  const out: Record<string, number | null> = { machine: a.ticks && b.ticks && b.ticks.total > a.ticks.total ? r((b.ticks.busy - a.ticks.busy) / (b.ticks.total - a.ticks.total)) : null };
  for (const [k, before] of Object.entries(a.seconds)) {
    const after = b.seconds[k];
    out[k] = before !== null && after != null && wall > 0 ? r((after - before) / wall) : null;
  }
  return out;
}

/** The local stack's Kafka broker and Redis, when found: they compete with the services for the same cores. */
export function stackCpuSubjects(): Record<string, CpuSubject> {
  const [kafka, redis] = [findPid(/kafka\.Kafka /), findPid(/^\S*redis-server /)];
  return { ...(kafka !== undefined ? { kafka: { pid: kafka } } : {}), ...(redis !== undefined ? { redis: { pid: redis } } : {}) };
}

/**
 * CPU of the local PostgreSQL server. Backends each lead their own process group, so group accounting cannot see
 * them; a snapshot keeps per-pid totals of the postmaster and its children, and a difference counts a backend that
 * appeared meanwhile in full (one that exited meanwhile is lost: the bench's and the sink's connections stay open).
 */
export interface PgCpu {
  /** CPU seconds used between `earlier` and this snapshot (null when /proc or the postmaster was not found). */
  minus(earlier: PgCpu): number | null;
  readonly perPid: ReadonlyMap<number, number> | null;
}

let postmaster: number | undefined | null = null;

export function postgresCpu(): PgCpu {
  if (postmaster === null) postmaster = findPid(/^\S*\/postgres\s+-D\s/);
  const pids = postmaster === undefined ? null : procPids();
  const perPid = pids && new Map(pids.flatMap((d) => {
    const st = procStat(d);
    return st && (Number(d) === postmaster || st.ppid === postmaster) ? [[Number(d), st.cpuSec] as const] : [];
  }));
  return {
    perPid,
    minus: (earlier) => (perPid && earlier.perPid ? Math.round([...perPid].reduce((s, [pid, sec]) => s + sec - (earlier.perPid!.get(pid) ?? 0), 0) * 100) / 100 : null),
  };
}
