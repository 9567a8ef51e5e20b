import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePendingMember, pendingMember } from './pending-reservation.js';

test('pending-reservation members round-trip whatever the ids contain, and junk is refused', () => {
  const p = { requestId: 'r|"x":1', impId: '[1]', costMicros: 2_010, dayKey: '2024-07-01', userId: null };
  assert.deepEqual(parsePendingMember(pendingMember(p)), p);
  assert.deepEqual(parsePendingMember(pendingMember({ ...p, userId: 'u,1' })), { ...p, userId: 'u,1' });
  for (const bad of ['', '2010', '{}', '["r","1",-1,"d",null]', '["r","1",1.5,"d",null]', '["r","1","1","d",null]', '["r","1",1,"d"]', '["r",1,1,"d",null]']) {
    assert.equal(parsePendingMember(bad), null, bad);
  }
});
