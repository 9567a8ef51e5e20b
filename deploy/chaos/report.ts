/** The chaos run's result as the table a person reads (faults, then checks) and as JSON for tools. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChaosResult } from './run.js';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const num = (n: number | null): string => (n === null ? '-' : n.toLocaleString('en-US'));

export function chaosTable(r: ChaosResult): string {
  const lines: string[] = [];
  lines.push(`chaos run ${r.run}: ${r.ok ? 'PASS' : 'FAIL'} in ${(r.durationsMs.total! / 1000).toFixed(0)} s (load ${((r.durationsMs.load ?? 0) / 1000).toFixed(0)} s)`);
  lines.push('');
  lines.push(`${pad('fault injected', 22)} ${lpad('at (s)', 7)} ${lpad('back (ms)', 10)} ${lpad('time to recover (ms)', 21)} ${lpad('edge failures', 13)}  also restarted by the supervisor`);
  for (const f of r.faults) {
    lines.push(`${pad(f.target === 'baseline' ? 'none (baseline)' : `kill -9 ${f.target}`, 22)} ${lpad(f.atSec.toFixed(1), 7)} ${lpad(num(f.backMs), 10)} ${lpad(f.error ? 'NOT RECOVERED' : num(f.recoveredMs), 21)} ${lpad(num(f.edgeFailures), 13)}  ${f.exited.join(', ') || '-'}`);
    if (f.error) lines.push(`    ${f.error}`);
  }
  lines.push('');
  lines.push(`${pad('check', 92)} ${lpad('expected', 12)} ${lpad('found', 12)}  result`);
  for (const c of r.checks) {
    lines.push(`${pad(c.name, 92)} ${lpad(num(c.expected), 12)} ${lpad(num(c.found), 12)}  ${c.ok ? 'ok' : 'MISMATCH'}`);
    lines.push(`    ${c.detail}`);
  }
  lines.push('');
  lines.push(`load: async ${JSON.stringify(r.load.async)}; sync ${JSON.stringify(r.load.sync)}`);
  lines.push(`notices: ${JSON.stringify(r.load.notices)}`);
  if (r.generatorLoopDelayMs) lines.push(`load generator event-loop delay (ms): p50 ${r.generatorLoopDelayMs.p50}, p99 ${r.generatorLoopDelayMs.p99}, max ${r.generatorLoopDelayMs.max}`);
  lines.push(`durations (ms): ${JSON.stringify(r.durationsMs)}`);
  for (const e of r.errors) lines.push(`ERROR: ${e}`);
  return lines.join('\n');
}

export function writeChaosJson(path: string, r: ChaosResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ date: new Date().toISOString(), ...r }, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
