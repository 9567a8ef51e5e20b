/**
 * Poison isolation against the real stack, through the pass-through processor and its test failure hook
 * (PASSTHROUGH_FAIL_KEYS: the record with that key throws a retryable error every time), in both delivery
 * modes: the poison record on partition 0 is retried with backoff, then dead-lettered with its attempts;
 * meanwhile the other partitions keep flowing (their records are written before the poison is
 * dead-lettered); /ready answers 503 naming the partition while it is stuck, then 200 again; the records
 * behind the poison on partition 0 follow; nothing is lost (nor, exactly-once, duplicated); the process
 * never restarts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ensureTopics, type Consumer } from './kafka.js';
import { readTopic } from './read-topic.js';
import { serviceMetric, spawnService, type ServiceProcess } from './spawn-service.js';
import { AvroCodec } from '../../schemas/codec.js';
import { loadSchema, subjectFor, TOPICS } from '../../schemas/topics.js';
import { topicsFixture } from './topics-fixture.js';
import type { BidRequest } from '../../schemas/bid-request.js';

const { cfg, kafka, created } = topicsFixture('poison-test');

/** Failed attempts before the poison record is dead-lettered: backoffs 0.1+0.2+0.4+0.8+1.6+3.2 s = 6.3 s stuck. */
const POISON_RETRIES = 7;

function request(id: string): BidRequest {
  return {
    id, imp: [{ id: '1', banner: { w: 300, h: 250, format: [], ext: null }, video: null, bidfloorMicros: 100_000, bidfloorcur: 'USD', tagid: null, secure: null, ext: null }],
    site: null, app: null, device: null, user: { id: `u-${id.slice(0, 3)}`, buyeruid: null, segments: [], interests: [], ext: null },
    tmax: null, at: 2, cur: [], bcat: [], badv: [], test: false, ext: null, receivedAtMs: Date.now(), ingestNodeId: 't', sourceFormat: 'OPENRTB', openrtbVersion: null, enrichment: 'NOT_ATTEMPTED', profile: null,
  };
}

/** Polls until `check` returns true; fails naming `what` after `timeoutMs`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 90_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

for (const delivery of ['exactly-once', 'at-least-once'] as const) {
  test(`runner (${delivery}): a poison record is dead-lettered after ${POISON_RETRIES} attempts while the other partitions flow; /ready 503 while stuck; no restart`, async () => {
    const run = randomUUID().slice(0, 8);
    const input = `poison-in-${run}`;
    const output = `poison-out-${run}`;
    const name = `poison-${delivery === 'exactly-once' ? 'eos' : 'alo'}-${run}`;
    const poisonKey = `poison-${run}`;
    created.push(input, output);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [input, output].map((topic) => ({ topic, numPartitions: 4, replicationFactor: 1 })));
    await admin.disconnect();
    const codec = new AvroCodec(cfg.schemaRegistryUrl);
    await codec.register(subjectFor(input), loadSchema('bid-request.avsc'));
    const producer = kafka.producer({ 'linger.ms': 1 });
    await producer.connect();
    const send = async (records: Array<{ key: string; partition: number }>): Promise<void> => {
      await producer.send({ topic: input, messages: records.map((r) => ({ key: r.key, value: codec.encode(subjectFor(input), request(r.key)), partition: r.partition })) });
    };

    // What reaches the output, as it arrives (keys: the pass-through copies them).
    const seen = new Map<string, number>();
    const reader: Consumer = kafka.consumer({ kafkaJS: { groupId: `poison-reader-${run}`, fromBeginning: true, autoCommit: false }, 'isolation.level': 'read_committed' });
    await reader.connect();
    await reader.subscribe({ topics: [output] });
    void reader.run({ eachMessage: async ({ message }) => void seen.set(message.key!.toString(), (seen.get(message.key!.toString()) ?? 0) + 1) });

    let svc: ServiceProcess | undefined;
    const readyLog: Array<{ status: number; body: { status?: string; reason?: string } }> = [];
    let polling = true;
    let poller: Promise<void> | undefined;
    try {
      svc = await spawnService('processors/passthrough/main.ts', 'PROCESSOR_HTTP_PORT', {
        PASSTHROUGH_NAME: name, PASSTHROUGH_INPUT: input, PASSTHROUGH_OUTPUT: output, PASSTHROUGH_DELIVERY: delivery, PROCESSOR_INSTANCE_ID: 'a',
        PASSTHROUGH_FAIL_KEYS: poisonKey, PROCESSOR_POISON_RETRIES: String(POISON_RETRIES), PROCESSOR_STUCK_READY_MS: '300',
      }, 60_000);
      const url = svc.url;
      const pid = svc.child.pid;

      // Every partition flows first (the group has joined and owns them all).
      const before = Array.from({ length: 20 }, (_, i) => ({ key: `before-${i}-${run}`, partition: i % 4 }));
      await send(before);
      await until('the first records in the output', () => before.every((r) => seen.has(r.key)));

      poller = (async () => {
        while (polling) {
          try {
            const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
            readyLog.push({ status: res.status, body: (await res.json()) as { status?: string; reason?: string } });
          } catch {
            // a probe that timed out on a loaded machine: the next one
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      // The poison record on partition 0, and records queued behind it on the same partition.
      const behind = Array.from({ length: 5 }, (_, i) => ({ key: `behind-${i}-${run}`, partition: 0 }));
      await send([{ key: poisonKey, partition: 0 }, ...behind]);
      await until('partition 0 to fail', async () => (await serviceMetric(url, 'processor_partition_failures_total', { topic: input, partition: '0' })) >= 1);

      // While partition 0 backs off, the other partitions keep flowing.
      const during = Array.from({ length: 30 }, (_, i) => ({ key: `during-${i}-${run}`, partition: 1 + (i % 3) }));
      await send(during);
      await until('the other partitions\' records in the output', () => during.every((r) => seen.has(r.key)), 60_000);
      assert.equal(await serviceMetric(url, 'processor_dead_letters_total'), 0, 'the other partitions\' records were written before the poison record was dead-lettered');
      assert.ok(behind.every((r) => !seen.has(r.key)), 'records behind the poison wait for it (per-partition order)');

      await until('the poison record to be dead-lettered', async () => (await serviceMetric(url, 'processor_dead_letters_total')) >= 1);
      await until('the records behind the poison in the output', () => behind.every((r) => seen.has(r.key)), 60_000);
      await until('/ready to answer 200 again', () => readyLog.at(-1)?.status === 200, 30_000);
      polling = false;
      await poller;

      const stuckAnswers = readyLog.filter((r) => r.status === 503);
      assert.ok(stuckAnswers.length > 0, '/ready answered 503 while the partition was stuck');
      assert.match(stuckAnswers[0]!.body.reason ?? '', new RegExp(`partition ${input}/0 stuck`), JSON.stringify(stuckAnswers[0]!.body));
      assert.equal(await serviceMetric(url, 'processor_partition_failures_total', { topic: input, partition: '0' }), POISON_RETRIES - 1, 'each failed attempt but the last (which dead-lettered it) counted against partition 0');
      assert.equal(await serviceMetric(url, 'processor_partition_failures_total', { topic: input, partition: '1' }), 0, 'no other partition failed');
      assert.equal(svc.child.exitCode, null, 'still running');
      assert.equal(svc.child.pid, pid);
      assert.doesNotMatch(svc.output(), /exiting without committing/, 'never gave up');

      // Nothing lost; exactly once in the exactly-once mode; the poison record is not in the output.
      const all = [...before, ...behind, ...during];
      assert.deepEqual(all.filter((r) => !seen.has(r.key)).map((r) => r.key), [], 'nothing lost');
      assert.equal(seen.has(poisonKey), false);
      if (delivery === 'exactly-once') {
        assert.deepEqual([...seen].filter(([, n]) => n > 1), [], 'nothing duplicated');
        assert.equal(seen.size, all.length);
      }
      const letters = [];
      for (const r of await readTopic(kafka, TOPICS.deadLetters, { timeoutMs: 60_000 })) {
        if (r.key?.toString() !== name) continue;
        letters.push(await codec.decode<{ topic: string; partition: number; offset: number; errorCode: string; errorMessage: string; key: Buffer | null; attempts: number }>(r.value as Buffer));
      }
      if (delivery === 'exactly-once') assert.equal(letters.length, 1, 'one dead letter');
      else assert.ok(letters.length >= 1, 'at least one dead letter');
      const l = letters[0]!;
      assert.equal(Buffer.from(l.key!).toString(), poisonKey);
      assert.deepEqual({ topic: l.topic, partition: l.partition, errorCode: l.errorCode, attempts: l.attempts }, { topic: input, partition: 0, errorCode: 'DEPENDENCY_UNAVAILABLE', attempts: POISON_RETRIES });
      assert.match(l.errorMessage, /PASSTHROUGH_FAIL_KEYS/);
    } finally {
      polling = false;
      await poller;
      await svc?.stop();
      await reader.disconnect().catch(() => undefined);
      await producer.disconnect();
    }
  });
}
