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
import { choiceArg, cli, flag, numArg, positiveArg } from './lib/options.js';

const USAGE = `
node --import tsx bench/load.ts --url http://127.0.0.1:8080/openrtb2/bid --rate 2000 \\
  --duration 10 --connections 32 --body openrtb [--warmup 1] [--timeout 2000] [--header k:v]...
  [--tmax 120] [--user-prefix ""] [--users 100000] [--sizes 300x250,728x90] [--id-prefix <random>]
  [--deadline <ms>] [--ids-out <file>]`;
const str = flag();

function header(h: string): [string, string] {
  const i = h.indexOf(':');
  const key = h.slice(0, i).trim();
  if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) || /[\r\n]/.test(h)) throw new PipelineError('CONFIG_INVALID', `--header must look like name:value, got ${JSON.stringify(h)}`);
  if (/^(host|content-length|transfer-encoding|connection)$/i.test(key)) throw new PipelineError('CONFIG_INVALID', `--header ${key} is set by the generator`);
  return [key, h.slice(i + 1).trim()];
}

function size(s: string): readonly [number, number] {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(s.trim());
  if (!m) throw new PipelineError('CONFIG_INVALID', `--sizes must look like 300x250,728x90, got ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2])];
}

function pattern(name: string, raw: string | undefined, re: RegExp, what: string): string | undefined {
  if (raw !== undefined && !re.test(raw)) throw new PipelineError('CONFIG_INVALID', `--${name} may only be ${what}`);
  return raw;
}

const opts = cli(USAGE, {
  url: str, rate: flag('1000'), duration: flag('10'), warmup: flag('1'), connections: flag('32'), timeout: flag('2000'), body: flag('openrtb'), header: { type: 'string', multiple: true, default: [] },
  tmax: str, 'user-prefix': str, users: str, sizes: str, 'id-prefix': str, deadline: str, 'ids-out': str,
}, (v) => {
  if (!v.url) throw new PipelineError('CONFIG_INVALID', '--url is required (e.g. http://127.0.0.1:8080/openrtb2/bid)');
  const idPrefix = pattern('id-prefix', v['id-prefix'], /^[A-Za-z0-9._:-]{1,64}$/, '1-64 of A-Z, a-z, 0-9, ".", "_", ":", "-"');
  const body = bodyGenerator(choiceArg('body', v.body, BODY_KINDS), idPrefix, {
    tmax: v.tmax === undefined ? undefined : numArg('tmax', v.tmax, 1, true, 60_000),
    userPrefix: pattern('user-prefix', v['user-prefix'], /^[A-Za-z0-9._:-]{0,100}$/, 'A-Z, a-z, 0-9, ".", "_", ":" and "-"'),
    users: v.users === undefined ? undefined : numArg('users', v.users, 1, true),
    sizes: v.sizes?.split(',').map(size),
  });
  return {
    url: v.url, rate: positiveArg('rate', v.rate), durationSec: positiveArg('duration', v.duration), warmupSec: numArg('warmup', v.warmup, 0),
    connections: numArg('connections', v.connections, 1, true), timeoutMs: positiveArg('timeout', v.timeout), body, headers: Object.fromEntries(v.header.map(header)),
    ...(v.deadline !== undefined ? { deadlineMs: numArg('deadline', v.deadline, 0) } : {}), idsOut: v['ids-out'],
  };
});

const ids: Record<string, number[]> = {};
runOpenLoop(opts.idsOut === undefined ? opts : { ...opts, onAnswer: (seq, status) => void (ids[status] ??= []).push(seq) }).then((result) => {
  if (opts.idsOut !== undefined) writeFileSync(opts.idsOut, JSON.stringify(ids));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}, (err: unknown) => {
  process.stderr.write(`load: ${err instanceof PipelineError ? err.code : 'UNEXPECTED'}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
