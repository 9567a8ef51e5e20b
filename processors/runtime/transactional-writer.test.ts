/** The transactional writer's fault handling against a scripted fake producer (no broker needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from './logger.js';
import { TransactionalWriter } from './transactional-writer.js';
import type { Consumer, Kafka } from './kafka.js';

type Step = 'ok' | 'retriable' | 'fails' | 'fatal';
const failure = (kind: Step): Error => Object.assign(new Error(`${kind} error`), { retriable: kind === 'retriable', fatal: kind === 'fatal' });

/** A fake client: each producer answers begin/commit/abort from the scripts, and logs what was called. */
function fakeKafka(script: { begin?: Step[]; commit?: Step[]; abort?: Step[] }) {
  const calls: string[] = [];
  let made = 0;
  const next = (list: Step[] | undefined): Step => list?.shift() ?? 'ok';
  const answer = (kind: Step): Promise<void> => (kind === 'ok' ? Promise.resolve() : Promise.reject(failure(kind)));
  const kafka = {
    producer: () => {
      const n = ++made;
      const p = {
        connect: async () => void calls.push(`connect#${n}`),
        disconnect: async () => void calls.push(`disconnect#${n}`),
        transaction: async () => {
          calls.push(`begin#${n}`);
          await answer(next(script.begin));
          return p;
        },
        sendBatch: async () => void calls.push(`send#${n}`),
        sendOffsets: async () => void calls.push(`offsets#${n}`),
        commit: async () => {
          calls.push(`commit#${n}`);
          await answer(next(script.commit));
        },
        abort: async () => {
          calls.push(`abort#${n}`);
          await answer(next(script.abort));
        },
      };
      return p;
    },
  } as unknown as Kafka;
  return { kafka, calls };
}

const log = createLogger('test', 'silent');
const batch = [{ topic: 'out', messages: [{ key: 'k', value: Buffer.from('v') }] }];
const offsets = [{ topic: 'in', partitions: [{ partition: 0, offset: '1' }] }];
const consumer = {} as Consumer;

test('transactional writer resumes a commit that failed with a retriable error (a timeout while the broker is away)', async () => {
  const { kafka, calls } = fakeKafka({ commit: ['retriable', 'retriable'] });
  const w = new TransactionalWriter(kafka, {}, log, 10_000);
  await w.write(batch, offsets, consumer);
  assert.deepEqual(calls, ['connect#1', 'begin#1', 'send#1', 'offsets#1', 'commit#1', 'commit#1', 'commit#1']);
  assert.equal(w.recreated, 0);
});

test('transactional writer aborts on a non-retriable commit failure and rethrows, keeping the producer', async () => {
  const { kafka, calls } = fakeKafka({ commit: ['fails'] });
  const w = new TransactionalWriter(kafka, {}, log);
  await assert.rejects(w.write(batch, offsets, consumer), /transaction failed: fails error/);
  await w.write(batch, offsets, consumer);
  assert.deepEqual(calls.filter((c) => /commit|abort|connect/.test(c)), ['connect#1', 'commit#1', 'abort#1', 'commit#1']);
  assert.equal(w.recreated, 0);
});

test('transactional writer replaces the producer when the abort cannot complete, and the next write uses a new one', async () => {
  const { kafka, calls } = fakeKafka({ commit: ['fails'], abort: ['fails'] });
  const w = new TransactionalWriter(kafka, {}, log);
  await assert.rejects(w.write(batch, offsets, consumer));
  assert.equal(w.recreated, 1);
  await w.write(batch, offsets, consumer);
  assert.deepEqual(calls.slice(-7), ['abort#1', 'disconnect#1', 'connect#2', 'begin#2', 'send#2', 'offsets#2', 'commit#2']);
});

test('transactional writer replaces a producer stuck in a transaction ("Can only start one transaction at a time")', async () => {
  const { kafka, calls } = fakeKafka({ begin: ['fails'] });
  const w = new TransactionalWriter(kafka, {}, log);
  await assert.rejects(w.write(batch, offsets, consumer));
  await w.write(batch, offsets, consumer);
  assert.deepEqual(calls, ['connect#1', 'begin#1', 'disconnect#1', 'connect#2', 'begin#2', 'send#2', 'offsets#2', 'commit#2']);
});

test('transactional writer does not abort after a fatal error: the producer is replaced at once', async () => {
  const { kafka, calls } = fakeKafka({ commit: ['fatal'] });
  const w = new TransactionalWriter(kafka, {}, log);
  await assert.rejects(w.write(batch, offsets, consumer));
  assert.ok(!calls.includes('abort#1'));
  assert.equal(w.recreated, 1);
});

test('transactional writer stops resuming after its time bound and then aborts', async () => {
  const { kafka, calls } = fakeKafka({ commit: Array<Step>(50).fill('retriable') });
  const w = new TransactionalWriter(kafka, {}, log, 250);
  await assert.rejects(w.write(batch, offsets, consumer), /retriable error/);
  assert.ok(calls.filter((c) => c === 'commit#1').length >= 2, 'resumed at least once');
  assert.ok(calls.includes('abort#1'));
});
