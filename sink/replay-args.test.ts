import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReplayArgs, resolveFrom } from './replay-args.js';

test('replay-args parses a timestamp replay of the sink and an offsets replay of the aggregate', () => {
  assert.deepEqual(parseReplayArgs(['--consumer', 'sink', '--from', '2026-11-22T10:00:00Z']), { consumer: 'sink', from: '2026-11-22T10:00:00Z', stopMembers: false, watch: true });
  const a = parseReplayArgs(['--consumer', 'aggregate', '--offsets', 'auction-outcomes:0=12,tracking-events:3=7', '--stop-members', '--no-watch', '--group', 'g', '--topic', 'x', '--topic', 'y']);
  assert.deepEqual(a.offsets, [{ topic: 'auction-outcomes', partition: 0, offset: 12n }, { topic: 'tracking-events', partition: 3, offset: 7n }]);
  assert.deepEqual([a.stopMembers, a.watch, a.group, a.topics], [true, false, 'g', ['x', 'y']]);
});

test('replay-args rejects bad input with a clear message', () => {
  for (const [argv, re] of [
    [['--from', '-1h'], /--consumer is required/],
    [['--consumer', 'bid', '--from', '-1h'], /sink or aggregate/],
    [['--consumer', 'sink'], /exactly one of --from and --offsets/],
    [['--consumer', 'sink', '--from', '-1h', '--offsets', 't:0=1'], /exactly one/],
    [['--consumer', 'sink', '--offsets', 't:0'], /topic:partition=offset/],
    [['--consumer', 'sink', '--from', 'yesterday'], /ISO time/],
    [['--consumer', 'sink', '--from', '2026-11-22T10:00:00'], /with a zone/],
    [['--consumer', 'sink', '--from', '-1h', '--force'], /unknown argument/],
  ] as Array<[string[], RegExp]>) {
    assert.throws(() => parseReplayArgs(argv), re, argv.join(' '));
  }
});

test('replay-args resolves relative, epoch and ISO times', () => {
  const now = Date.UTC(2026, 10, 22, 12);
  assert.equal(resolveFrom('-1h', now), now - 3_600_000);
  assert.equal(resolveFrom('-90s', now), now - 90_000);
  assert.equal(resolveFrom('1795300000000', now), 1795300000000);
  assert.equal(resolveFrom('2026-11-22T10:00:00+02:00', now), Date.UTC(2026, 10, 22, 8));
});
