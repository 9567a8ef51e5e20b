/**
 * CPU accounting from /proc (elsewhere every reading is null): process groups, single processes, the Postgres server, the
 * whole machine. On a shared machine a rate alone cannot tell "slow code" from "starved of CPU"; CPU-seconds can.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ, the unit of /proc times. */
const TICKS_PER_SECOND = 100;

function procPids(): string[] | null {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
}

/** A process's (every thread's) or, for `self/task/<tid>`, a thread's name, parent, group and CPU seconds (user + system); null when gone. */
export function procStat(pid: number | string): { name: string; ppid: number; pgrp: number; cpuSec: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // the name may contain spaces and parentheses
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ppid: Number(f[1]), pgrp: Number(f[2]), cpuSec: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND };
  } catch {
    return null; // exited meanwhile
  }
}

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

export type CpuSubject = { pgid: number } | { pid: number };

export interface CpuSnapshot {
  at: number;
  ticks: { busy: number; total: number } | null;
  seconds: Record<string, number | null>;
  pg?: Map<number, number> | null;
}

let postmaster: number | undefined | null = null;

/**
 * CPU seconds so far of each subject and, with `postgres`, per pid of the postmaster and its children (backends lead their
 * own groups; one that exits meanwhile is lost, but the bench's and the sink's connections stay open).
 */
export function snapshotCpu(subjects: Readonly<Record<string, CpuSubject>>, postgres = false): CpuSnapshot {
  const pids = procPids();
  const stats = new Map((pids ?? []).map((d) => [Number(d), procStat(d)] as const));
  const group = (pgid: number): number | null => pids && [...stats.values()].reduce((sec, st) => (st?.pgrp === pgid ? sec + st.cpuSec : sec), 0);
  const one = (s: CpuSubject): number | null => ('pgid' in s ? group(s.pgid) : (stats.get(s.pid) ?? procStat(s.pid))?.cpuSec ?? null);
  const seconds = Object.fromEntries(Object.entries(subjects).map(([k, s]) => [k, one(s)]));
  if (!postgres) return { at: performance.now(), ticks: machineTicks(), seconds };
  if (postmaster === null) postmaster = findPid(/^\S*\/postgres\s+-D\s/);
  const ofPostgres = ([pid, st]: [number, ReturnType<typeof procStat>]): boolean => !!st && (pid === postmaster || st.ppid === postmaster);
  const pg = postmaster === undefined || !pids ? null : new Map([...stats].filter(ofPostgres).map(([pid, st]) => [pid, st!.cpuSec]));
  return { at: performance.now(), ticks: machineTicks(), seconds, pg };
}

const delta = (a: CpuSnapshot, b: CpuSnapshot, key: string): number | null =>
  a.seconds[key] == null || b.seconds[key] == null ? null : b.seconds[key]! - a.seconds[key]!;

export function cpuSeconds(a: CpuSnapshot, b: CpuSnapshot, key: string): number | null {
  const d = delta(a, b, key);
  return d === null ? null : Math.round(d * 100) / 100;
}

/** Per subject (and `postgres`), shares of one core between two snapshots; `machine`: of all cores. */
export function cpuShares(a: CpuSnapshot, b: CpuSnapshot): Record<string, number | null> {
  const wall = (b.at - a.at) / 1000;
  const r = (v: number | null): number | null => (v === null || wall <= 0 ? null : Math.round((v / wall) * 100) / 100);
  const busy = a.ticks && b.ticks && b.ticks.total > a.ticks.total ? (b.ticks.busy - a.ticks.busy) / (b.ticks.total - a.ticks.total) : null;
  const out: Record<string, number | null> = { machine: busy === null ? null : Math.round(busy * 100) / 100 };
  for (const k of Object.keys(a.seconds)) out[k] = r(delta(a, b, k));
  if (a.pg !== undefined) out.postgres = r(a.pg && b.pg ? [...b.pg].reduce((s, [pid, sec]) => s + sec - (a.pg!.get(pid) ?? 0), 0) : null);
  return out;
}

/** The stack's Kafka broker and Redis: they compete with the services for the same cores. */
export function stackCpuSubjects(): Record<string, CpuSubject> {
  const [kafka, redis] = [findPid(/kafka\.Kafka /), findPid(/^\S*redis-server /)];
  return { ...(kafka !== undefined ? { kafka: { pid: kafka } } : {}), ...(redis !== undefined ? { redis: { pid: redis } } : {}) };
}
