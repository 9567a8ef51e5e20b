/**
 * The one results module: the frame of every scenario script, what heads every result (date, machine and its load, command,
 * commit measured), median, percentiles and ratios, one markdown document shape for every report, and writing
 * `<out>/<YYYY-MM-DD>-<name>.md` (for people), `.json` (for tools) and `.svg` (lib/svg-chart.ts). The same day overwrites.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createLogger } from '../../processors/runtime/logger.js';
import { cli, firstLine, str, type Flag } from './options.js';
import { RunTopics } from './run-topics.js';
import { guard, hasTaskset, ROOT, Services } from './services.js';

const RESULTS_DIR = path.join(ROOT, 'bench', 'results');

export const loadAverage = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

function machine(): { nproc: number; totalMemoryGiB: number; cpuModel: string; node: string; pinned: boolean; loadAvg: number[] } {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: keep what os.cpus() says
  }
  const totalMemoryGiB = Math.round((os.totalmem() / 2 ** 30) * 10) / 10;
  return { nproc: os.availableParallelism(), totalMemoryGiB, cpuModel, node: process.version, pinned: hasTaskset(), loadAvg: loadAverage() };
}

/** The commit measured, and any uncommitted changes in the measured parts: results of different commits are not comparable. */
function codeVersion(): string {
  const git = (...args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('log', '-1', '--format=%h %cI %s');
  if (!head) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--', 'processors', 'ingest', 'schemas', 'sink').split('\n').filter(Boolean).length;
  return `${head}${dirty ? ` (+${dirty} uncommitted changes under processors/ingest/schemas/sink)` : ''}`;
}

export type ResultHead = ReturnType<typeof resultHead>;

export function resultHead(settings: Record<string, unknown>) {
  const command = ['node', ...process.execArgv, path.relative(process.cwd(), process.argv[1] ?? ''), ...process.argv.slice(2)].join(' ');
  return { date: new Date().toISOString(), machine: machine(), command, settings: { ...settings, code: codeVersion() } as Record<string, unknown> };
}

/** A markdown table: columns of words (every cell starts with a letter) align left, the others right; a missing cell reads `n/a`. */
export interface Table {
  columns: readonly string[];
  rows: ReadonlyArray<ReadonlyArray<unknown>>;
}

/** A paragraph, lines kept together (a list), or a table. */
export type Block = string | readonly string[] | Table;

interface Section {
  title: string;
  blocks: readonly Block[];
}

export const section = (title: string, ...blocks: Block[]): Section => ({ title, blocks });

export const table = (columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): Table => ({ columns, rows });

const cell = (c: unknown): string => (c === null || c === undefined ? 'n/a' : String(c));

function renderBlock(b: Block): string {
  if (typeof b === 'string') return b;
  if (!('columns' in b)) return b.join('\n');
  const words = (i: number): boolean => b.rows.length > 0 && b.rows.every((r) => cell(r[i]) === '' || /^[A-Za-z]/.test(cell(r[i])));
  const line = (cells: readonly unknown[]): string => `| ${cells.map(cell).join(' | ')} |`;
  return [line(b.columns), `|${b.columns.map((_, i) => (words(i) ? '---' : '---:')).join('|')}|`, ...b.rows.map(line)].join('\n');
}

/** The report: title, the head's lines and `extra` ones, the intro, one `## ` heading per section, then the notes. */
export function document(r: {
  title: string; head: ResultHead; extra?: readonly string[]; intro?: readonly Block[]; sections: readonly Section[]; notes?: readonly string[];
}): string {
  const { date, machine: m, command, settings } = r.head;
  const head = [
    `- Date (UTC): ${date}`,
    `- Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.totalMemoryGiB} GiB RAM, Node ${m.node}`,
    `- Load average at start (1/5/15 min): ${m.loadAvg.join(' / ')}`,
    `- Pinning (taskset): ${m.pinned ? 'available' : 'not available: nothing pinned'}`,
    `- Command: \`${command}\``,
    `- Settings: ${Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`,
    ...(r.extra ?? []),
  ];
  const sections = [...r.sections, ...(r.notes?.length ? [section('Notes', bullets(r.notes))] : [])];
  const blocks = [`# ${r.title}, ${date.slice(0, 10)}`, head, ...(r.intro ?? []), ...sections.flatMap((s) => [`## ${s.title}`, ...s.blocks])];
  return `${blocks.map(renderBlock).filter(Boolean).join('\n\n')}\n`;
}

export const jsonBlock = (v: unknown): string[] => ['```json', JSON.stringify(v, null, 2), '```'];

export const bullets = (lines: readonly string[]): string[] => lines.map((l) => `- ${l}`);

export const verbatim = (lines: readonly string[]): string[] => lines.map((l) => `    ${l}`);

/** A table row of a failed run: its first cells, the error's first line, blanks up to `width`. */
export const failedRow = (width: number, error: string | undefined, ...first: unknown[]): unknown[] =>
  [...first, `failed: ${firstLine(error)}`, ...Array<string>(Math.max(0, width - first.length - 1)).fill('')];

/** One target: `<what>: <value> (target <bar>): met` or `**NOT met**`. */
export const targetLine = (what: string, v: number | boolean | null, bar: string, ok: boolean): string =>
  `${what}: ${v ?? 'n/a'} (target ${bar}): ${ok ? 'met' : '**NOT met**'}`;

export function machineNotes(h: ResultHead): string[] {
  const { pinned, loadAvg, nproc } = h.machine;
  return [
    ...(pinned ? [] : ['taskset is not available: nothing was pinned.']),
    ...(loadAvg[0]! > nproc
      ? [`The 1-minute load average at the start (${loadAvg[0]}) exceeded the ${nproc} cores: other work competed for the CPU; compare ratios, not absolute rates.`]
      : []),
  ];
}

export const busyNote = (label: string, machineShare: number | null | undefined): string[] =>
  (machineShare ?? 0) > 0.9 ? [`${label}: the machine was ${percent(machineShare)} busy: the rate is bounded by the shared cores, not only by what was measured.`]
    : [];

export const fmt = (v: number | null | undefined, digits?: number): string => (v === null || v === undefined ? 'n/a' : digits ? v.toFixed(digits) : String(v));

export const percent = (share: number | null | undefined, missing = 'n/a'): string => (share == null ? missing : `${Math.round(share * 100)}%`);

/** The median of the non-null values (null when none); an even count averages the middle two, rounded unless `round` is false. */
export function median(values: ReadonlyArray<number | null>, round = true): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  if (v.length % 2) return v[(v.length - 1) / 2]!;
  const mean = (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  return round ? Math.round(mean) : mean;
}

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a != null && b ? Math.round((a / b) * 1000) / 1000 : null);

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
  return { count: v.length, p50: at(50), p95: at(95), p99: at(99), max: v[v.length - 1]! };
}

/**
 * The frame of `bench/<name>.ts`: flags (with `--out`), a logger on stderr, a run id, its services and topics; `guard` (default
 * cleanup: stop the services, remove the topics); `finish` writes the files and prints their paths with `line` as one JSON line.
 */
export function scenario<F extends Record<string, Flag<unknown>>>(name: string, flags: F) {
  const s = cli(`bench/${name}.ts`, { ...flags, out: str(RESULTS_DIR) });
  const log = pino({ name: `bench-${name}` }, pino.destination({ dest: 2, sync: true }));
  const run = randomBytes(4).toString('hex');
  const topics = new RunTopics(createLogger(`bench-${name}`, 'warn'), `bench-${name}-${run}`);
  const services = new Services({ readyTimeoutMs: Number((s as { readyTimeout?: number }).readyTimeout ?? 60) * 1000, log });
  const stopAll = async (): Promise<void> => {
    await services.stopAll();
    await topics.cleanup();
  };
  return {
    s, log, run, topics, services,
    guard: (maxMs: number, cleanup: () => Promise<unknown> = stopAll) => guard(maxMs, log, cleanup),
    async finish<R extends { date: string }>(report: R, markdown: string, line: Record<string, unknown>, svg?: string): Promise<void> {
      const files = await writeResults(s.out, name, report, markdown, svg);
      process.stdout.write(`${JSON.stringify({ files, ...line })}\n`);
    },
    main(body: () => Promise<void>): void {
      body().catch((err: unknown) => {
        log.error({ err }, `${name} scenario failed`);
        process.exitCode = 2;
      });
    },
  };
}

async function writeResults<R extends { date: string }>(dir: string, name: string, r: R, markdown: string, svg?: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, `${r.date.slice(0, 10)}-${name}`);
  const files: Array<[string, string]> = [[`${base}.md`, markdown], [`${base}.json`, `${JSON.stringify(r, null, 2)}\n`]];
  if (svg !== undefined) files.push([`${base}.svg`, svg]);
  for (const [file, text] of files) await writeFile(file, text);
  return files.map(([file]) => file);
}
