/**
 * End-to-end lag per request: its receipt at the edge (the outcome's `receivedAtMs`, the edge's wall clock)
 * -> its window visible in Postgres. Like lib/e2e-delay.ts this reads the sink's ledger, here at the
 * granularity of one request: the aggregate counts each outcome as one request of the all-request row
 * (campaign '*') of its window, in the partial sum of its batch, whose source range (outcomes partition,
 * first and last offset) the ledger keeps with `applied_at`. So each outcome record, by partition, offset
 * and window, finds the ledger part that counted it. `applied_at` is the sink transaction's start
 * (Postgres now()): visibility comes at its commit, a sink batch later (the sink's batch time), so the
 * figure is a lower bound by that much. Wall clocks of the edge and Postgres are the same machine's.
 */
import type { Sql } from '../../schemas/postgres/migrate.js';
import type { AuctionOutcome } from '../../schemas/auction-outcome.js';
import { ALL_CAMPAIGNS, windowStart } from '../../processors/aggregate/window.js';
import { Histogram } from './histogram.js';
import type { RunTopics } from './run-topics.js';

export interface LedgerPart {
  partition: number;
  first: number;
  last: number;
  windowStartMs: number;
  appliedMs: number;
}

/** The all-request parts of one outcomes topic, by partition and first offset. */
export class PartIndex {
  private readonly byPartition = new Map<number, LedgerPart[]>();

  constructor(parts: Iterable<LedgerPart>) {
    for (const p of parts) {
      let list = this.byPartition.get(p.partition);
      if (!list) this.byPartition.set(p.partition, (list = []));
      list.push(p);
    }
    for (const list of this.byPartition.values()) list.sort((a, b) => a.first - b.first);
  }

  /** When the part that counted the record at (partition, offset) in window `windowStartMs` was applied, or null. */
  appliedAt(partition: number, offset: number, windowStartMs: number): number | null {
    const list = this.byPartition.get(partition);
    if (!list) return null;
    let [lo, hi] = [0, list.length - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid]!.first <= offset) lo = mid;
      else hi = mid - 1;
    }
    // One batch has one part per window, all with the batch's range: look through the parts of that range.
    for (let i = lo; i >= 0 && list[i]!.first === list[lo]!.first; i--) {
      const p = list[i]!;
      if (p.first <= offset && offset <= p.last && p.windowStartMs === windowStartMs) return p.appliedMs;
    }
    return null;
  }
}

export async function loadParts(sql: Sql, outcomesTopic: string): Promise<PartIndex> {
  const rows = await sql<Array<{ p: number; f: string; l: string; w: string; a: number }>>`
    select source_partition as p, first_offset::text as f, last_offset::text as l, window_start_ms::text as w, extract(epoch from applied_at)::float8 * 1000 as a
    from window_count_parts where source_topic = ${outcomesTopic} and campaign_id = ${ALL_CAMPAIGNS} and superseded_at is null`;
  return new PartIndex(rows.map((r) => ({ partition: r.p, first: Number(r.f), last: Number(r.l), windowStartMs: Number(r.w), appliedMs: r.a })));
}

export interface LagRun {
  /** Requests of this run have ids `<idPrefix>-<seq>`. */
  idPrefix: string;
  /** Wall clock (ms) at the start of its load: the origin of its per-second series. */
  startMs: number;
}

export interface RunLag {
  outcomes: number;
  /** Outcomes no live ledger part counted (not in Postgres, or dropped by the aggregate as late or duplicate). */
  notVisible: number;
  lagMs: { p50: number; p99: number; max: number } | null;
  /** Per second of the run (by receipt, from its start): [second, p50 ms, p99 ms]. */
  perSecond: Array<[number, number, number]>;
}

/** Streams the outcomes topic and gives each run's receipt -> visible lag (ms); records of no run are skipped. */
export async function requestLags(topics: RunTopics, outcomesTopic: string, parts: PartIndex, runs: readonly LagRun[], windowMs: number): Promise<RunLag[]> {
  const acc = runs.map(() => ({ outcomes: 0, notVisible: 0, all: new Histogram(), seconds: new Map<number, Histogram>() }));
  await topics.scan(outcomesTopic, async (r) => {
    if (!r.value) return;
    const o = await topics.codec.decode<AuctionOutcome>(r.value);
    const i = runs.findIndex((run) => o.requestId.startsWith(`${run.idPrefix}-`));
    if (i < 0) return;
    const a = acc[i]!;
    a.outcomes++;
    const applied = parts.appliedAt(r.partition, Number(r.offset), windowStart(o.receivedAtMs, windowMs));
    if (applied === null) return void a.notVisible++;
    const lag = Math.max(0, applied - o.receivedAtMs);
    a.all.record(lag);
    const sec = Math.floor((o.receivedAtMs - runs[i]!.startMs) / 1000);
    let h = a.seconds.get(sec);
    if (!h) a.seconds.set(sec, (h = new Histogram()));
    h.record(lag);
  }, { timeoutMs: 900_000 });
  return acc.map((a) => ({
    outcomes: a.outcomes,
    notVisible: a.notVisible,
    lagMs: a.all.count ? { p50: a.all.percentile(50), p99: a.all.percentile(99), max: a.all.max } : null,
    perSecond: [...a.seconds].sort(([x], [y]) => x - y).map(([s, h]) => [s, h.percentile(50), h.percentile(99)]),
  }));
}
