/**
 * Replay for backfill: rewinds the aggregate or the sink to a timestamp (or explicit offsets) and takes
 * out of Postgres exactly what the rewound consumer will write again, so the result equals a single
 * clean pass.
 *
 *   npm run replay -- --consumer sink      --from 2026-11-22T10:00:00Z   [--stop-members] [--no-watch]
 *   npm run replay -- --consumer aggregate --from -1h                    [--stop-members] [--no-watch]
 *   npm run replay -- --consumer sink      --offsets window-counts:0=1200,window-counts:1=900
 *
 * Guarantees (README, "Replay"):
 * - sink: per window-counts partition, the parts applied from offset X on are subtracted from
 *   window_counts and removed from the ledger, and the sink's stored offset becomes X, in one Postgres
 *   transaction (take-back.ts); the sink re-reads from X. Kafka's committed offsets play no part.
 * - aggregate: the sink must first have applied everything on window-counts (the tool waits); then per
 *   input partition the parts produced from input offset X on are taken back, X moves back to the start
 *   of the batch that contained it, and the aggregate group is rewound there. Notices keep their
 *   first-seen positions in Redis, so re-read notices count again exactly once.
 * - It refuses while the group has live members, unless --stop-members (this machine's instances get
 *   SIGTERM; elsewhere scale the service to zero first). Start the service again; the tool watches.
 */
import { execFileSync } from 'node:child_process';
import postgres from 'postgres';
import { commonSpecs, loadConfig, postgresSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, setGroupOffsets, type Admin } from '../processors/runtime/kafka.js';
import { postgresTls } from '../processors/runtime/postgres.js';
import { CommittedOffsets, groupLag, untilCaughtUp } from '../processors/runtime/group-lag.js';
import { offsetsAtTime } from '../processors/runtime/end-offsets.js';
import { sinkLag } from './offsets.js';
import { parseReplayArgs, resolveFrom, type ReplayArgs } from './replay-args.js';
import { removeFromSource, removeFromWindowCountsOffset } from './writer.js';

const say = (line: string): void => void process.stdout.write(`[replay] ${line}\n`);

const CONSUMERS = {
  sink: { group: 'rtb-sink', topics: ['window-counts'], entry: 'sink/main.ts' },
  aggregate: { group: 'rtb-aggregate', topics: ['auction-outcomes', 'tracking-events', 'loss-notices'], entry: 'processors/aggregate/main.ts' },
} as const;

async function liveMembers(admin: Admin, group: string): Promise<number> {
  const { groups } = await admin.describeGroups([group]);
  return groups[0]?.members.length ?? 0;
}

async function ensureStopped(admin: Admin, group: string, entry: string, stop: boolean): Promise<void> {
  let n = await liveMembers(admin, group);
  if (n === 0) return;
  if (!stop) throw new Error(`group ${group} has ${n} live member(s): stop them first (or pass --stop-members to stop this machine's instances)`);
  say(`stopping ${n} live member(s) of ${group} (SIGTERM to local ${entry} processes)`);
  try {
    execFileSync('pkill', ['-TERM', '-f', entry]);
  } catch {
    // pkill exits 1 when nothing matched: the members live elsewhere; the wait below says so.
  }
  const deadline = Date.now() + 60_000;
  while ((n = await liveMembers(admin, group)) > 0) {
    if (Date.now() > deadline) throw new Error(`group ${group} still has ${n} member(s) after 60 s: they run elsewhere; scale them to zero and retry`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Offsets to rewind to per partition: from --offsets, or the first offset at/after the time (the end when none). */
async function targets(admin: Admin, topic: string, args: ReplayArgs): Promise<Map<number, bigint>> {
  const out = new Map<number, bigint>();
  if (args.offsets) {
    for (const o of args.offsets.filter((x) => x.topic === topic)) out.set(o.partition, o.offset);
    return out;
  }
  for (const p of await offsetsAtTime(admin, topic, resolveFrom(args.from!, Date.now()))) out.set(p.partition, p.offset);
  return out;
}

async function watch(lagNow: () => Promise<bigint>): Promise<void> {
  say('watching: start the service again to replay (Ctrl-C stops watching, not the replay)');
  let last: bigint | null = null;
  let lastAt = Date.now();
  await untilCaughtUp(lagNow, {
    pollMs: 2000,
    onPoll: (lag) => {
      const now = Date.now();
      const rate = last === null ? 0 : Number(last - lag) / ((now - lastAt) / 1000);
      say(`lag left ${lag} records${last === null ? '' : `, ${Math.max(0, Math.round(rate))} records/s replayed`}`);
      [last, lastAt] = [lag, now];
    },
  });
  say('replay complete: the consumer has caught up');
}

async function main(): Promise<void> {
  const args = parseReplayArgs(process.argv.slice(2));
  const cfg = loadConfig({ ...commonSpecs, ...postgresSpecs });
  const defaults = CONSUMERS[args.consumer];
  const c = { group: args.group ?? defaults.group, topics: args.topics ?? [...defaults.topics], entry: defaults.entry };
  // The sink's input is one topic (window-counts); replaying the aggregate needs the sink's default group and topic.
  const sinkGroup = args.consumer === 'sink' ? c.group : (args.sinkGroup ?? CONSUMERS.sink.group);
  const windowCounts = args.consumer === 'sink' ? c.topics[0]! : (args.sinkTopic ?? CONSUMERS.sink.topics[0]);
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'rtb-replay', log: createLogger('replay', 'warn'), security: cfg });
  const admin = kafka.admin();
  await admin.connect();
  const sql = postgres(cfg.postgresUrl, { max: 2, onnotice: () => undefined, ...postgresTls(cfg) });
  try {
    await ensureStopped(admin, c.group, c.entry, args.stopMembers);
    if (args.consumer === 'sink') {
      for (const [partition, offset] of await targets(admin, windowCounts, args)) {
        const r = await removeFromWindowCountsOffset(sql, windowCounts, partition, offset);
        say(`${windowCounts}[${partition}]: sink rewound to ${offset}; ${r.partsRemoved} applied part(s) taken back`);
      }
    } else {
      say(`waiting until the sink (${sinkGroup}) has applied everything on ${windowCounts}`);
      await untilCaughtUp(async () => (await sinkLag(admin, sql, cfg.kafkaBrokers, windowCounts, sinkGroup, cfg)).total, { pollMs: 1000 });
      for (const topic of c.topics) {
        const partitions: Array<{ partition: number; offset: string }> = [];
        for (const [partition, offset] of await targets(admin, topic, args)) {
          const r = await removeFromSource(sql, topic, partition, offset);
          partitions.push({ partition, offset: r.rewindTo.toString() });
          say(`${topic}[${partition}]: aggregate rewound to ${r.rewindTo}${r.rewindTo !== offset ? ` (start of the batch containing ${offset})` : ''}; ${r.partsRemoved} part(s) taken back`);
        }
        if (partitions.length > 0) await setGroupOffsets(cfg.kafkaBrokers, c.group, topic, partitions, cfg);
      }
    }
    if (args.watch) {
      // Through a consumer client, not the admin API: a broker restarting meanwhile must not kill the tool (group-lag.ts).
      const committed = new CommittedOffsets(cfg.kafkaBrokers, c.group, cfg);
      await watch(async () => (await (args.consumer === 'sink' ? sinkLag(admin, sql, cfg.kafkaBrokers, windowCounts, c.group, cfg) : groupLag(admin, c.group, c.topics, committed))).total)
        .finally(() => committed.close());
    }
  } finally {
    await sql.end();
    await admin.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[replay] error: ${(err as Error).message}\n`);
  process.exit(1);
});
