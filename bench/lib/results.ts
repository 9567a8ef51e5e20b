/**
 * The one results module of the benchmarks: what heads every result (date, machine and its load, the command,
 * the commit measured), the helpers of the figures (median, percentiles, shares, markdown tables), and writing
 * `bench/results/<YYYY-MM-DD>-<name>.md` (for people), `.json` (for tools) and, where there is a plot, `.svg`
 * (drawn by lib/svg-chart.ts). The same day overwrites.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hasTaskset, ROOT } from './services.js';

export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

export interface Machine {
  nproc: number;
  totalMemoryGiB: number;
  cpuModel: string;
  node: string;
  pinned: boolean;
  /** 1/5/15-minute load averages at the start: other work on the machine skews results. */
  loadAvg: number[];
}

export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

export function machineInfo(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: keep what os.cpus() says
  }
  return { nproc: os.availableParallelism(), totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, cpuModel, node: process.version, pinned: hasTaskset(), loadAvg: loadAverage() };
}

/**
 * The code that was measured: the commit, and whether the measured parts (processors, ingest, schemas, sink)
 * had uncommitted changes. Results from different commits are not comparable.
 */
export function codeVersion(): string {
  const git = (...args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('log', '-1', '--format=%h %cI %s');
  if (!head) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'processors', 'ingest', 'schemas', 'sink').split('\n').filter(Boolean).length;
  return `${head}${dirty ? ` (+${dirty} uncommitted changes under processors/ingest/schemas/sink)` : ''}`;
}

/** This process's command line as a person would type it. */
export const commandLine = (): string => ['node', ...process.execArgv, path.relative(process.cwd(), process.argv[1] ?? ''), ...process.argv.slice(2)].join(' ');

/** What heads every result: date (UTC, the run's start), machine, command, and the settings with the commit measured (`code`). */
export interface ResultHead {
  date: string;
  machine: Machine;
  command: string;
  settings: Record<string, unknown>;
}

export const resultHead = (settings: Record<string, unknown>): ResultHead =>
  ({ date: new Date().toISOString(), machine: machineInfo(), command: commandLine(), settings: { ...settings, code: codeVersion() } });

/** A markdown document: the title with the day, the head's lines, `extra` head lines, the body, and the notes when there are any. */
export function document(title: string, h: ResultHead, extra: string[], body: string[], notes: readonly string[] = []): string {
  const m = h.machine;
  return [
    `# ${title}, ${h.date.slice(0, 10)}`, '',
    `- Date (UTC): ${h.date}`,
    `- Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.totalMemoryGiB} GiB RAM, Node ${m.node}`,
    `- Load average at start (1/5/15 min): ${m.loadAvg.join(' / ')}`,
    `- Pinning (taskset): ${m.pinned ? 'available' : 'not available: nothing pinned'}`,
    `- Command: \`${h.command}\``,
    `- Settings: ${Object.entries(h.settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`,
    ...extra, '', ...body, '',
    ...(notes.length ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

/** `## title`, then the lines, then a blank line. */
export const section = (title: string, ...lines: string[]): string[] => [`## ${title}`, '', ...lines, ''];

/** An object as a fenced JSON block (the summary at the top of a report). */
export const jsonBlock = (v: unknown): string[] => ['```json', JSON.stringify(v, null, 2), '```'];

/** Lines as a markdown list. */
export const bullets = (lines: readonly string[]): string[] => lines.map((l) => `- ${l}`);

/** A markdown table: columns of words (every cell starts with a letter) align left, the others right; a missing cell reads `n/a`. */
export function table(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string[] {
  const cell = (c: unknown): string => (c === null || c === undefined ? 'n/a' : String(c));
  const words = (i: number): boolean => rows.length > 0 && rows.every((r) => cell(r[i]) === '' || /^[A-Za-z]/.test(cell(r[i])));
  const line = (cells: readonly unknown[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(columns), `|${columns.map((_, i) => (words(i) ? '---' : '---:')).join('|')}|`, ...rows.map(line)];
}

/** A number for a table (`digits` fixed decimals when given); `n/a` for none. */
export const fmt = (v: number | null | undefined, digits?: number): string => (v === null || v === undefined ? 'n/a' : digits ? v.toFixed(digits) : String(v));

/** A share (0..1) as a whole percentage; `missing` for null. */
export const percent = (share: number | null | undefined, missing = 'n/a'): string => (share == null ? missing : `${Math.round(share * 100)}%`);

/** The median of the non-null values (null when none); an even count averages the middle two, rounded unless `round` is false. */
export function median(values: ReadonlyArray<number | null>, round = true): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  if (v.length % 2) return v[(v.length - 1) / 2]!;
  const mean = (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return round ? Math.round(mean) : mean;
}

/** a / b to three decimals; null without both. */
export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a != null && b ? Math.round((a / b) * 1000) / 1000 : null);

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of a sample; null for none. */
export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
  return { count: v.length, p50: at(50), p95: at(95), p99: at(99), max: v[v.length - 1]! };
}

/** Writes `<dir>/<YYYY-MM-DD>-<name>.md`, `.json` and, when given, `.svg`; returns their paths. */
export async function writeResults<R extends { date: string }>(dir: string, name: string, r: R, markdown: string, svg?: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${r.date.slice(0, 10)}-${name}`);
  await writeFile(`${base}.md`, markdown);
  await writeFile(`${base}.json`, `${JSON.stringify(r, null, 2)}\n`);
  if (svg !== undefined) await writeFile(`${base}.svg`, svg);
  return [`${base}.md`, `${base}.json`, ...(svg !== undefined ? [`${base}.svg`] : [])];
}
