/**
 * The campaign API's resource bounds on a real process (issue 11.5): a slowloris client (headers a byte
 * at a time) is cut off after CAMPAIGNS_REQUEST_TIMEOUT_MS while a normal request is still answered, and
 * connections beyond CAMPAIGNS_MAX_CONNECTIONS are closed at once, the API answering again once they go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { spawnService } from '../testing/spawn-service.js';
import { operatorTokenFile } from './auth-fixture.js';
import { waitFor } from '../testing/wait.js';

/** Opens a socket and resolves once connected. */
function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with what the server sent and how long after `since` the socket closed (or null if still open at `boundMs`). */
function closedWithin(s: Socket, since: number, boundMs: number): Promise<{ afterMs: number | null; data: string }> {
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('error', () => undefined);
    const timer = setTimeout(() => resolve({ afterMs: null, data }), boundMs);
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ afterMs: Date.now() - since, data });
    });
  });
}

test('campaign API: a slow request is cut off at the request deadline; extra connections are closed; normal requests still answered', async () => {
  const operator = await operatorTokenFile();
  const svc = await spawnService('processors/campaigns/main.ts', 'CAMPAIGNS_PORT', {
    ...operator.env, CAMPAIGNS_HOST: '127.0.0.1', CAMPAIGNS_REQUEST_TIMEOUT_MS: '1500', CAMPAIGNS_MAX_CONNECTIONS: '4',
  }, 90_000);
  const port = Number(new URL(svc.url).port);
  try {
    // Slowloris: a request line and one header byte every 200 ms, never finishing.
    const slow = await open(port);
    const since = Date.now();
    slow.write('POST /campaigns HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => { if (!slow.destroyed) slow.write('X'); }, 200);
    const cut = closedWithin(slow, since, 15_000);
    // Meanwhile a normal request is answered.
    const health = await fetch(`${svc.url}/health`);
    assert.equal(health.status, 200);
    const result = await cut;
    clearInterval(drip);
    assert.notEqual(result.afterMs, null, 'the slow client was never cut off');
    assert.ok(result.afterMs! >= 1400, `cut off after ${result.afterMs} ms: before the 1500 ms deadline`);
    assert.match(result.data, /^HTTP\/1\.1 408|^$/, `answered ${JSON.stringify(result.data.slice(0, 40))}`);

    // Connection cap: 4 idle connections fill it; a fifth is closed at once without an answer.
    const held = await Promise.all([0, 1, 2, 3].map(() => open(port)));
    for (const s of held) s.write('GET /health HTTP/1.1\r\nHost: x\r\n'); // incomplete: held open
    await new Promise((r) => setTimeout(r, 200)); // let the server account them
    const fifth = await open(port);
    const fifthSince = Date.now();
    fifth.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await closedWithin(fifth, fifthSince, 5000);
    assert.notEqual(refused.afterMs, null, 'a connection over the cap was kept open');
    assert.equal(refused.data, '', 'a connection over the cap was answered');
    for (const s of held) s.destroy();
    // Once they are gone the API answers again (within the bound, by condition).
    const status = await waitFor(() => fetch(`${svc.url}/health`).then((r) => r.status, () => 0), {
      until: (s) => s === 200, atDeadline: 'last', what: 'the API to answer again', timeoutMs: 10_000, intervalMs: 100,
    });
    assert.equal(status, 200);
  } finally {
    await svc.stop();
  }
});
