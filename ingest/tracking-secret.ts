/**
 * The HMAC secret of the tracking tokens (tracking-token.ts), checked before the edge starts. Whoever
 * knows it can sign notices, so a secret that is unset or published (the old built-in default, the
 * examples in this repository, a placeholder) is refused, unless RTB_DEV_MODE=1: then an unset secret is
 * read from DEV_TRACKING_SECRET_FILE, generated there (mode 0600) the first time, and a weak one is
 * accepted; either way with a warning. Nothing here logs or echoes a secret.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { PipelineError } from '../schemas/errors.js';
import type { IngestConfig } from './config.js';

/** Where development mode keeps a generated secret (relative to the working directory: the repository root). */
export const DEV_TRACKING_SECRET_FILE = '.stack/tracking-secret';

/** Values published in this repository (defaults and examples): refused as secrets, whatever their length. */
export const KNOWN_EXAMPLE_SECRETS: readonly string[] = [
  'rtb-dev-tracking-secret-not-for-production',
  'dev-only-tracking-key-of-overlays-local-not-for-production',
];
/** Words of templates and examples: a secret containing one was never generated. */
const PLACEHOLDERS = ['changeme', 'change-me', 'change_me', 'replace', 'example', 'default', 'password', 'secret', 'placeholder', 'dummy', 'xxxxxx', 'not-for-production', 'dev-only'];

export const GENERATE_HINT = 'generate one with `openssl rand -base64 32` (the same on every edge node) and put it in a file named by INGEST_TRACKING_SECRET_FILE (or in INGEST_TRACKING_SECRET)';

/** Why a configured secret is refused, or null. Never echoes the value. */
export function trackingSecretProblem(secret: string): string | null {
  if (secret === '') return 'is not set';
  if (KNOWN_EXAMPLE_SECRETS.includes(secret)) return 'is a published example value';
  const lower = secret.toLowerCase();
  const word = PLACEHOLDERS.find((p) => lower.includes(p));
  if (word !== undefined) return `contains '${word}': it looks like a placeholder or a known default, not a generated secret`;
  if (new Set(secret).size < 10) return 'has fewer than 10 distinct characters: it is not random';
  return null;
}

export interface TrackingSecrets {
  readonly trackingSecret: string;
  readonly trackingSecretPrevious: string;
  /** Something to log as a warning (development mode). */
  readonly warning?: string;
}

type SecretConfig = Pick<IngestConfig, 'trackingSecret' | 'trackingSecretPrevious' | 'devMode'>;
const refuse = (message: string): PipelineError => new PipelineError('CONFIG_INVALID', message);

/** The secrets to sign and verify with, or CONFIG_INVALID saying which variable to set and how to generate it. */
export async function resolveTrackingSecrets(cfg: SecretConfig, cwd = process.cwd()): Promise<TrackingSecrets> {
  const problem = trackingSecretProblem(cfg.trackingSecret);
  const previousProblem = cfg.trackingSecretPrevious === '' ? null : trackingSecretProblem(cfg.trackingSecretPrevious);
  if (!cfg.devMode) {
    if (problem) throw refuse(`INGEST_TRACKING_SECRET ${problem}: refusing to start; ${GENERATE_HINT} (RTB_DEV_MODE=1 only on a development machine)`);
    if (previousProblem) throw refuse(`INGEST_TRACKING_SECRET_PREVIOUS ${previousProblem}: refusing to start; set it to the secret being rotated out, or unset it`);
    return { trackingSecret: cfg.trackingSecret, trackingSecretPrevious: cfg.trackingSecretPrevious };
  }
  if (!problem && !previousProblem) return { trackingSecret: cfg.trackingSecret, trackingSecretPrevious: cfg.trackingSecretPrevious };
  if (cfg.trackingSecret !== '') {
    return {
      trackingSecret: cfg.trackingSecret,
      trackingSecretPrevious: cfg.trackingSecretPrevious,
      warning: `RTB_DEV_MODE=1: INGEST_TRACKING_SECRET${problem ? '' : '_PREVIOUS'} ${problem ?? previousProblem}; accepted in development mode only: anyone who knows it can forge notices`,
    };
  }
  const path = resolve(cwd, DEV_TRACKING_SECRET_FILE);
  const generated = await writeNewSecret(path);
  const secret = (await readFile(path, 'utf8').catch((err: Error) => {
    throw refuse(`the development tracking secret ${path} cannot be read: ${err.message}`);
  })).trim();
  if (secret.length < 16) throw refuse(`the development tracking secret in ${path} is shorter than 16 characters: delete the file to have it generated again`);
  return {
    trackingSecret: secret,
    trackingSecretPrevious: cfg.trackingSecretPrevious,
    warning: `RTB_DEV_MODE=1: INGEST_TRACKING_SECRET is not set: signing tracking tokens with the development secret ${generated ? 'generated now in' : 'in'} ${path}; never in production (${GENERATE_HINT})`,
  };
}

/**
 * Creates `path` with a new secret, mode 0600, never overwriting: written to a temporary file first and
 * then hard-linked into place, so edge workers starting together agree and none reads a half-written
 * file. False when it existed already.
 */
async function writeNewSecret(path: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(`${randomBytes(32).toString('base64')}\n`, 'utf8');
    } finally {
      await fh.close();
    }
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw refuse(`could not write a development tracking secret to ${path}: ${(err as Error).message}`);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
