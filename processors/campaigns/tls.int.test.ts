/**
 * The campaign API over TLS (CAMPAIGNS_TLS_CERT_FILE / CAMPAIGNS_TLS_KEY_FILE) as a real process on the
 * local stack, with a self-signed certificate made by openssl here: every route answers over HTTPS to a
 * client that trusts the certificate, plain HTTP on the port gets nowhere, a client that does not trust it
 * is refused, and a certificate without its key stops the service at start naming the variable.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../testing/spawn-service.js';
import { bearer, operatorTokenFile } from './auth-fixture.js';
import { waitFor } from '../testing/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'campaigns-tls-'));
const certFile = join(dir, 'api.pem');
const keyFile = join(dir, 'api.key');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
const ca = readFileSync(certFile);
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', main], { env: { ...process.env, LOG_LEVEL: 'warn', CAMPAIGNS_HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

function get(port: number, path: string, opts: { tls: boolean; ca?: Buffer; headers?: Record<string, string> }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, headers: opts.headers ?? {}, timeout: 5000, ...(opts.tls ? { ca: opts.ca } : {}) };
    const req = (opts.tls ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('campaign API over HTTPS with a self-signed certificate', async () => {
  const operator = await operatorTokenFile();
  const port = await freePort();
  const svc = start({ CAMPAIGNS_PORT: String(port), CAMPAIGNS_TLS_CERT_FILE: certFile, CAMPAIGNS_TLS_KEY_FILE: keyFile, ...operator.env });
  try {
    await waitFor(async () => {
      const r = await get(port, '/ready', { tls: true, ca }).catch(() => null);
      if (r?.status === 200) return true;
      assert.equal(svc.child.exitCode, null, `the service exited:\n${svc.output()}`);
      return false;
    }, { what: 'the API to be ready over HTTPS', timeoutMs: 90_000, intervalMs: 200, detail: () => svc.output() });
    const list = await get(port, '/campaigns', { tls: true, ca, headers: bearer(operator.token) });
    assert.equal(list.status, 200, list.body);
    assert.ok(Array.isArray(JSON.parse(list.body)) || typeof JSON.parse(list.body) === 'object');
    assert.equal((await get(port, '/campaigns', { tls: true, ca })).status, 401, 'authentication still applies');
    const metrics = await get(port, '/metrics', { tls: true, ca });
    assert.equal(metrics.status, 200);
    await assert.rejects(get(port, '/health', { tls: false }), 'plain HTTP gets no answer from the TLS port');
    await assert.rejects(get(port, '/health', { tls: true }), /self[- ]signed certificate/, 'a client that does not trust the certificate is refused');
  } finally {
    svc.child.kill('SIGTERM');
    await svc.exited;
    await operator.remove();
  }
});

test('a certificate without its key stops the campaign API at start, naming the variable', async () => {
  const operator = await operatorTokenFile();
  try {
    const svc = start({ CAMPAIGNS_PORT: String(await freePort()), CAMPAIGNS_TLS_CERT_FILE: certFile, ...operator.env });
    assert.equal(await svc.exited, 1);
    assert.match(svc.output(), /CAMPAIGNS_TLS_CERT_FILE and CAMPAIGNS_TLS_KEY_FILE go together/);
  } finally {
    await operator.remove();
  }
});
