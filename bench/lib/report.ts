/**
 * The edge scenario's result file: the machine, the command line, one table per target and the
 * edge/noop ratio of sustainable throughput, written as markdown for people and JSON for tools.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { OpenLoopResult } from './open-loop.js';

/** The p99 ceiling (ms) under which a run's throughput counts as sustainable. */
export const P99_SLO_MS = 50;

export const SUSTAINABLE_DEFINITION =
  `Sustainable throughput: the highest accepted rate (2xx responses per second of the measured window) ` +
  `among the offered rates tried at which p99 latency, measured from each request's scheduled send time ` +
  `(timeouts counted at the time they were given up on), stayed under ${P99_SLO_MS} ms. ` +
  `It is bounded by the rates tried: a target that met the bound at the highest rate may sustain more, ` +
  `so if the noop baseline never missed it, the edge/noop ratio is an upper bound.`;

export interface RateRun {
  readonly rate: number;
  readonly result?: OpenLoopResult;
  readonly error?: string;
  /** CPU seconds (user + system, every thread) the target's process group used during this run, warm-up included. */
  readonly targetCpuSec?: number | null;
  /** Shares of one core used during the run by the target, the Kafka broker (when found) and `machine`: all cores busy, 0..1. */
  readonly cpuShares?: Record<string, number | null>;
}

/** Target CPU per request sent (warm-up included), microseconds; null without a CPU reading. */
export function cpuUsPerRequest(run: RateRun): number | null {
  const r = run.result;
  if (!r || run.targetCpuSec == null) return null;
  const sent = r.offeredRps * (r.durationSec + r.warmupSec);
  return sent > 0 ? Math.round((run.targetCpuSec * 1e6) / sent) : null;
}

/** Share of one core the target used during a run (CPU seconds over the run's wall time). */
function coresUsed(run: RateRun): number | null {
  const r = run.result;
  if (!r || run.targetCpuSec == null) return null;
  const wall = r.elapsedSec + r.warmupSec;
  return wall > 0 ? Math.round((run.targetCpuSec / wall) * 100) / 100 : null;
}

/**
 * CPU per request of each target at the highest offered rate that every target sustained (p99 under
 * the SLO): a throughput ratio that the load generator cannot cap. Null when no rate qualifies.
 */
export function cpuComparison(targets: TargetRuns[]): { rate: number; usPerRequest: Record<string, number> } | null {
  const ok = (run: RateRun): boolean => !!run.result && run.result.latencyMs.p99 < P99_SLO_MS && cpuUsPerRequest(run) !== null;
  const rates = targets.map((t) => new Set(t.runs.filter(ok).map((r) => r.rate)));
  const common = [...(rates[0] ?? [])].filter((rate) => rates.every((set) => set.has(rate)));
  if (targets.length === 0 || common.length === 0) return null;
  const rate = Math.max(...common);
  return { rate, usPerRequest: Object.fromEntries(targets.map((t) => [t.target, cpuUsPerRequest(t.runs.find((r) => r.rate === rate)!)!])) };
}

export interface TargetRuns {
  readonly target: string;
  readonly command: string;
  readonly url: string;
  readonly runs: RateRun[];
  error?: string;
}

export interface Machine {
  nproc: number;
  totalMemoryGiB: number;
  cpuModel: string;
  node: string;
  pinned: boolean;
  /** 1/5/15-minute load averages at the start: other work on the machine skews results. */
  loadAvg: number[];
}

export interface EdgeReport {
  date: string;
  machine: Machine;
  command: string;
  settings: Record<string, unknown>;
  targets: TargetRuns[];
  definition: string;
  sustainableRps: Record<string, number | null>;
  ratioEdgeToNoop: number | null;
  /** Target CPU per request at the highest rate both sustained, and noop/edge of it (what one core could carry). */
  cpu?: { rate: number; usPerRequest: Record<string, number>; ratioEdgeToNoop: number } | null;
}

export function machineInfo(pinned: boolean): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // not Linux: keep what os.cpus() says
  }
  return {
    nproc: os.availableParallelism(),
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel,
    node: process.version,
    pinned,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/**
 * The code that was measured: the commit, and whether the measured parts (processors, ingest, schemas)
 * had uncommitted changes. Results from different commits are not comparable.
 */
export function codeVersion(cwd: string): string {
  const git = (...args: string[]): string => spawnSync('git', args, { cwd, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('log', '-1', '--format=%h %cI %s');
  if (!head) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'processors', 'ingest', 'schemas').split('\n').filter(Boolean).length;
  return `${head}${dirty ? ` (+${dirty} uncommitted changes under processors/ingest/schemas)` : ''}`;
}

/** Highest accepted rps among runs with p99 under the SLO; null when no run qualifies. */
export function sustainableRps(runs: RateRun[]): number | null {
  let best: number | null = null;
  for (const { result } of runs) {
    if (result && result.latencyMs.p99 < P99_SLO_MS && result.ok2xx > 0) best = Math.max(best ?? 0, result.acceptedRps);
  }
  return best;
}

/** A share (0..1) as a whole percentage; `missing` for null. */
export function percent(share: number | null | undefined, missing = 'n/a'): string {
  return share == null ? missing : `${Math.round(share * 100)}%`;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function table(t: TargetRuns): string {
  const head =
    '| offered rps | accepted rps | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | non-2xx | errors | timeouts | generator lag p99 ms | target CPU (cores) | CPU µs/request | broker CPU (cores) | machine busy |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = t.runs.map(({ rate, result: r, error }) => {
    if (!r) return `| ${rate} | failed: ${(error ?? '').split('\n')[0]} |||||||||||||`;
    const l = r.latencyMs;
    const run = t.runs.find((x) => x.rate === rate)!;
    return `| ${r.offeredRps} | ${r.acceptedRps} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.p999} | ${l.max} | ${r.non2xx} | ${sum(r.errors)} | ${r.timeouts} | ${r.sendLagMs.p99} | ${coresUsed(run) ?? 'n/a'} | ${cpuUsPerRequest(run) ?? 'n/a'} | ${run.cpuShares?.['kafka'] ?? 'n/a'} | ${percent(run.cpuShares?.['machine'])} |`;
  });
  return [head, ...rows].join('\n');
}

export function renderMarkdown(r: EdgeReport): string {
  const m = r.machine;
  const parts = [
    `# Ingest edge load test, ${r.date.slice(0, 10)}`,
    '',
    `- Date (UTC): ${r.date}`,
    `- Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.totalMemoryGiB} GiB RAM, Node ${m.node}`,
    `- Load average at start (1/5/15 min): ${m.loadAvg.join(' / ')}`,
    `- Pinning: ${m.pinned ? 'target on CPU 0, load generator on CPU 1 (taskset)' : 'none (taskset not found)'}`,
    `- Command: \`${r.command}\``,
    `- Settings: ${Object.entries(r.settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`,
    '',
    'Open-loop load: requests are sent on a fixed schedule and latency is measured from the scheduled send time, ' +
      'so queueing for a connection is included (no coordinated omission). "errors" are transport failures; ' +
      '"generator lag" is how late the generator fired, a check that the generator was not the bottleneck.',
  ];
  for (const t of r.targets) {
    parts.push('', `## ${t.target}`, '', `Target command: \`${t.command}\`, URL ${t.url}`, '');
    if (t.error) parts.push(`**Target failed:** ${t.error.split('\n')[0]}`, '');
    parts.push(table(t), '', `Sustainable throughput: ${r.sustainableRps[t.target] ?? 'none'} rps`);
  }
  parts.push(
    '',
    '## Edge cost',
    '',
    SUSTAINABLE_DEFINITION,
    '',
    `Ratio edge/noop of sustainable throughput: ${r.ratioEdgeToNoop === null ? 'n/a (needs both targets)' : r.ratioEdgeToNoop}`,
    '',
    'CPU per request: the target process group\'s CPU time (every thread, librdkafka\'s included) over the requests sent, warm-up included. ' +
      'Where the noop baseline is limited by the load generator rather than by its own core, the ratio of CPU per request says what one core could carry.',
    '',
    r.cpu
      ? `At ${r.cpu.rate} rps (the highest rate both sustained): ${Object.entries(r.cpu.usPerRequest).map(([k, v]) => `${k} ${v} µs`).join(', ')} of CPU per request; ` +
        `noop/edge = ${r.cpu.ratioEdgeToNoop}.`
      : 'CPU comparison: n/a (no rate sustained by both targets with CPU readings).',
    '',
  );
  return parts.join('\n');
}

/** Writes `<dir>/<YYYY-MM-DD>-<name>.md`, `.json` and, when given, `.svg` (the same day overwrites); returns their paths. */
export async function writeResults(dir: string, date: string, name: string, markdown: string, json: unknown, svg?: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${date.slice(0, 10)}-${name}`);
  await writeFile(`${base}.md`, markdown);
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  if (svg !== undefined) await writeFile(`${base}.svg`, svg);
  return [`${base}.md`, `${base}.json`, ...(svg !== undefined ? [`${base}.svg`] : [])];
}

/** This process's command line as a person would type it (for the report). */
export function commandLine(): string {
  return ['node', ...process.execArgv, path.relative(process.cwd(), process.argv[1] ?? ''), ...process.argv.slice(2)].join(' ');
}

/** Writes `<dir>/<YYYY-MM-DD>-edge.md` and `.json`; returns their paths. */
export async function writeReport(dir: string, r: EdgeReport): Promise<string[]> {
  return writeResults(dir, r.date, 'edge', renderMarkdown(r), r);
}

/** The header lines every scenario's markdown starts with: date, machine, load, command, settings. */
export function machineLines(date: string, m: Machine, command: string, settings: Record<string, unknown>): string[] {
  return [
    `- Date (UTC): ${date}`,
    `- Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.totalMemoryGiB} GiB RAM, Node ${m.node}`,
    `- Load average at start (1/5/15 min): ${m.loadAvg.join(' / ')}`,
    `- Pinning (taskset): ${m.pinned ? 'available' : 'not available: nothing pinned'}`,
    `- Command: \`${command}\``,
    `- Settings: ${Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`,
  ];
}
