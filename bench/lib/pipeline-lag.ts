/**
 * Consumer lag of a pipeline's groups in records, as Kafka's tools count it (end offset minus committed
 * offset, per partition; processors/runtime/group-lag.ts): snapshots, and a total sampled over time.
 * On a topic written in transactions each partition ends with a commit marker that no consumer ever
 * delivers, so a group that has read everything still shows 1 there; `netLag` takes away what the same
 * partitions show once the pipeline is drained, which works whichever hops use transactions.
 */
import type { Admin } from '../../processors/runtime/kafka.js';
import { groupLag } from '../../processors/runtime/group-lag.js';

export interface GroupTopics {
  group: string;
  topics: readonly string[];
}

/** `<group> <topic>/<partition>` -> records behind. */
export type LagSnapshot = Map<string, number>;

export async function lagSnapshot(admin: Admin, groups: readonly GroupTopics[]): Promise<LagSnapshot> {
  const out: LagSnapshot = new Map();
  for (const g of groups) {
    for (const p of (await groupLag(admin, g.group, g.topics)).partitions) out.set(`${g.group} ${p.topic}/${p.partition}`, Number(p.lag));
  }
  return out;
}

/** Records behind per group. */
export function lagByGroup(s: LagSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of s) out[k.split(' ')[0]!] = (out[k.split(' ')[0]!] ?? 0) + v;
  return out;
}

/** Records behind at `end`, net of each partition's lag once drained (commit markers); raw when `drained` is null. */
export function netLag(end: LagSnapshot, drained: LagSnapshot | null): number {
  let n = 0;
  for (const [k, v] of end) n += Math.max(0, v - (drained?.get(k) ?? 0));
  return n;
}

/** Samples the total lag every `everyMs` until stopped; resolves with [seconds since start, records] pairs. */
export function sampleLag(admin: Admin, groups: readonly GroupTopics[], everyMs = 1000): { stop: () => Promise<Array<[number, number]>> } {
  const t0 = performance.now();
  const points: Array<[number, number]> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = performance.now();
      const s = await lagSnapshot(admin, groups).catch(() => null);
      if (s) points.push([Math.round((at - t0) / 100) / 10, netLag(s, null)]);
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (performance.now() - at))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return points;
    },
  };
}
