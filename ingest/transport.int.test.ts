/**
 * The edge's transport (issue 11.7, the edge's part), against real edge processes: HTTPS on the bid port
 * with INGEST_TLS_CERT_FILE / INGEST_TLS_KEY_FILE (a self-signed certificate made by openssl here, trusted
 * by Node's https client as its CA), and /metrics on an internal port (INGEST_METRICS_PORT), which then is
 * no longer served on the bid port; without it, /metrics stays on the bid port.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, spawnService, type ServiceProcess } from '../processors/testing/spawn-service.js';
import { spawnEdge } from '../processors/testing/spawn-edge.js';
import { loadConfig, commonSpecs } from '../schemas/config.js';
import { createLogger } from '../processors/runtime/logger.js';
import { createKafka } from '../processors/runtime/kafka.js';

const cfg = loadConfig(commonSpecs);
const run = randomUUID().slice(0, 8);
const topics = [`transport-req-${run}`, `transport-tracking-${run}`];
const dir = mkdtempSync(path.join(tmpdir(), 'rtb-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const procs: ServiceProcess[] = [];

before(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
});

after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  rmSync(dir, { recursive: true, force: true });
  const kafka = createKafka({ brokers: cfg.kafkaBrokers, clientId: 'transport-test-cleanup', log: createLogger('test', 'silent') });
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

const edgeEnv = (): Record<string, string> => ({
  INGEST_HOST: '127.0.0.1', INGEST_OPENRTB_MODE: 'async', RTB_DEV_MODE: '1', INGEST_TRACKING_SECRET: randomBytes(32).toString('base64'),
  INGEST_TOPIC: topics[0]!, INGEST_TRACKING_TOPIC: topics[1]!, TOPIC_PARTITIONS: '1',
});

const ortb = () => ({ id: randomUUID(), imp: [{ id: '1', banner: { w: 300, h: 250 } }], site: { domain: 'example.com' }, device: { ip: '192.0.2.1' } });

function httpsRequest(url: string, opts: { method?: string; body?: string; ca?: Buffer }): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: opts.method ?? 'GET', ca: opts.ca, timeout: 10_000,
      headers: opts.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(opts.body) },
    }, (res) => {
      const protocol = (res.socket as TLSSocket).getProtocol() ?? '';
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

test('transport: HTTPS on the bid port with the configured certificate; /metrics only on the internal metrics port', async () => {
  // Readiness is probed on the internal port (plain HTTP), the one spawnService is told about.
  const port = await freePort();
  const edge = await spawnService('ingest/main.ts', 'INGEST_METRICS_PORT', { ...edgeEnv(), INGEST_PORT: String(port), INGEST_TLS_CERT_FILE: certFile, INGEST_TLS_KEY_FILE: keyFile }, 60_000);
  procs.push(edge);
  const ca = readFileSync(certFile);
  const bidUrl = `https://127.0.0.1:${port}`;

  const accepted = await httpsRequest(`${bidUrl}/openrtb2/bid`, { method: 'POST', body: JSON.stringify(ortb()), ca });
  assert.equal(accepted.status, 202, accepted.body);
  assert.match(accepted.protocol, /^TLSv1\.[23]$/);
  assert.equal((await httpsRequest(`${bidUrl}/health`, { ca })).status, 200);
  // The certificate is really the one configured: without its CA the client refuses it.
  await assert.rejects(httpsRequest(`${bidUrl}/health`, {}), /self[- ]signed certificate/);
  // Plain HTTP is not spoken on the TLS port.
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) }));

  const onBidPort = await httpsRequest(`${bidUrl}/metrics`, { ca });
  assert.equal(onBidPort.status, 404, '/metrics is not public once INGEST_METRICS_PORT is set');
  const internal = await fetch(`${edge.url}/metrics`);
  assert.equal(internal.status, 200);
  assert.match(await internal.text(), /ingest_requests_total\{[^}]*route="\/openrtb2\/bid"[^}]*status="202"/, 'the internal port serves the metrics, counting the HTTPS request');
  assert.equal((await fetch(`${edge.url}/ready`)).status, 200);
  assert.equal((await fetch(`${edge.url}/openrtb2/bid`, { method: 'POST', body: '{}' })).status, 404, 'no bid traffic on the internal port');
});

test('transport: without INGEST_METRICS_PORT /metrics stays on the (plain) bid port', async () => {
  const edge = await spawnEdge({ ...edgeEnv() });
  procs.push(edge);
  const res = await fetch(`${edge.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /ingest_open_requests/);
});

test('transport: a half or unreadable TLS configuration stops the start in one line naming the variable', async () => {
  for (const [env, message] of [
    [{ INGEST_TLS_CERT_FILE: certFile }, 'INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE must be set together'],
    [{ INGEST_TLS_CERT_FILE: certFile, INGEST_TLS_KEY_FILE: path.join(dir, 'missing.pem') }, `INGEST_TLS_KEY_FILE=\\"${path.join(dir, 'missing.pem')}\\" cannot be read (ENOENT)`],
    [{ INGEST_TLS_CERT_FILE: certFile, INGEST_TLS_KEY_FILE: certFile }, 'could not be loaded: both must be PEM'],
  ] as const) {
    const failed = await spawnEdge({ ...edgeEnv(), ...env }).then((e) => (procs.push(e), 'started'), (err: Error) => err.message);
    assert.match(failed, /exited with code 1/, JSON.stringify(env));
    assert.equal(failed.split('\n').filter((l) => l.includes(message)).length, 1, failed);
  }
});
