/**
 * Open-loop HTTP load CLI: runs one constant-rate test against a loopback URL and prints one JSON
 * line (an OpenLoopResult) to stdout. Run it in its own process, never inside the server under test.
 * --deadline adds `withinDeadline` (answers received within that many ms of their scheduled time);
 * --ids-out writes `{"<status>": [seq, ...]}` for the measured requests that were answered (request id = `<id-prefix>-<seq>`).
 */
import { writeFileSync } from 'node:fs';
import { PipelineError } from '../schemas/errors.js';
import { BODY_KINDS, bodyGenerator } from './lib/bodies.js';
import { runOpenLoop } from './lib/open-loop.js';
import { choice, cli, int, num, positive, required, str, type Flag } from './lib/options.js';

const invalid = (message: string): PipelineError => new PipelineError('CONFIG_INVALID', message);

/** A string matching `re`, or undefined. */
const pattern = (re: RegExp, what: string): Flag<string | undefined> => ({
  hint: 'value', parse: (name, raw) => {
    if (raw !== undefined && !re.test(raw)) throw invalid(`--${name} may only be ${what}`);
    return raw;
  },
});

function header(h: string): [string, string] {
  const i = h.indexOf(':');
  const key = h.slice(0, i).trim();
  if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || /[\r\n]/.test(h)) throw invalid(`--header must look like name:value, got ${JSON.stringify(h)}`);
  if (/^(host|content-length|transfer-encoding|connection)$/i.test(key)) throw invalid(`--header ${key} is set by the generator`);
  return [key, h.slice(i + 1).trim()];
}

function size(s: string): readonly [number, number] {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(s.trim());
  if (!m) throw invalid(`--sizes must look like 300x250,728x90, got ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2])];
}

const a = cli('bench/load.ts', {
  url: required('http://127.0.0.1:8080/openrtb2/bid'), rate: positive('1000'), duration: positive('10'), warmup: num(0, '1'), connections: int(1, '32'),
  timeout: positive('2000'), body: choice(BODY_KINDS, 'openrtb'),
  header: { kind: 'multiple', hint: 'k:v', parse: (_, raw) => (raw as unknown as string[]).map(header) },
  tmax: int(1, undefined, 60_000), userPrefix: pattern(/^[A-Za-z0-9._:-]{0,100}$/, 'A-Z, a-z, 0-9, ".", "_", ":" and "-"'), users: int(1),
  sizes: { hint: '300x250,728x90', parse: (_, raw) => raw?.split(',').map(size) },
  idPrefix: pattern(/^[A-Za-z0-9._:-]{1,64}$/, '1-64 of A-Z, a-z, 0-9, ".", "_", ":", "-"'),
  deadline: num(0), idsOut: str(undefined, 'file'),
});

const ids: Record<string, number[]> = {};
runOpenLoop({
  url: a.url, rate: a.rate, durationSec: a.duration, warmupSec: a.warmup, connections: a.connections, timeoutMs: a.timeout, headers: Object.fromEntries(a.header),
  body: bodyGenerator(a.body, a.idPrefix, { tmax: a.tmax, userPrefix: a.userPrefix, users: a.users, sizes: a.sizes }), deadlineMs: a.deadline,
  ...(a.idsOut === undefined ? {} : { onAnswer: (seq: number, status: number) => void (ids[status] ??= []).push(seq) }),
}).then((result) => {
  if (a.idsOut !== undefined) writeFileSync(a.idsOut, JSON.stringify(ids));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}, (err: unknown) => {
  process.stderr.write(`load: ${err instanceof PipelineError ? err.code : 'UNEXPECTED'}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
