/**
 * The schema compatibility gate. For each pipeline topic it asks the registry two questions about the
 * local .avsc (the source of truth):
 *   1. history: is it FULL_TRANSITIVE-compatible with every released version in schemas/history/<topic>/
 *      (registered into a scratch subject, so this works on a fresh registry, as in CI);
 *   2. live: is it compatible with the latest version registered under the real subject, if any.
 * Exit 0 when every schema passes, 1 when one is incompatible, 2 when the registry cannot be asked.
 * Run by `npm test` (so CI fails the build on a breaking change) and `npm run schemas:check`.
 *
 *   node --import tsx schemas/compat-gate.ts [--registry URL] [subject=file.avsc ...]
 */
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { loadConfig, commonSpecs } from './config.js';
import { TOPIC_SCHEMAS, loadSchema, subjectFor } from './topics.js';

export interface GateResult {
  subject: string;
  status: 'compatible' | 'new-subject' | 'incompatible';
  messages: string[];
}

const CT = 'application/vnd.schemaregistry.v1+json';

export async function checkSchema(registryUrl: string, subject: string, schema: object): Promise<GateResult> {
  const base = registryUrl.replace(/\/$/, '');
  const res = await fetch(`${base}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`, {
    method: 'POST',
    headers: { 'content-type': CT, accept: CT },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  const body = (await res.json().catch(() => ({}))) as { is_compatible?: boolean; messages?: string[]; error_code?: number; message?: string };
  if (res.status === 404) return { subject, status: 'new-subject', messages: [] };
  if (!res.ok) throw new Error(`registry answered ${res.status} for ${subject}: ${body.message ?? ''}`);
  return { subject, status: body.is_compatible ? 'compatible' : 'incompatible', messages: body.messages ?? [] };
}

/** Released versions of a topic's schema, oldest first (schemas/history/<topic>/v<N>.avsc). */
export function history(topic: string): object[] {
  const dir = new URL(`./history/${topic}/`, import.meta.url);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^v\d+\.avsc$/.test(f))
    .sort((a, b) => Number(a.slice(1, -5)) - Number(b.slice(1, -5)))
    .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as object);
}

/** Registers `versions` into a fresh scratch subject (FULL_TRANSITIVE) and checks `schema` against all of them. */
export async function checkAgainstHistory(registryUrl: string, topic: string, versions: object[], schema: object): Promise<GateResult> {
  const base = registryUrl.replace(/\/$/, '');
  const scratch = `_gate.${topic}.${randomUUID()}-value`;
  const put = (path: string, body: object, method = 'POST') =>
    fetch(`${base}${path}`, { method, headers: { 'content-type': CT }, body: JSON.stringify(body) }).then(async (r) => {
      if (!r.ok) throw new Error(`registry answered ${r.status} to ${method} ${path}: ${await r.text()}`);
    });
  try {
    await put(`/subjects/${scratch}/versions`, { schema: JSON.stringify(versions[0]) });
    await put(`/config/${scratch}`, { compatibility: 'FULL_TRANSITIVE' }, 'PUT');
    for (const v of versions.slice(1)) await put(`/subjects/${scratch}/versions`, { schema: JSON.stringify(v) });
    const r = await checkSchema(registryUrl, scratch, schema);
    return { ...r, subject: `${subjectFor(topic)} (history v1..v${versions.length})` };
  } finally {
    await fetch(`${base}/subjects/${scratch}`, { method: 'DELETE' }).catch(() => undefined);
  }
}

async function main(argv: string[]): Promise<number> {
  let registryUrl = loadConfig(commonSpecs).schemaRegistryUrl;
  const pairs: Array<[string, object]> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--registry') registryUrl = argv[++i] ?? registryUrl;
    else {
      const [subject, file] = a.split('=');
      if (!subject || !file) throw new Error(`argument ${JSON.stringify(a)} is not subject=file.avsc`);
      pairs.push([subject, JSON.parse(readFileSync(file, 'utf8')) as object]);
    }
  }
  const checks: Array<() => Promise<GateResult>> = pairs.map(([subject, schema]) => () => checkSchema(registryUrl, subject, schema));
  if (pairs.length === 0) {
    for (const [topic, file] of Object.entries(TOPIC_SCHEMAS)) {
      const schema = loadSchema(file);
      const versions = history(topic);
      if (versions.length > 0) checks.push(() => checkAgainstHistory(registryUrl, topic, versions, schema));
      checks.push(() => checkSchema(registryUrl, subjectFor(topic), schema));
    }
  }
  let failed = 0;
  for (const check of checks) {
    let r: GateResult;
    try {
      r = await check();
    } catch (err) {
      process.stderr.write(`schema gate: cannot ask the registry at ${registryUrl} (${(err as Error).message}); start it with 'npm run stack:up' or set SCHEMA_REGISTRY_URL\n`);
      return 2;
    }
    process.stdout.write(`${r.status === 'incompatible' ? 'FAIL' : 'ok  '} ${r.subject}: ${r.status}${r.messages.length ? ` (${r.messages.join('; ')})` : ''}\n`);
    if (r.status === 'incompatible') failed++;
  }
  if (failed) process.stderr.write(`schema gate: ${failed} schema(s) break compatibility: add defaults to new fields, keep removed fields' defaults, or use a new topic\n`);
  return failed ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`schema gate: ${(err as Error).message}\n`);
    process.exit(2);
  });
}
