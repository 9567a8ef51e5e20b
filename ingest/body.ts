/**
 * Request-body rules of the edge, pure: content type, size limit (before and after gzip) and JSON parsing.
 * Each failure is an HttpError carrying the status and a short JSON-ready reason.
 */
import { gunzipSync } from 'node:zlib';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function checkContentType(contentType: string): void {
  const mime = contentType.split(';')[0]?.trim().toLowerCase();
  if (mime !== 'application/json') {
    throw new HttpError(415, 'unsupported_media_type', `content-type must be application/json, got ${JSON.stringify(contentType || '(none)')}`);
  }
}

/** Rejects a declared Content-Length over the limit before any byte is read. */
export function checkDeclaredLength(contentLength: string, maxBytes: number): void {
  if (contentLength !== '' && Number(contentLength) > maxBytes) {
    throw new HttpError(413, 'payload_too_large', `body of ${contentLength} bytes exceeds the ${maxBytes}-byte limit`);
  }
}

/** Inflates a gzip body (bounded: a zip bomb stops at the limit) and parses the JSON. */
export function decodeBody(raw: Buffer, contentEncoding: string, maxBytes: number): unknown {
  let bytes = raw;
  const enc = contentEncoding.trim().toLowerCase();
  if (enc === 'gzip') {
    try {
      bytes = gunzipSync(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new HttpError(413, 'payload_too_large', `inflated body exceeds the ${maxBytes}-byte limit`);
      }
      throw new HttpError(400, 'invalid_body', 'body is not valid gzip');
    }
  } else if (enc !== '' && enc !== 'identity') {
    throw new HttpError(415, 'unsupported_media_type', `content-encoding ${JSON.stringify(enc)} is not supported (use gzip or none)`);
  }
  if (bytes.length === 0) throw new HttpError(400, 'invalid_body', 'body is empty');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
}

export function checkOpenRtbVersion(header: string): string | null {
  if (header === '') return null;
  if (!/^2\.\d{1,2}(\.\d{1,2})?$/.test(header.trim())) {
    throw new HttpError(400, 'unsupported_version', `x-openrtb-version ${JSON.stringify(header)} is not supported (2.x only)`, 'x-openrtb-version');
  }
  return header.trim();
}
