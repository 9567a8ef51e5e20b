/** Writing one HTTP answer on uWebSockets.js: status line, headers and body in one corked write. */
import type { HttpResponse } from '@trufflesuite/uws-js-unofficial';

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 202: '202 Accepted', 204: '204 No Content', 302: '302 Found', 400: '400 Bad Request', 401: '401 Unauthorized',
  404: '404 Not Found', 405: '405 Method Not Allowed', 413: '413 Payload Too Large', 415: '415 Unsupported Media Type',
  429: '429 Too Many Requests', 500: '500 Internal Server Error', 503: '503 Service Unavailable',
  408: '408 Request Timeout',
};

/**
 * Writes the answer; `close` asks uWS to close the connection after it (e.g. an unread oversized body);
 * `requestId`, when given, is answered as `x-request-id` (the bid routes; no headers object per answer for it).
 */
export function writeAnswer(res: HttpResponse, status: number, headers: Readonly<Record<string, string>> | undefined, body: string | Buffer | undefined, close: boolean, requestId?: string): void {
  res.cork(() => {
    res.writeStatus(STATUS_TEXT[status] ?? String(status));
    if (requestId !== undefined) res.writeHeader('x-request-id', requestId);
    if (headers) for (const k in headers) res.writeHeader(k, headers[k]!);
    res.end(body, close);
  });
}
