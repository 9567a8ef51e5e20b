/**
 * Operator tool: every record one request left on the pipeline's topics, found by its `x-request-id`
 * record header (README "Following one request"). No kcat needed.
 *
 *   node --import tsx deploy/find-request.ts <request-id> [--from -15m | <ISO time> | <epoch ms>] [--topic T ...]
 *
 * Reads each topic (default: the decision path, tracking-events, loss-notices and dead-letters) from `--from`
 * (default 15 minutes ago) to the end each partition had at start, read_committed, with a throw-away
 * consumer group (nothing is committed), and prints one JSON line per matching record, oldest first:
 * topic, partition, offset, time, key, headers, and the value decoded through the schema registry.
 */
import { randomUUID } from 'node:crypto';
import { RdKafka } from '@confluentinc/kafka-javascript';
import { commonSpecs, loadConfig } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka, kafkaSecurityProperties } from '../processors/runtime/kafka.js';
import { offsetsAtTime } from '../processors/runtime/end-offsets.js';
import { REQUEST_ID_HEADER, headerValue, type RecordHeaders } from '../processors/runtime/trace-context.js';
import { AvroCodec } from '../schemas/codec.js';
import { TOPICS } from '../schemas/topics.js';
import { resolveFrom } from '../sink/replay-args.js';

const USAGE = 'usage: find-request <request-id> [--from -15m | ISO time | epoch ms] [--topic T ...]';
const DEFAULT_TOPICS = [TOPICS.bidRequests, TOPICS.bidRequestsEnriched, TOPICS.bids, TOPICS.auctionOutcomes, TOPICS.trackingEvents, TOPICS.lossNotices, TOPICS.deadLetters];
/** A partition read this far without reaching its start-time end is done (transaction markers are never delivered). */
const IDLE_MS = 2000;

function parseArgs(argv: readonly string[]): { id: string; fromMs: number; topics: string[] } {
  let id: string | undefined;
  let from = '-15m';
  const topics: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value; ${USAGE}`);
      return v;
    };
    if (a === '--from') from = value();
    else if (a === '--topic') topics.push(value());
    else if (a.startsWith('--') || id !== undefined) throw new Error(`unexpected argument ${JSON.stringify(a)}; ${USAGE}`);
    else id = a;
  }
  if (id === undefined) throw new Error(USAGE);
  return { id, fromMs: resolveFrom(from, Date.now()), topics: topics.length > 0 ? topics : DEFAULT_TOPICS };
}

/** Buffers (dead letters' original bytes, header values) as text when printable, else base64. */
function printable(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    const b = Buffer.from((v as { data: number[] }).data);
    return /^[\x20-\x7e]*$/.test(b.toString('latin1')) ? b.toString('latin1') : `base64:${b.toString('base64')}`;
  }
  return typeof v === 'bigint' ? v.toString() : v;
}

async function main(): Promise<void> {
  const { id, fromMs, topics } = parseArgs(process.argv.slice(2));
  const cfg = loadConfig(commonSpecs);
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'find-request', log: createLogger('find-request', 'warn'), security: cfg });
  const codec = new AvroCodec(cfg.schemaRegistryUrl);
  const admin = kafka.admin();
  await admin.connect();
  // Per partition: where to start (the first offset at or after --from) and the end at start.
  const ranges: Array<{ topic: string; partition: number; start: number; end: number }> = [];
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of topics) {
      if (!existing.has(topic)) {
        process.stderr.write(`[find-request] no topic ${topic}: skipped\n`);
        continue;
      }
      for (const p of await offsetsAtTime(admin, topic, fromMs)) {
        if (p.offset < p.end) ranges.push({ topic, partition: p.partition, start: Number(p.offset), end: Number(p.end) });
      }
    }
  } finally {
    await admin.disconnect();
  }
  const consumer = new RdKafka.KafkaConsumer({
    'group.id': `find-request-${randomUUID()}`, 'metadata.broker.list': cfg.kafkaBrokers, 'enable.auto.commit': false, 'isolation.level': 'read_committed',
    ...kafkaSecurityProperties(cfg),
  }, {});
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  const found: Array<{ ts: number; line: Record<string, unknown> }> = [];
  let scanned = 0;
  try {
    if (ranges.length > 0) consumer.assign(ranges.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.start })));
    const left = new Map(ranges.map((r) => [`${r.topic}/${r.partition}`, r.end]));
    let lastRecordAt = Date.now() + 10_000; // the first fetch after assigning may take a while
    while (left.size > 0 && Date.now() - lastRecordAt < IDLE_MS) {
      const batch = await new Promise<RdKafka.Message[]>((resolve, reject) => consumer.consume(1000, (err, msgs) => (err ? reject(err) : resolve(msgs))));
      if (batch.length > 0) lastRecordAt = Date.now();
      for (const m of batch) {
        scanned++;
        const k = `${m.topic}/${m.partition}`;
        if (m.offset + 1 >= (left.get(k) ?? 0)) left.delete(k);
        const headers = m.headers as RecordHeaders | undefined;
        if (headerValue(headers, REQUEST_ID_HEADER) !== id) continue;
        let value: unknown;
        try {
          value = m.value ? await codec.decode(m.value) : null;
        } catch (err) {
          value = { undecodable: (err as Error).message, bytes: m.value };
        }
        const hs: Record<string, string> = {};
        for (const h of headers ?? []) for (const name in h) hs[name] = String(h[name]);
        found.push({
          ts: m.timestamp ?? 0,
          line: { topic: m.topic, partition: m.partition, offset: m.offset, time: new Date(m.timestamp ?? 0).toISOString(), key: m.key?.toString() ?? null, headers: hs, value },
        });
      }
    }
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
  found.sort((a, b) => a.ts - b.ts);
  for (const f of found) process.stdout.write(`${JSON.stringify(f.line, printable)}\n`);
  process.stderr.write(`[find-request] ${found.length} record(s) with ${REQUEST_ID_HEADER}=${id} among ${scanned} read from ${new Date(fromMs).toISOString()} on ${topics.join(', ')}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[find-request] ${(err as Error).message}\n`);
    process.exit(1);
  },
);
