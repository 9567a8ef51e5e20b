/**
 * The one command-line parser of the bench scripts: each flag declared once with its default and its check
 * (`--stage-timeout` is the key `stageTimeout`), `--help` prints the usage made from them, and a bad flag or
 * value ends the script with one line naming it (exit 2), not a stack trace. The value checks are exported
 * for scripts elsewhere (deploy/chaos.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PipelineError } from '../../schemas/errors.js';

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
export const firstLine = (s: string | undefined): string => (s ?? '').split('\n')[0]!;

const invalid = (message: string): PipelineError => new PipelineError('CONFIG_INVALID', message);

/** A command-line value that must be a positive number; fails naming the flag. */
export function positiveArg(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw invalid(`--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** A command-line number from `min` to `max` (an integer when `integer`); fails naming the flag. */
export function numArg(name: string, raw: string | undefined, min: number, integer = false, max = Infinity): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalid(`--${name} must be ${integer ? 'an integer' : 'a number'} ${range}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A flag: its default (as typed on the command line), how it shows in the usage, and its check and conversion. */
export interface Flag<T> {
  readonly def?: string;
  readonly kind?: 'boolean' | 'multiple';
  readonly hint?: string;
  parse(name: string, raw: string | undefined): T;
}

type Maybe<D, T> = D extends string ? T : T | undefined;
const optional = <T>(check: (name: string, raw: string) => T) => (name: string, raw: string | undefined): T | undefined =>
  raw === undefined ? undefined : check(name, raw);

/** Any string; `hint` names it in the usage when it has no default. */
export const str = <D extends string | undefined = undefined>(def?: D, hint = 'value'): Flag<Maybe<D, string>> => ({ def, hint, parse: (_, raw) => raw as string });
const number = (integer: boolean) => <D extends string | undefined = undefined>(min: number, def?: D, max = Infinity): Flag<Maybe<D, number>> =>
  ({ def, hint: 'N', parse: optional((name, raw) => numArg(name, raw, min, integer, max)) as Flag<Maybe<D, number>>['parse'] });
/** An integer from `min` (to `max`). */
export const int = number(true);
/** A number from `min` (to `max`). */
export const num = number(false);
/** A string that must be given. */
export const required = (hint: string): Flag<string> => ({
  hint, parse: (name, raw) => {
    if (raw === undefined) throw invalid(`--${name} is required`);
    return raw;
  },
});
/** A positive number, integer or not. */
export const positive = (def: string): Flag<number> => ({ def, parse: (name, raw) => positiveArg(name, raw!) });
/** A comma-separated list of numbers (`--rates 250,500`). */
export const list = (min: number, def: string, integer = false): Flag<number[]> =>
  ({ def, parse: (name, raw) => raw!.split(',').map((r) => numArg(name, r.trim(), min, integer)) });
/** A CPU to pin to, or undefined for `none`. */
export const cpu = (def: string): Flag<number | undefined> => ({ def, parse: (name, raw) => (raw === 'none' ? undefined : numArg(name, raw, 0, true)) });
/** One of `choices`. */
export const choice = <C extends string, D extends C | undefined = undefined>(choices: readonly C[], def?: D): Flag<Maybe<D, C>> => ({
  def, hint: choices.join('|'), parse: optional((name, raw) => {
    if (!choices.includes(raw as C)) throw invalid(`--${name} must be one of ${choices.join('|')}, got ${JSON.stringify(raw)}`);
    return raw as C;
  }) as Flag<Maybe<D, C>>['parse'],
});
export const bool = (): Flag<boolean> => ({ kind: 'boolean', parse: (_, raw) => raw !== undefined });
/** Repeatable (`--header k:v --header k2:v2`). */
export const many = (hint: string): Flag<string[]> => ({ kind: 'multiple', hint, parse: (_, raw) => raw as unknown as string[] });

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The usage, a flag a line: its default (quoted when it has spaces, relative when under the working folder) or its hint. */
function usage(script: string, flags: Record<string, Flag<unknown>>, positionals = ''): string {
  const shown = (d: string): string => (d.startsWith(process.cwd()) ? path.relative(process.cwd(), d) : /\s/.test(d) ? JSON.stringify(d) : d);
  const value = (f: Flag<unknown>): string => (f.kind === 'boolean' ? '' : ` ${f.hint?.includes('|') ? f.hint : f.def === undefined ? `<${f.hint}>` : shown(f.def)}`);
  return [`node --import tsx ${script} ${positionals}`.trim(), ...Object.entries(flags).map(([k, f]) => `  [--${kebab(k)}${value(f)}]${f.kind === 'multiple' ? '...' : ''}`)].join('\n');
}

/**
 * Parses the command line by `flags` (and, given `positionals`, its usage text, the positionals too) into their values.
 * `--help` prints the usage and exits 0; any error in parsing or in a check prints one line, exit 2. `check` may refuse a combination.
 */
export function cli<F extends Record<string, Flag<unknown>>>(
  script: string,
  flags: F,
  o: { positionals?: string; check?: (v: { [K in keyof F]: ReturnType<F[K]['parse']> }, positionals: string[]) => void } = {},
): { [K in keyof F]: ReturnType<F[K]['parse']> } {
  try {
    const options = Object.fromEntries(Object.entries(flags).map(([k, f]) => [kebab(k), {
      type: f.kind === 'boolean' ? 'boolean' : 'string',
      ...(f.kind === 'multiple' ? { multiple: true, default: [] } : {}),
      ...(f.def === undefined ? {} : { default: f.def }),
    }]));
    const args = { args: process.argv.slice(2), options: { ...options, help: { type: 'boolean' } } as never, strict: true, allowPositionals: !!o.positionals };
    const parsed = parseArgs(args);
    const raw = parsed.values as Record<string, string | undefined>;
    if (raw.help) {
      process.stdout.write(`${usage(script, flags, o.positionals).trim()}\n`);
      process.exit(0);
    }
    const values = Object.fromEntries(Object.entries(flags).map(([k, f]) => [k, f.parse(kebab(k), raw[kebab(k)])])) as { [K in keyof F]: ReturnType<F[K]['parse']> };
    o.check?.(values, parsed.positionals);
    return values;
  } catch (err) {
    process.stderr.write(`${path.basename(process.argv[1] ?? 'bench')}: ${errorText(err).replace(/\s*\n\s*/g, ' ')} (--help for usage)\n`);
    process.exit(2);
  }
}
