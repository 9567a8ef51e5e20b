/** The chaos checks on small observations: all equal when Postgres and Kafka agree; each check fails on its own kind of loss or double count. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstById, runChecks, type Check, type CountRow, type Observed } from './checks.js';

const W = 60_000;

/** Two requests answered (202 and 200), one 204, one unanswered but written; notices: one billing sent twice, one impression. */
function observed(): Observed {
  const out = (partition: number, offset: number, requestId: string, at: number, campaignId: string) => ({
    partition, offset: BigInt(offset), requestId, receivedAtMs: at,
    bids: [{ campaignId: 'c1', creativeId: 'k1' }, { campaignId: 'c2', creativeId: 'k2' }],
    wins: [{ campaignId, creativeId: campaignId === 'c1' ? 'k1' : 'k2', costMicros: 1500, clearingPriceMicros: 1_500_000 }],
  });
  const rows: CountRow[] = [
    { campaignId: '*', creativeId: '', windowStartMs: 0, requests: 3, bids: 6, wins: 3, winCostMicros: 0, clearingPriceMicros: 0, spendMicros: 0, impressions: 0 },
    { campaignId: '*', creativeId: '', windowStartMs: W, requests: 1, bids: 2, wins: 1, winCostMicros: 0, clearingPriceMicros: 0, spendMicros: 0, impressions: 0 },
    { campaignId: 'c1', creativeId: 'k1', windowStartMs: 0, requests: 0, bids: 3, wins: 2, winCostMicros: 3000, clearingPriceMicros: 3_000_000, spendMicros: 0, impressions: 0 },
    { campaignId: 'c2', creativeId: 'k2', windowStartMs: 0, requests: 0, bids: 3, wins: 1, winCostMicros: 1500, clearingPriceMicros: 1_500_000, spendMicros: 1500, impressions: 1 },
    { campaignId: 'c1', creativeId: 'k1', windowStartMs: W, requests: 0, bids: 1, wins: 1, winCostMicros: 1500, clearingPriceMicros: 1_500_000, spendMicros: 0, impressions: 0 },
    { campaignId: 'c2', creativeId: 'k2', windowStartMs: W, requests: 0, bids: 1, wins: 0, winCostMicros: 0, clearingPriceMicros: 0, spendMicros: 0, impressions: 0 },
  ];
  return {
    windowMs: W,
    requests: [{ id: 'a-0', kind: 'async', fate: 202 }, { id: 's-0', kind: 'sync', fate: 200 }, { id: 's-1', kind: 'sync', fate: 204 }, { id: 'a-1', kind: 'async', fate: 'timeout' }, { id: 'a-2', kind: 'async', fate: 'error:ECONNRESET' }],
    winners: new Map([['s-0', 'c2']]),
    notices: [
      { eventId: 'e-bill', type: 'BILLING', copy: 1, fate: 204 }, { eventId: 'e-bill', type: 'BILLING', copy: 2, fate: 204 },
      { eventId: 'e-imp', type: 'IMPRESSION', copy: 1, fate: 200 },
    ],
    requestTopic: [{ id: 'a-0', receivedAtMs: 10 }, { id: 's-0', receivedAtMs: 20 }, { id: 's-1', receivedAtMs: 30 }, { id: 'a-1', receivedAtMs: W + 5 }],
    outcomes: [out(0, 0, 'a-0', 10, 'c1'), out(1, 0, 's-0', 20, 'c2'), out(0, 1, 's-1', 30, 'c1'), out(0, 2, 'a-0', 10, 'c2'), out(2, 0, 'a-1', W + 5, 'c1')],
    tracking: [
      { partition: 1, offset: 0n, eventId: 'e-bill', type: 'BILLING', campaignId: 'c2', creativeId: 'k2', costMicros: 1500, occurredAtMs: 40 },
      { partition: 1, offset: 1n, eventId: 'e-imp', type: 'IMPRESSION', campaignId: 'c2', creativeId: 'k2', costMicros: 0, occurredAtMs: 41 },
      { partition: 1, offset: 2n, eventId: 'e-bill', type: 'BILLING', campaignId: 'c2', creativeId: 'k2', costMicros: 1500, occurredAtMs: W + 50 },
    ],
    rows,
  };
}

const failing = (checks: Check[]): string[] => checks.filter((c) => !c.ok).map((c) => c.name.replace(/ \(\d+ of \d+ records\)$/, ''));

test('chaos checks: all pass when Postgres counts the first copies and Kafka holds every acknowledged request', () => {
  const checks = runChecks(observed());
  assert.deepEqual(failing(checks), [], JSON.stringify(checks.filter((c) => !c.ok)));
  const requests = checks.find((c) => c.name.startsWith('requests per window'))!;
  assert.deepEqual([requests.expected, requests.found], [4, 4]);
  assert.match(checks.find((c) => c.name.startsWith('requests on the topic have'))!.detail, /1 re-emitted/);
});

test('chaos checks: first copy by partition and offset', () => {
  const first = firstById([{ partition: 1, offset: 5n, id: 'x', v: 'late' }, { partition: 1, offset: 2n, id: 'x', v: 'early' }], (r) => r.id);
  assert.equal(first.get('x')?.v, 'early');
});

test('chaos checks: a record the sink skipped, a copy counted twice, a lost request and a doubled notice each fail their check', () => {
  const skipped = observed();
  skipped.rows[1] = { ...skipped.rows[1]!, requests: 0 };
  assert.deepEqual(failing(runChecks(skipped)), ['requests per window: Postgres = distinct ids on the topic']);

  const copyCounted = observed();
  copyCounted.rows[2] = { ...copyCounted.rows[2]!, bids: 4 };
  copyCounted.rows[3] = { ...copyCounted.rows[3]!, wins: 2, winCostMicros: 3000, clearingPriceMicros: 3_000_000 };
  assert.deepEqual(failing(runChecks(copyCounted)), ['bids per campaign and window: Postgres = first outcomes', 'wins and cost per campaign and window: Postgres = first outcomes']);

  const lost = observed();
  lost.requestTopic = lost.requestTopic.filter((r) => r.id !== 'a-0');
  assert.ok(failing(runChecks(lost)).includes('requests acknowledged (202, 200) are on the request topic'));

  const phantom = observed();
  phantom.requestTopic.push({ id: 'zz', receivedAtMs: 12 });
  assert.ok(failing(runChecks(phantom)).includes('requests on the topic were sent by the load, once'));

  const noOutcome = observed();
  noOutcome.outcomes = noOutcome.outcomes.filter((o) => o.requestId !== 'a-1');
  assert.ok(failing(runChecks(noOutcome)).includes('requests on the topic have an auction outcome'));

  const doubled = observed();
  doubled.rows[3] = { ...doubled.rows[3]!, spendMicros: 3000 };
  assert.deepEqual(failing(runChecks(doubled)), ['spend per campaign and window: Postgres = distinct billing notices']);

  const pixel = observed();
  pixel.rows[3] = { ...pixel.rows[3]!, impressions: 2 };
  assert.deepEqual(failing(runChecks(pixel)), ['impressions per campaign and window: Postgres = distinct pixels']);

  const lostNotice = observed();
  lostNotice.tracking = lostNotice.tracking.filter((n) => n.eventId !== 'e-imp');
  assert.ok(failing(runChecks(lostNotice)).includes('notices acknowledged (204, 200) are on the tracking topic'));

  const noRepeat = observed();
  noRepeat.tracking = noRepeat.tracking.slice(0, 2);
  assert.ok(failing(runChecks(noRepeat)).includes('repeated notices reached Kafka (so counting once was tested), none unknown'));

  const wrongWinner = observed();
  wrongWinner.winners.set('s-0', 'c1');
  assert.deepEqual(failing(runChecks(wrongWinner)), ['200 answers name the winner Postgres counts']);
});
