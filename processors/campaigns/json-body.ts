/**
 * Reading a JSON request body from node:http with a size limit. Never throws: every failure is an
 * answer (status, error code, message) the API sends as is.
 */
import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: 400 | 413 | 415; readonly error: string; readonly message: string };

/** application/json or any application/*+json, with optional parameters; utf-8 only. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...params] = header.toLowerCase().split(';').map((s) => s.trim());
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) return false;
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return charset === undefined || charset === 'utf-8' || charset === 'utf8';
}

export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  if (!isJsonContentType(req.headers['content-type'])) {
    return { ok: false, status: 415, error: 'unsupported_media_type', message: 'send Content-Type: application/json (utf-8)' };
  }
  const tooLarge = { ok: false, status: 413, error: 'payload_too_large', message: `body exceeds the ${maxBytes}-byte limit` } as const;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge;
  const body = await new Promise<Buffer | 'too_large' | 'aborted'>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop buffering but keep draining (not destroying) the socket, so the 413 can still be written.
      req.off('data', onData);
      req.resume();
      resolve('too_large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => resolve('aborted'));
  });
  if (body === 'too_large') return tooLarge;
  if (body === 'aborted') return { ok: false, status: 400, error: 'invalid_body', message: 'the request body could not be read' };
  const text = body.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, status: 400, error: 'invalid_json', message: `body is not valid JSON: ${(err as Error).message}` };
  }
  // Postgres text and jsonb cannot hold U+0000; refusing it here keeps it a 400 rather than a 500.
  if (hasNul(value)) return { ok: false, status: 400, error: 'invalid_json', message: 'strings must not contain \\u0000' };
  return { ok: true, value };
}

/** Walks the parsed value without recursion (a 50k-deep body must not overflow the stack). */
function hasNul(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\0')) return true;
        stack.push(child);
      }
    }
  }
  return false;
}
