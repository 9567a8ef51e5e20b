/**
 * The one results module: the frame of every scenario script, what heads every result (date, machine and its load, command,
 * commit measured), median, percentiles and ratios, one markdown document shape for every report, and writing
 * `<out>/<YYYY-MM-DD>-<name>.md` (for people), `.json` (for tools) and `.svg` (lib/svg-chart.ts). The same day overwrites.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
  const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown'; // on Linux: /proc/cpuinfo's model name
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

/**
 * A detail of the report, rendered from the data itself so the .md can never say what the .json does not: records as one
 * table with a column per record (named by `label`) and a row per field, a record as a field | value table. Nested fields
 * are dotted; a small flat object (percentiles, CPU shares, status counts) is one cell; a list of records or a long list is
 * left to the .json.
 */
export interface Detail {
  title: string;
  data: unknown;
  label?: (row: never, i: number) => unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number') return String(Number.isInteger(v) ? v : Math.round(v * 1000) / 1000);
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.length <= 12 && !v.some((x) => typeof x === 'object' && x !== null) ? v.map(cell).join(', ') : `${v.length} entries (.json)`;
  if (isRecord(v)) return Object.entries(v).map(([k, x]) => `${k} ${cell(x)}`).join(', ') || 'none';
  return firstLine(String(v)).replaceAll('|', '\\|');
}

/** Field paths and values, dotted; a compact record (at most 12 fields, each a number or a short word) stays one value. */
function flatten(v: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  const compact = isRecord(v) && Object.keys(v).length <= 12 && Object.values(v).every((x) => x === null || typeof x !== 'object' && String(x).length <= 24);
  if (!isRecord(v) || (compact && prefix)) return out.set(prefix || 'value', v);
  for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

function renderDetail(d: Detail): string {
  const rows = Array.isArray(d.data) ? (d.data as unknown[]) : [d.data];
  if (rows.length === 0) return 'none';
  if (!rows.every(isRecord)) return rows.map(cell).join('\n\n');
  const flat = rows.map((r) => flatten(r));
  const fields = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  const names = Array.isArray(d.data) ? rows.map((r, i) => cell((d.label as ((r: unknown, i: number) => unknown) | undefined)?.(r, i) ?? `#${i + 1}`)) : ['value'];
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(['field', ...names]), line(['---', ...names.map(() => '---')]), ...fields.map((k) => line([k, ...flat.map((f) => cell(f.get(k)))]))].join('\n');
}

/** The report: title, the head's lines and `extra` ones, the method, summary (JSON) and targets, the notes, then the details. */
export function document(r: {
  title: string; head: ResultHead; extra?: readonly string[]; method: string; summary?: unknown; targets?: readonly string[]; notes?: readonly string[];
  details: readonly Detail[];
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
  ].join('\n');
  const bullets = (lines: readonly string[]): string => lines.map((l) => `- ${l}`).join('\n');
  const blocks = [
    `# ${r.title}, ${date.slice(0, 10)}`, head, r.method,
    ...(r.summary === undefined ? [] : ['## Summary', `\`\`\`json\n${JSON.stringify(r.summary, null, 2)}\n\`\`\``, bullets(r.targets ?? [])]),
    ...(r.notes?.length ? ['## Notes', bullets(r.notes)] : []),
    ...r.details.flatMap((d) => [`## ${d.title}`, renderDetail(d)]),
  ];
  return `${blocks.filter(Boolean).join('\n\n')}\n`;
}

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
  (machineShare ?? 0) > 0.9 ? [`${label}: the machine was ${Math.round(machineShare! * 100)}% busy: the rate is bounded by the shared cores, not only by what was measured.`]
    : [];

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
