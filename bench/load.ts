/**
 * Open-loop HTTP load CLI: runs one constant-rate test against a loopback URL and prints one JSON
 * line (an OpenLoopResult) to stdout. Run it in its own process, never inside the server under test.
 *
 *   node --import tsx bench/load.ts --url http://127.0.0.1:8080/openrtb2/bid --rate 2000 \
 *     --duration 10 --connections 32 --body openrtb [--warmup 1] [--timeout 2000] [--header k:v]...
 *     [--tmax 120] [--user-prefix ""] [--users 100000] [--sizes 300x250,728x90] [--id-prefix <random>]
 *     [--deadline <ms>] [--ids-out <file>]
 *
 * --deadline adds `withinDeadline` (answers received within that many ms of their scheduled time);
 * --ids-out writes `{"<status>": [seq, ...]}` for the measured requests that were answered (request id = `<id-prefix>-<seq>`).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PipelineError } from '../schemas/errors.js';
import { BODY_KINDS, bodyGenerator, type BodyKind, type BodyOptions } from './lib/bodies.js';
import { runOpenLoop, type OpenLoopOptions } from './lib/open-loop.js';

function number(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new PipelineError('CONFIG_INVALID', `--${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function headers(raw: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of raw ?? []) {
    const i = h.indexOf(':');
    const key = h.slice(0, i).trim();
    if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || /[\r\n]/.test(h)) {
      throw new PipelineError('CONFIG_INVALID', `--header must look like name:value, got ${JSON.stringify(h)}`);
    }
    if (/^(host|content-length|transfer-encoding|connection)$/i.test(key)) {
      throw new PipelineError('CONFIG_INVALID', `--header ${key} is set by the generator`);
    }
    out[key] = h.slice(i + 1).trim();
  }
  return out;
}

function sizes(raw: string | undefined): BodyOptions['sizes'] {
  if (raw === undefined) return undefined;
  return raw.split(',').map((s) => {
    const m = /^(\d{1,5})x(\d{1,5})$/.exec(s.trim());
    if (!m) throw new PipelineError('CONFIG_INVALID', `--sizes must look like 300x250,728x90, got ${JSON.stringify(raw)}`);
    return [Number(m[1]), Number(m[2])] as const;
  });
}

function bodyOptions(v: { tmax?: string; 'user-prefix'?: string; users?: string; sizes?: string }): BodyOptions {
  if (v['user-prefix'] !== undefined && !/^[A-Za-z0-9._:-]{0,100}$/.test(v['user-prefix'])) {
    throw new PipelineError('CONFIG_INVALID', '--user-prefix may only use A-Z, a-z, 0-9, ".", "_", ":" and "-"');
  }
  const users = v.users === undefined ? undefined : number('users', v.users, 0);
  if (users !== undefined && (!Number.isInteger(users) || users < 1)) throw new PipelineError('CONFIG_INVALID', '--users must be a positive integer');
  const tmax = v.tmax === undefined ? undefined : number('tmax', v.tmax, 120);
  if (tmax !== undefined && (!Number.isInteger(tmax) || tmax < 1 || tmax > 60_000)) throw new PipelineError('CONFIG_INVALID', '--tmax must be an integer from 1 to 60000 (ms)');
  return {
    tmax,
    userPrefix: v['user-prefix'],
    users,
    sizes: sizes(v.sizes),
  };
}

/** Parses the CLI arguments into generator options, and where to write the answered ids. */
export function parseLoadArgs(argv: string[]): OpenLoopOptions & { idsOut?: string } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      timeout: { type: 'string' },
      body: { type: 'string' },
      header: { type: 'string', multiple: true },
      tmax: { type: 'string' },
      'user-prefix': { type: 'string' },
      users: { type: 'string' },
      sizes: { type: 'string' },
      'id-prefix': { type: 'string' },
      deadline: { type: 'string' },
      'ids-out': { type: 'string' },
    },
  });
  if (!values.url) throw new PipelineError('CONFIG_INVALID', '--url is required (e.g. http://127.0.0.1:8080/openrtb2/bid)');
  const kind = (values.body ?? 'openrtb') as BodyKind;
  if (!BODY_KINDS.includes(kind)) {
    throw new PipelineError('CONFIG_INVALID', `--body must be one of ${BODY_KINDS.join('|')}, got ${JSON.stringify(values.body)}`);
  }
  const idPrefix = values['id-prefix'];
  if (idPrefix !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(idPrefix)) {
    throw new PipelineError('CONFIG_INVALID', '--id-prefix must be 1-64 of A-Z, a-z, 0-9, ".", "_", ":", "-"');
  }
  return {
    url: values.url,
    rate: number('rate', values.rate, 1000),
    durationSec: number('duration', values.duration, 10),
    warmupSec: number('warmup', values.warmup, 1),
    connections: number('connections', values.connections, 32),
    timeoutMs: number('timeout', values.timeout, 2000),
    body: bodyGenerator(kind, idPrefix, bodyOptions(values)),
    headers: headers(values.header),
    ...(values.deadline !== undefined ? { deadlineMs: number('deadline', values.deadline, 0) } : {}),
    ...(values['ids-out'] !== undefined ? { idsOut: values['ids-out'] } : {}),
  };
}

async function main(): Promise<void> {
  const opts = parseLoadArgs(process.argv.slice(2));
  const ids: Record<string, number[]> = {};
  const result = await runOpenLoop(opts.idsOut === undefined ? opts : { ...opts, onAnswer: (seq, status) => void (ids[status] ??= []).push(seq) });
  if (opts.idsOut !== undefined) writeFileSync(opts.idsOut, JSON.stringify(ids));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    const code = err instanceof PipelineError ? err.code : 'UNEXPECTED';
    process.stderr.write(`load: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
