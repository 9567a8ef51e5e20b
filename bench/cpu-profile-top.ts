/**
 * The top self-time functions of a V8 .cpuprofile (`node --cpu-prof`) by function and location, for before/after comparisons:
 *   node --import tsx bench/cpu-profile-top.ts /tmp/bidprof/CPU.*.cpuprofile [--top 20]   (several files: the largest is read)
 */
import { readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import { cli, int } from './lib/options.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

let [file, profile] = ['', { nodes: [], startTime: 0, endTime: 0 } as Profile];
const { top } = cli('bench/cpu-profile-top.ts', { top: int(1, '20') }, {
  positionals: '<file.cpuprofile>...',
  check: (_, files) => {
    if (files.length === 0) throw new Error('give at least one .cpuprofile file');
    file = [...files].sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  },
});
const totalHits = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0);
const totalMs = (profile.endTime - profile.startTime) / 1000;
const keyOf = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
/** Samples in a function or anything it called; a recursive frame is counted once. */
const total = new Map<string, number>();
function walk(node: ProfileNode, active: Set<string>): number {
  const key = keyOf(node);
  let hits = node.hitCount ?? 0;
  self.set(key, (self.get(key) ?? 0) + hits);
  const outer = active.has(key);
  active.add(key);
  for (const child of node.children ?? []) hits += walk(byId.get(child)!, active);
  if (!outer) {
    active.delete(key);
    total.set(key, (total.get(key) ?? 0) + hits);
  }
  return hits;
}
walk(profile.nodes[0]!, new Set());
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
const pct = (hits: number): string => `${((100 * hits) / totalHits).toFixed(1).padStart(5)}%`;
process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms, ${totalHits} samples\n  self  (total)  function\n`);
for (const [key, hits] of rows) process.stdout.write(`${pct(hits)} (${pct(total.get(key) ?? 0)})  ${key}\n`);
