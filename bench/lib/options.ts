/**
 * The one command-line parser of the bench scripts: flags declared once (node:util parseArgs, strict),
 * `--help` prints the script's usage, and a bad flag or value ends the script with one line naming it
 * (exit 2), not a stack trace. The value checks are exported for scripts elsewhere (deploy/chaos.ts).
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PipelineError } from '../../schemas/errors.js';

type Flags = NonNullable<ParseArgsConfig['options']>;
type Values<F extends Flags> = ReturnType<typeof parseArgs<{ options: F; strict: true; allowPositionals: true }>>['values'];

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
export const firstLine = (s: string | undefined): string => (s ?? '').split('\n')[0]!;

/** A string flag, with its default when given. */
export function flag(): { type: 'string' };
export function flag(d: string): { type: 'string'; default: string };
export function flag(d?: string): { type: 'string'; default?: string } {
  return d === undefined ? { type: 'string' } : { type: 'string', default: d };
}

/** A command-line value that must be a positive number; fails naming the flag. */
export function positiveArg(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new PipelineError('CONFIG_INVALID', `--${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

/** A command-line number from `min` to `max` (an integer when `integer`); fails naming the flag. */
export function numArg(name: string, raw: string | undefined, min: number, integer = false, max = Infinity): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw new PipelineError('CONFIG_INVALID', `--${name} must be ${integer ? 'an integer' : 'a number'} ${range}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** An optional integer flag: undefined when not given. */
export const optInt = (name: string, raw: string | undefined, min: number): number | undefined => (raw === undefined ? undefined : numArg(name, raw, min, true));

/** A comma-separated list of numbers (`--rates 250,500`). */
export const listArg = (name: string, raw: string, min: number, integer = false): number[] => raw.split(',').map((r) => numArg(name, r.trim(), min, integer));

/** A CPU to pin to, or undefined for `none`. */
export const cpuArg = (name: string, raw: string): number | undefined => (raw === 'none' ? undefined : numArg(name, raw, 0, true));

/** One of `choices`. */
export function choiceArg<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!choices.includes(raw as T)) throw new PipelineError('CONFIG_INVALID', `--${name} must be one of ${choices.join('|')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/**
 * Parses the command line by `flags` and hands the values (and, when `positionals`, the positionals) to `build`, which
 * checks and converts them. `--help` prints `usage` and exits 0; any error in parsing or in `build` prints one line, exit 2.
 */
export function cli<F extends Flags, T>(usage: string, flags: F, build: (v: Values<F>, positionals: string[]) => T, o: { positionals?: boolean; argv?: string[] } = {}): T {
  try {
    const args = o.argv ?? process.argv.slice(2);
    const { values, positionals } = parseArgs({ args, options: { ...flags, help: { type: 'boolean' } }, strict: true, allowPositionals: o.positionals ?? false });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage.trim()}\n`);
      process.exit(0);
    }
    return build(values as Values<F>, positionals);
  } catch (err) {
    process.stderr.write(`${path.basename(process.argv[1] ?? 'bench')}: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')} (--help for usage)\n`);
    process.exit(2);
  }
}
