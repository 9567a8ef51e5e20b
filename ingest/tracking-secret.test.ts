import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isPipelineError } from '../schemas/errors.js';
import { DEV_TRACKING_SECRET_FILE, KNOWN_EXAMPLE_SECRETS, resolveTrackingSecrets, trackingSecretProblem } from './tracking-secret.js';
import { loadIngestConfig } from './config.js';

const good = randomBytes(32).toString('base64');
const refused = (e: unknown, re: RegExp): boolean => isPipelineError(e, 'CONFIG_INVALID') && re.test(e.message);

test('tracking-secret: unset, published and placeholder secrets are refused, generated ones accepted', () => {
  assert.equal(trackingSecretProblem(good), null);
  assert.equal(trackingSecretProblem(''), 'is not set');
  for (const s of KNOWN_EXAMPLE_SECRETS) assert.equal(trackingSecretProblem(s), 'is a published example value');
  assert.match(trackingSecretProblem('ChangeMe-0123456789abcdef') ?? '', /contains 'changeme'/);
  assert.match(trackingSecretProblem('my-tracking-secret-2024') ?? '', /contains 'secret'/);
  assert.match(trackingSecretProblem('abababababababababababab') ?? '', /fewer than 10 distinct characters/);
});

test('tracking-secret: outside RTB_DEV_MODE the edge refuses to start, naming the variable and how to generate a value', async () => {
  // The former built-in default is no default any more: unset means '' in the configuration.
  assert.equal(loadIngestConfig({}).trackingSecret, '');
  const base = { trackingSecret: '', trackingSecretPrevious: '', devMode: false };
  await assert.rejects(resolveTrackingSecrets(base), (e) => refused(e, /^INGEST_TRACKING_SECRET is not set: refusing to start; generate one with `openssl rand -base64 32`.*INGEST_TRACKING_SECRET_FILE/));
  await assert.rejects(resolveTrackingSecrets({ ...base, trackingSecret: 'rtb-dev-tracking-secret-not-for-production' }), (e) => refused(e, /^INGEST_TRACKING_SECRET is a published example value: refusing to start/));
  await assert.rejects(resolveTrackingSecrets({ ...base, trackingSecret: good, trackingSecretPrevious: 'rtb-dev-tracking-secret-not-for-production' }), (e) => refused(e, /^INGEST_TRACKING_SECRET_PREVIOUS is a published/));
  await assert.rejects(resolveTrackingSecrets({ ...base, trackingSecret: 'rtb-dev-tracking-secret-not-for-production' }), (e) => !(e as Error).message.includes('rtb-dev-tracking-secret'), 'the value is never echoed');
  assert.deepEqual(await resolveTrackingSecrets({ ...base, trackingSecret: good }), { trackingSecret: good, trackingSecretPrevious: '' });
});

test('tracking-secret: RTB_DEV_MODE=1 generates a secret file once (0600) and warns; a weak configured one is accepted with a warning', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edge-secret-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dev = { trackingSecret: '', trackingSecretPrevious: '', devMode: true };
  const [a, b] = await Promise.all([resolveTrackingSecrets(dev, dir), resolveTrackingSecrets(dev, dir)]);
  const path = join(dir, DEV_TRACKING_SECRET_FILE);
  const content = (await readFile(path, 'utf8')).trim();
  assert.equal(a.trackingSecret, content);
  assert.equal(b.trackingSecret, content, 'workers starting together agree on one secret');
  assert.equal(trackingSecretProblem(content), null);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.match(a.warning ?? '', /^RTB_DEV_MODE=1: INGEST_TRACKING_SECRET is not set: signing tracking tokens with the development secret/);
  assert.ok(!(a.warning ?? '').includes(content), 'the warning names the file, not the secret');
  assert.equal((await resolveTrackingSecrets(dev, dir)).trackingSecret, content, 'kept across restarts');

  const weak = await resolveTrackingSecrets({ ...dev, trackingSecret: 'rtb-dev-tracking-secret-not-for-production' }, dir);
  assert.equal(weak.trackingSecret, 'rtb-dev-tracking-secret-not-for-production');
  assert.match(weak.warning ?? '', /^RTB_DEV_MODE=1: INGEST_TRACKING_SECRET is a published example value; accepted in development mode only/);
  assert.equal((await resolveTrackingSecrets({ ...dev, trackingSecret: good }, dir)).warning, undefined, 'a good secret: no warning');
});
