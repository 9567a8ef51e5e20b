import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOpenRtb } from '../../ingest/openrtb.js';
import { bodyGenerator, openRtbBody } from './bodies.js';

const envelope = { receivedAtMs: 0, ingestNodeId: 't', openrtbVersion: '2.6' };

test('openrtb body keeps its historical defaults: one 300x250 imp, tmax 120, users user-<n>', () => {
  const r = parseOpenRtb(JSON.parse(openRtbBody('p')(7)), envelope);
  assert.equal(r.id, 'p-7');
  assert.equal(r.tmax, 120);
  assert.deepEqual([r.imp[0]?.banner?.w, r.imp[0]?.banner?.h], [300, 250]);
  assert.match(r.user?.id ?? '', /^user-\d+$/);
});

test('openrtb body options set tmax, the seeded user namespace and rotate the sizes', () => {
  const sizes = [[300, 250], [728, 90], [320, 50]] as const;
  const gen = bodyGenerator('openrtb', 'run1', { tmax: 200, userPrefix: 'bench-', users: 10, sizes });
  const seen = new Set<string>();
  for (let seq = 0; seq < 200; seq++) {
    const r = parseOpenRtb(JSON.parse(gen(seq)), envelope);
    assert.equal(r.tmax, 200);
    const n = Number(/^bench-user-(\d+)$/.exec(r.user?.id ?? '')?.[1]);
    assert.ok(n >= 0 && n < 10, `user ${r.user?.id}`);
    seen.add(`${r.imp[0]?.banner?.w}x${r.imp[0]?.banner?.h}`);
  }
  assert.deepEqual([...seen].sort(), ['300x250', '320x50', '728x90']);
});
