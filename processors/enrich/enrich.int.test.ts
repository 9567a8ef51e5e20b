/**
 * The enrich service against the real stack (Kafka, registry, Redis), run as a child process:
 * profiles stored in Redis reach the output; a hung Redis never stalls the stream (requests pass on
 * UNAVAILABLE within a bounded time) and enrichment resumes after it recovers; every input once on the output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { Redis } from 'ioredis';
import { commonSpecs, loadConfig, redisSpecs } from '../../schemas/config.js';
import { readTopic } from '../runtime/read-topic.js';
import { spawnService, type ServiceProcess } from '../testing/spawn-service.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor } from '../../schemas/topics.js';
import { partitionKey, type BidRequest, type UserProfileRecord } from '../../schemas/bid-request.js';
import { encodeProfile } from '../domain/profile-format.js';
import { profileKey } from '../domain/redis-keys.js';
import { makeRequest } from '../testing/bid-request.fixture.js';
import { startThrowawayRedis } from '../testing/throwaway-redis.js';
import { waitFor } from '../testing/wait.js';
import { topicsFixture } from '../testing/topics.fixture.js';

const cfg = loadConfig({ ...commonSpecs, ...redisSpecs });
const { kafka, createTopics } = topicsFixture('enrich-test');
const codec = new AvroCodec(cfg.schemaRegistryUrl);

const profileOf = (i: number): UserProfileRecord => ({ interests: { sports: i % 101, news: 50 }, segments: [`seg-${i}`], engagement: i % 101 });
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const bidRequestType = avro.Type.forSchema(loadSchema('bid-request.avsc') as avro.Schema);
/** A request as a reader decodes it: the fields the test leaves out (exchange, the issue 10 fields) take their schema defaults. */
const withDefaults = (r: BidRequest): BidRequest => plain(bidRequestType.fromBuffer(bidRequestType.toBuffer(r)) as BidRequest);

interface Seen { key: string | null; value: BidRequest; atMs: number }

/** Fresh topics, a producer and a live read_committed reader of the output (arrival times included). */
async function pipeline(t: { after: (fn: () => Promise<void>) => void }) {
  const run = randomUUID().slice(0, 8);
  const input = `enrich-in-${run}`;
  const output = `enrich-out-${run}`;
  await createTopics([input, output], 4);
  await codec.register(subjectFor(input), loadSchema('bid-request.avsc'));
  const producer = kafka.producer({ 'linger.ms': 2 });
  await producer.connect();
  t.after(() => producer.disconnect().catch(() => undefined));
  const seen = new Map<string, Seen>();
  const reader = kafka.consumer({ kafkaJS: { groupId: `enrich-test-${run}`, fromBeginning: true, autoCommit: false }, 'isolation.level': 'read_committed' });
  await reader.connect();
  t.after(() => reader.disconnect().catch(() => undefined));
  await reader.subscribe({ topics: [output] });
  void reader.run({
    eachMessage: async ({ message }) => {
      const value = await codec.decode<BidRequest>(message.value as Buffer);
      seen.set(value.id, { key: message.key?.toString() ?? null, value: plain(value), atMs: Date.now() });
    },
  });
  const sentAt = new Map<string, number>();
  const send = async (requests: BidRequest[]): Promise<void> => {
    for (const r of requests) sentAt.set(r.id, Date.now());
    await producer.send({ topic: input, messages: requests.map((r) => ({ key: partitionKey(r), value: codec.encode(subjectFor(input), r) })) });
  };
  const arrived = async (ids: string[], timeoutMs: number): Promise<Seen[]> => {
    await waitFor(() => ids.every((id) => seen.has(id)), {
      what: `${ids.length} records on the output`, timeoutMs, intervalMs: 20,
      detail: () => `${ids.filter((id) => !seen.has(id)).length} of ${ids.length} records not on the output after ${timeoutMs} ms`,
    });
    return ids.map((id) => seen.get(id)!);
  };
  /** The whole output, read afresh (read_committed): each sent id exactly once and nothing else. */
  const exactlyOnce = async (sent: string[]): Promise<void> => {
    const out = await readTopic(kafka, output, { timeoutMs: 60_000, readCommitted: true });
    const counts = new Map<string, number>();
    for (const r of out) {
      const id = (await codec.decode<BidRequest>(r.value as Buffer)).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const missing = sent.filter((id) => !counts.has(id)).length;
    const duplicated = [...counts.values()].filter((c) => c > 1).length;
    assert.deepEqual({ missing, duplicated, total: out.length }, { missing: 0, duplicated: 0, total: sent.length });
  };
  const start = (redisUrl: string, extra: Record<string, string> = {}): Promise<ServiceProcess> =>
    spawnService('processors/enrich/main.ts', 'PROCESSOR_HTTP_PORT', {
      ENRICH_NAME: `enrich-test-${run}`, ENRICH_INPUT: input, ENRICH_OUTPUT: output, REDIS_URL: redisUrl,
      PROCESSOR_INSTANCE_ID: `enrich-test-${run}`, PROCESSOR_MAX_BATCH: '50', ...extra,
    });
  /** Worst send-to-output time of these records, ms. */
  const worstLatency = (seen: Seen[]): number => Math.max(...seen.map((s) => s.atMs - sentAt.get(s.value.id)!));
  return { run, send, arrived, exactlyOnce, start, worstLatency };
}

test('enrich service: stored profiles reach the output as ENRICHED, unknown and anonymous users as NO_PROFILE', { timeout: 120_000 }, async (t) => {
  const p = await pipeline(t);
  const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: 1 });
  const user = (i: number): string => `enrich-test-${p.run}-u${i}`;
  const known = Array.from({ length: 20 }, (_, i) => i);
  await redis.mset(Object.fromEntries(known.map((i) => [profileKey(user(i)), encodeProfile(profileOf(i))])));
  await redis.set(profileKey(user(999)), 'not json');
  // hooks run in order and a throwing one skips the rest: clean-up never throws
  t.after(async () => {
    await redis.del(...known.map((i) => profileKey(user(i))), profileKey(user(999))).catch(() => undefined);
    redis.disconnect();
  });

  const requests = Array.from({ length: 300 }, (_, i) => {
    const id = `r-${p.run}-${i}`;
    if (i % 4 === 0) return makeRequest(id, { id: user(i % 20) });
    if (i % 4 === 1) return makeRequest(id, { buyeruid: user(100 + i) }); // unknown user
    if (i % 4 === 2) return makeRequest(id, i % 8 === 2 ? null : { id: null, buyeruid: null }, { device: null });
    return makeRequest(id, { id: user(999) }); // malformed stored profile
  });
  // What is mapped, not how fast: a loaded machine can take longer than the 20 ms default for an MGET,
  // which would (correctly) pass records on UNAVAILABLE. The timeout path has its own test below.
  const svc = await p.start(cfg.redisUrl, { ENRICH_TIMEOUT_MS: '2000' });
  t.after(async () => void (await svc.stop()));
  await p.send(requests);
  const out = await p.arrived(requests.map((r) => r.id), 60_000);
  out.forEach((o, i) => {
    const sent = requests[i]!;
    assert.equal(o.key, partitionKey(sent), 'keyed by the same key');
    const { enrichment, profile, ...rest } = o.value;
    const { enrichment: _e, profile: _p, ...sentRest } = withDefaults(sent);
    assert.deepEqual(rest, sentRest, 'everything else (user.* included) as sent');
    if (i % 4 === 0) assert.deepEqual({ enrichment, profile }, { enrichment: 'ENRICHED', profile: profileOf(i % 20) }, sent.id);
    else assert.deepEqual({ enrichment, profile }, { enrichment: 'NO_PROFILE', profile: null }, sent.id);
  });
  await p.exactlyOnce(requests.map((r) => r.id));
});

test('enrich service: a hung Redis never stalls the stream (UNAVAILABLE), and enrichment resumes after it recovers', { timeout: 120_000 }, async (t) => {
  const p = await pipeline(t);
  const redis = await startThrowawayRedis();
  t.after(() => redis.stop());
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
  await admin.mset(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [profileKey(`u${i}`), encodeProfile(profileOf(i))])));
  admin.disconnect();
  // 100 ms, not the 20 ms default: on a loaded machine one MGET can take longer than 20 ms, and that batch
  // would (correctly) pass on UNAVAILABLE, failing the all-ENRICHED checks before and after the hang. A hung
  // Redis never answers, so the hang is detected all the same; five timeouts open the breaker within ~0.5 s.
  const svc = await p.start(redis.url, { ENRICH_TIMEOUT_MS: '100' });
  t.after(async () => void (await svc.stop()));
  const sent: string[] = [];
  let seq = 0;
  const wave = async (n: number): Promise<string[]> => {
    const reqs = Array.from({ length: n }, () => makeRequest(`r-${p.run}-${seq}`, { id: `u${seq++ % 50}` }));
    await p.send(reqs);
    sent.push(...reqs.map((r) => r.id));
    return reqs.map((r) => r.id);
  };
  const states = (seen: Seen[]): string[] => [...new Set(seen.map((s) => s.value.enrichment))];

  const before = await p.arrived(await wave(100), 60_000);
  assert.deepEqual(states(before), ['ENRICHED'], 'before the hang');
  const beforeMs = p.worstLatency((await p.arrived(await wave(40), 5000)));

  redis.hang();
  const hungAt = Date.now();
  const during: string[] = [];
  for (let i = 0; i < 5; i++) {
    during.push(...(await wave(40)));
    await new Promise((r) => setTimeout(r, 100));
  }
  const hungOut = await p.arrived(during, 5000);
  assert.deepEqual(states(hungOut), ['UNAVAILABLE'], 'while hung: passed on un-enriched');
  const lastOutMs = Math.max(...hungOut.map((s) => s.atMs)) - hungAt;
  const hungMs = p.worstLatency(hungOut);
  t.diagnostic(`Redis hung: ${during.length} requests in 5 waves over ~500 ms all out UNAVAILABLE, the last ${lastOutMs} ms after the hang began; worst send-to-output ${hungMs} ms (${beforeMs} ms with Redis up)`);
  assert.ok(hungMs < 1500, `no stall while Redis hangs (worst ${hungMs} ms)`);

  redis.resume();
  const resumedAt = Date.now();
  let firstEnrichedMs = -1;
  while (firstEnrichedMs < 0) {
    assert.ok(Date.now() - resumedAt < 10_000, 'enrichment resumed within 10 s of SIGCONT');
    const seen = await p.arrived(await wave(10), 5000);
    const enriched = seen.filter((s) => s.value.enrichment === 'ENRICHED');
    assert.ok(seen.every((s) => ['ENRICHED', 'UNAVAILABLE'].includes(s.value.enrichment)));
    if (enriched.length > 0) firstEnrichedMs = Math.min(...enriched.map((s) => s.atMs)) - resumedAt;
    else await new Promise((r) => setTimeout(r, 200));
  }
  t.diagnostic(`Redis resumed: first ENRICHED record out ${firstEnrichedMs} ms after SIGCONT (cool-down 2000 ms)`);
  assert.deepEqual(states(await p.arrived(await wave(100), 10_000)), ['ENRICHED'], 'after recovery');
  assert.match(svc.output(), /circuit open/, 'the opening was logged once');

  await p.exactlyOnce(sent);
});
