/**
 * Fuzz: thousands of malformed bodies (random bytes, truncated JSON, huge numbers, deep nesting, wrong
 * types in every field); the edge answers each with a 4xx JSON error and stays up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { spawnEdge, type EdgeProcess } from '../processors/testing/spawn-edge.js';
import { parseOpenRtb } from './openrtb.js';

let edge: EdgeProcess;
const topic = `bid-requests-fuzz-${randomUUID()}`;
before(async () => {
  edge = await spawnEdge({ INGEST_TOPIC: topic, TOPIC_PARTITIONS: '1' });
});
after(() => edge.stop());

// Seeded PRNG so a failure can be replayed.
let seed = 0x9e3779b9;
const rand = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x100000000;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const valid = JSON.stringify({ id: 'f', imp: [{ id: '1', banner: { w: 300, h: 250 }, bidfloor: 0.1 }], site: { domain: 'a.com' }, device: { geo: { country: 'USA' } }, user: { id: 'u' } });
const weird: unknown[] = [null, true, -1, 1e308, -1e308, 1.5, 2 ** 64, '', 'x'.repeat(5000), [], {}, [[[]]], { a: 1 }, '\u0000', '\ud800'];
const fields = ['id', 'imp', 'site', 'app', 'device', 'user', 'tmax', 'at', 'cur', 'bcat', 'badv', 'test'];

function malformed(i: number): Buffer {
  switch (i % 6) {
    case 0: return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 512) }, () => Math.floor(rand() * 256)));
    case 1: return Buffer.from(valid.slice(0, Math.floor(rand() * (valid.length - 1))));
    case 2: return Buffer.from(`${'['.repeat(5000 + Math.floor(rand() * 50_000))}`);
    case 3: { const o = JSON.parse(valid) as Record<string, unknown>; o[pick(fields)] = pick(weird); return Buffer.from(JSON.stringify(o)); }
    case 4: { const o = JSON.parse(valid) as { imp: Record<string, unknown>[] }; o.imp[0]![pick(['id', 'banner', 'bidfloor', 'bidfloorcur', 'secure'])] = pick(weird); return Buffer.from(JSON.stringify(o)); }
    default: return Buffer.from(`{"id":"x","imp":[{"id":"1","bidfloor":1${'0'.repeat(400)}}]}`);
  }
}

function post(agent: Agent, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(`${edge.url}/openrtb2/bid`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.setTimeout(10_000, () => req.destroy());
    req.end(body);
  });
}

/** The oracle: what the pure parser says of a body (mutations may happen to stay valid). */
function expectAccepted(body: Buffer): boolean {
  try {
    parseOpenRtb(JSON.parse(body.toString('utf8')), { receivedAtMs: 0, ingestNodeId: 'x', openrtbVersion: null });
    return true;
  } catch {
    return false;
  }
}

test('fuzz: 3000 malformed bodies each get the answer the parser predicts (4xx JSON or 202) and the edge stays up', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const counts = new Map<number, number>();
  const unexpected: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < 3000) {
      const i = next++;
      const body = malformed(i);
      const r = await post(agent, body);
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      const want = expectAccepted(body) ? 'accepted' : 'rejected';
      const got = r.status === 202 ? 'accepted' : r.status >= 400 && r.status < 500 ? 'rejected' : `status ${r.status}`;
      if (want !== got) unexpected.push(`#${i} -> ${r.status}, expected ${want}: ${body.subarray(0, 80).toString('hex')}`);
      else if (r.status !== 202 && typeof (JSON.parse(r.body) as { error?: unknown }).error !== 'string') unexpected.push(`#${i} -> no error code`);
    }
  }));
  agent.destroy();
  assert.deepEqual(unexpected.slice(0, 5), [], `statuses: ${JSON.stringify([...counts])}`);
  assert.ok((counts.get(400) ?? 0) > 2500, `most bodies are malformed: ${JSON.stringify([...counts])}`);
  assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 3000);
  assert.equal((await fetch(`${edge.url}/health`)).status, 200, 'still alive');
  const ok = await fetch(`${edge.url}/openrtb2/bid`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: valid });
  assert.equal(ok.status, 202, 'still accepting valid requests');
  assert.equal(edge.child.exitCode, null);
});
