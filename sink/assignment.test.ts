import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { createLogger } from '../processors/runtime/logger.js';
import { checkAssignment, guardedRebalanceCallback, type TopicPartition } from './assignment.js';

const ASSIGN = { code: KafkaJS.ErrorCodes.ERR__ASSIGN_PARTITIONS, message: 'assign' };
const REVOKE = { code: KafkaJS.ErrorCodes.ERR__REVOKE_PARTITIONS, message: 'revoke' };
const log = createLogger('test', 'silent');
const tps: TopicPartition[] = [{ topic: 'wc', partition: 0 }, { topic: 'wc', partition: 3 }];

/** Resolves with the callback's result, or 'pending' if it has not settled after a few turns. */
async function settle<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), 20))]);
}

test('assignment assigns every partition at the offset stored in Postgres', async () => {
  const exits: number[] = [];
  const cb = guardedRebalanceCallback({
    onAssign: async (asked) => asked.map((tp) => ({ ...tp, offset: tp.partition * 10 })),
    onRevoke: () => assert.fail('not a revoke'), log, exit: (c) => exits.push(c),
  });
  assert.deepEqual(await cb(ASSIGN, tps), [{ topic: 'wc', partition: 0, offset: 0 }, { topic: 'wc', partition: 3, offset: 30 }]);
  assert.deepEqual(exits, []);
});

test('assignment hands revocations over and lets the client unassign', async () => {
  const revoked: TopicPartition[] = [];
  const cb = guardedRebalanceCallback({ onAssign: async () => assert.fail('not an assign'), onRevoke: (r) => revoked.push(...r), log, exit: () => assert.fail('no exit') });
  assert.equal(await cb(REVOKE, tps), null);
  assert.deepEqual(revoked, tps);
});

test('assignment exits non-zero and never settles when claiming fails, so the client cannot fall back to committed offsets', async () => {
  for (const onAssign of [
    async () => Promise.reject(new Error('Postgres is down')),
    async (asked: readonly TopicPartition[]) => asked.slice(1).map((tp) => ({ ...tp, offset: 1 })),
    async (asked: readonly TopicPartition[]) => asked.map((tp) => ({ ...tp, offset: Number.NaN })),
  ]) {
    const exits: number[] = [];
    const cb = guardedRebalanceCallback({ onAssign, onRevoke: () => undefined, log, exit: (c) => exits.push(c) });
    assert.equal(await settle(cb(ASSIGN, tps)), 'pending');
    assert.deepEqual(exits, [1]);
  }
  const exits: number[] = [];
  const odd = guardedRebalanceCallback({ onAssign: async () => [], onRevoke: () => undefined, log, exit: (c) => exits.push(c) });
  assert.equal(await settle(odd({ code: -1, message: 'weird' }, tps)), 'pending');
  assert.deepEqual(exits, [1], 'an unknown rebalance event is fatal too');
});

test('assignment check rejects missing, extra, duplicated and negative partitions', () => {
  assert.doesNotThrow(() => checkAssignment(tps, [{ topic: 'wc', partition: 3, offset: 5 }, { topic: 'wc', partition: 0, offset: 0 }]));
  assert.throws(() => checkAssignment(tps, [{ topic: 'wc', partition: 0, offset: 0 }]), /missing \[wc\/3\]/);
  assert.throws(() => checkAssignment(tps.slice(0, 1), [{ topic: 'wc', partition: 0, offset: 0 }, { topic: 'wc', partition: 1, offset: 0 }]), /unexpected \[wc\/1\]/);
  assert.throws(() => checkAssignment(tps.slice(0, 1), [{ topic: 'wc', partition: 0, offset: 0 }, { topic: 'wc', partition: 0, offset: 1 }]), /mismatch/);
  assert.throws(() => checkAssignment(tps.slice(0, 1), [{ topic: 'wc', partition: 0, offset: -1 }]), /invalid offset -1/);
});
