/**
 * An incremental HTTP/1.1 response parser for the load generator: the status, a Content-Length or chunked body (none for 1xx,
 * 204 and 304), `Connection: close`; interim 1xx responses are skipped. A close-delimited body (HTTP/1.0 style) is an error
 * that says so, never a miscounted answer.
 */
interface ParsedResponse {
  readonly status: number;
  /** The server will close (or has closed) the connection after this response. */
  readonly close: boolean;
  /** Set when the bytes are not a response this parser reads. */
  readonly error?: string;
  /** The body, only when the parser keeps bodies. */
  readonly body?: Buffer;
}

const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const bad = (error: string): ParsedResponse => ({ status: 0, close: true, error });

export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  /** 0 (or 1xx) while a head is still to come. */
  private status = 0;
  private close = false;
  /** The body's length, or -1: chunked. */
  private length = 0;

  /** `keepBody`: return each response's body (the chaos load reads bid answers); otherwise bodies are discarded. */
  constructor(private readonly keepBody = false) {}

  reset(): void {
    [this.buf, this.status, this.close, this.length] = [Buffer.alloc(0), 0, false, 0];
  }

  /** Feeds bytes; returns the response once it is complete, else null. */
  push(chunk: Buffer): ParsedResponse | null {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.status < 200) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return this.buf.length > MAX_HEAD_BYTES ? bad('response head too large') : null;
      const err = this.parseHead(this.buf.toString('latin1', 0, end));
      this.buf = this.buf.subarray(end + 4);
      if (err) return bad(err);
    }
    const body = this.length < 0 ? this.chunks() : this.buf.length < this.length ? null : [this.buf.subarray(0, this.length)];
    if (body === null || typeof body === 'string') return body === null ? null : bad(body);
    const res = { status: this.status, close: this.close, ...(this.keepBody ? { body: Buffer.concat(body) } : {}) };
    this.reset();
    return res;
  }

  /** A chunked body's data once its last chunk and trailer are in (null before), or what is wrong with it. */
  private chunks(): Buffer[] | string | null {
    const body: Buffer[] = [];
    for (let at = 0; ;) {
      const line = this.buf.indexOf(CRLF, at);
      if (line < 0) return null;
      const size = parseInt(this.buf.toString('latin1', at, line), 16);
      if (!(size >= 0)) return 'bad chunk size';
      if (size === 0) return this.buf.indexOf(CRLF2, line) < 0 ? null : body; // the (usually empty) trailer ends with a blank line
      if (this.buf.length < line + 2 + size + 2) return null;
      body.push(this.buf.subarray(line + 2, line + 2 + size));
      at = line + 2 + size + 2;
    }
  }

  private parseHead(head: string): string | undefined {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) return 'bad status line';
    this.status = Number(m[1]);
    const lower = head.toLowerCase();
    this.close = /\r\nconnection:[ \t]*close/.test(lower);
    const length = /\r\ncontent-length:[ \t]*(\d+)/.exec(lower);
    if (this.status < 200 || this.status === 204 || this.status === 304) this.length = 0;
    else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) this.length = -1;
    else if (length) this.length = Number(length[1]);
    else return `status ${this.status} with neither Content-Length nor chunked encoding: a close-delimited body is not read`;
    return undefined;
  }
}
