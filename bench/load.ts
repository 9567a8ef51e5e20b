/**
 * Open-loop HTTP load CLI: runs one constant-rate test against a loopback URL and prints one JSON
 * line (an OpenLoopResult) to stdout. Run it in its own process, never inside the server under test.
 *
 *   node --import tsx bench/load.ts --url http://127.0.0.1:8080/openrtb2/bid --rate 2000 \
 *     --duration 10 --connections 32 --body openrtb [--warmup 1] [--timeout 2000] [--header k:v]...
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PipelineError } from '../processors/runtime/errors.js';
import { BODY_KINDS, bodyGenerator, type BodyKind } from './lib/bodies.js';
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

/** Parses the CLI arguments into generator options (exported for edge.ts and tests). */
export function parseLoadArgs(argv: string[]): OpenLoopOptions {
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
    },
  });
  if (!values.url) throw new PipelineError('CONFIG_INVALID', '--url is required (e.g. http://127.0.0.1:8080/openrtb2/bid)');
  const kind = (values.body ?? 'openrtb') as BodyKind;
  if (!BODY_KINDS.includes(kind)) {
    throw new PipelineError('CONFIG_INVALID', `--body must be one of ${BODY_KINDS.join('|')}, got ${JSON.stringify(values.body)}`);
  }
  return {
    url: values.url,
    rate: number('rate', values.rate, 1000),
    durationSec: number('duration', values.duration, 10),
    warmupSec: number('warmup', values.warmup, 1),
    connections: number('connections', values.connections, 32),
    timeoutMs: number('timeout', values.timeout, 2000),
    body: bodyGenerator(kind),
    headers: headers(values.header),
  };
}

async function main(): Promise<void> {
  const opts = parseLoadArgs(process.argv.slice(2));
  const result = await runOpenLoop(opts);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    const code = err instanceof PipelineError ? err.code : 'UNEXPECTED';
    process.stderr.write(`load: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
