import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from './group-commit.js';

test('group-commit commits the first contribution at once and groups those arriving meanwhile', async () => {
  const rounds: number[][] = [];
  let release!: () => void;
  const gc = new GroupCommit<number>(async (cs) => {
    rounds.push(cs);
    if (rounds.length === 1) await new Promise<void>((r) => (release = r));
  });
  const first = gc.join(1);
  await new Promise((r) => setImmediate(r));
  const later = [gc.join(2), gc.join(3), gc.join(4)];
  release();
  await Promise.all([first, ...later]);
  assert.deepEqual(rounds, [[1], [2, 3, 4]]);
});

test('group-commit fails every contribution of a failed transaction, and later ones still commit', async () => {
  let n = 0;
  const gc = new GroupCommit<string>(async (cs) => {
    n++;
    if (cs.includes('bad')) throw new Error('fenced');
  });
  const results = await Promise.allSettled([gc.join('bad'), gc.join('x')]);
  const statuses = results.map((r) => r.status);
  assert.ok(statuses[0] === 'rejected');
  await gc.join('ok');
  assert.ok(n >= 2);
});
