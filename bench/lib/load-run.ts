/**
 * One open-loop load run as its own process (bench/load.ts, pinned when asked), bounded in time: the
 * generator stops itself at the last scheduled time plus its timeout, and is killed if it has not
 * finished 30 s after that.
 */
import path from 'node:path';
import { PipelineError } from '../../schemas/errors.js';
import { runPinned } from './child.js';
import type { OpenLoopResult } from './open-loop.js';

export interface LoadRun {
  url: string;
  rate: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  timeoutMs: number;
  /** Extra load.ts flags (--tmax, --id-prefix, --user-prefix, ...). */
  extra?: string[];
  cpu?: number;
}

export async function runLoad(root: string, r: LoadRun): Promise<OpenLoopResult> {
  const argv = [
    process.execPath, '--import', 'tsx', path.join(root, 'bench', 'load.ts'), '--url', r.url, '--rate', String(r.rate),
    '--duration', String(r.durationSec), '--warmup', String(r.warmupSec), '--connections', String(r.connections),
    '--timeout', String(r.timeoutMs), '--body', 'openrtb', ...(r.extra ?? []),
  ];
  const limitMs = (r.durationSec + r.warmupSec) * 1000 + r.timeoutMs + 30_000;
  const { code, stdout, stderr } = await runPinned(argv, { cpu: r.cpu, cwd: root, timeoutMs: limitMs });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    throw new PipelineError('DEPENDENCY_UNAVAILABLE', `load.ts ${code === null ? `killed after ${limitMs} ms` : `exited ${code}`}: ${stderr.trim()}`);
  }
  return JSON.parse(line) as OpenLoopResult;
}
