import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOpenLoop, loopbackTarget } from './open-loop.js';
import { numArg, positiveArg } from './options.js';

/** A node:http server on 127.0.0.1 whose handler decides, per request number, how to answer. */
async function server(t: TestContext, handle: (n: number, body: string, res: http.ServerResponse) => void): Promise<string> {
  let n = 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(++n, Buffer.concat(chunks).toString(), res));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    srv.closeAllConnections();
    srv.close(() => resolve());
  }));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/bid`;
}

test('open loop measures latency from the scheduled time, so queueing behind a slow response shows', async (t) => {
  const ids: string[] = [];
  const url = await server(t, (n, body, res) => {
    ids.push((JSON.parse(body) as { id: string }).id);
    const answer = (): void => void res.writeHead(202).end('{}');
    if (n % 10 === 0) setTimeout(answer, 200);
    else answer();
  });
  const r = await runOpenLoop({
    url, rate: 50, durationSec: 1, warmupSec: 0, connections: 1, timeoutMs: 2000,
    body: (seq) => JSON.stringify({ id: `req-${seq}` }),
  });

  assert.equal(r.scheduled, 50, 'scheduled = rate x duration');
  assert.equal(r.ok2xx, 50);
  assert.deepEqual(r.statusCounts, { 202: 50 });
  assert.equal(r.timeouts + r.errorCount, 0);
  assert.equal(new Set(ids).size, 50, 'every request carries a unique id');
  // Every 10th request holds the only connection for 200 ms; the ~9 requests scheduled behind it
  // wait, so from the schedule the median is tens of ms, while the service time stays ~1 ms.
  assert.ok(r.latencyMs.p99 >= 200, `p99 ${r.latencyMs.p99} ms should include the 200 ms stall`);
  assert.ok(r.latencyMs.p50 >= 40, `p50 ${r.latencyMs.p50} ms should show queueing behind the stall`);
  assert.ok(r.serviceMs.p50 < 20, `service p50 ${r.serviceMs.p50} ms: the server is fast between stalls`);
  assert.ok(r.latencyMs.p50 > 4 * r.serviceMs.p50, 'measuring from the actual send would hide the queueing');
  assert.equal(r.acceptedRps, 50);
});

test('open loop keeps its schedule and counts what the server cannot answer in time as timeouts', async (t) => {
  const url = await server(t, (n, _body, res) => {
    if (n % 2 === 0) return; // never answered: the client must give up on its own
    res.writeHead(202).end();
  });
  const started = performance.now();
  const r = await runOpenLoop({
    url, rate: 200, durationSec: 0.5, warmupSec: 0.2, connections: 4, timeoutMs: 300,
    body: () => '{}',
  });
  const elapsed = performance.now() - started;

  assert.equal(r.scheduled, 100);
  assert.equal(r.ok2xx + r.non2xx + r.errorCount + r.timeouts, r.scheduled, 'every scheduled request is accounted for');
  assert.ok(r.timeouts > 0, 'unanswered requests are timeouts');
  assert.ok(r.ok2xx > 0);
  assert.ok(r.acceptedRps < 200, `accepted ${r.acceptedRps} rps must be below the offered 200`);
  assert.ok(r.latencyMs.max >= 300, 'timeouts are counted at >= the timeout in the latency histogram');
  assert.ok(elapsed < 700 + 300 + 500, `hard stop bounds the run: took ${elapsed} ms`);
});

test('open loop reports non-2xx statuses and refuses to connect to a closed port', async (t) => {
  const url = await server(t, (_n, body, res) => void res.writeHead((JSON.parse(body) as { seq: number }).seq % 4 === 0 ? 503 : 202).end('x'));
  const answered: Record<string, number[]> = {};
  const r = await runOpenLoop({
    url, rate: 400, durationSec: 0.5, warmupSec: 0.1, connections: 8, body: (seq) => JSON.stringify({ seq }), deadlineMs: 1000,
    onAnswer: (seq, status) => void (answered[status] ??= []).push(seq),
  });
  assert.equal(r.scheduled, 200);
  assert.deepEqual(r.withinDeadline, { deadlineMs: 1000, answers: 200 });
  assert.ok(answered['503']!.every((seq) => seq % 4 === 0) && answered['503']!.length === 50, 'onAnswer sees each measured answer with its status');
  assert.ok(Math.min(...answered['202']!, ...answered['503']!) >= 40, 'warm-up requests (seq < 40) are not reported');
  assert.equal(r.statusCounts['503'], 50);
  assert.deepEqual(new Set([...answered['202']!, ...answered['503']!]).size, 200);
  assert.equal(r.non2xx, 50);
  assert.equal(r.ok2xx, 150);
  assert.equal(r.acceptedRps, 300);

  await assert.rejects(
    runOpenLoop({ url: 'http://127.0.0.1:1/x', rate: 10, durationSec: 0.1, connections: 1, body: () => '{}' }),
    /not accepting connections/,
  );
});

test('open loop refuses targets that are not loopback', () => {
  for (const url of ['http://10.0.0.5:8080/bid', 'http://localhost:8080/bid', 'https://127.0.0.1/bid', 'http://example.com/']) {
    assert.throws(() => loopbackTarget(url), /only targets http:\/\/ on a loopback address/, url);
  }
  assert.equal(loopbackTarget('http://127.0.0.1:8080/openrtb2/bid').port, '8080');
});

test('positiveArg takes a positive number and names the flag otherwise', () => {
  assert.equal(positiveArg('rate', '2500'), 2500);
  assert.equal(positiveArg('duration', '0.5'), 0.5);
  for (const raw of ['0', '-1', 'ten', '', 'Infinity']) assert.throws(() => positiveArg('rate', raw), /--rate must be a positive number/);
  assert.equal(numArg('pause', '0', 0), 0);
  assert.equal(numArg('partitions', '12', 1, true), 12);
  for (const raw of ['1.5', '0', ' ', undefined]) assert.throws(() => numArg('partitions', raw, 1, true), /--partitions must be an integer >= 1/);
});
