/** An incremental HTTP/1.1 response parser for the load generator: status, Content-Length or chunked, `Connection: close`, 1xx skipped. */
interface ParsedResponse {
  readonly status: number;
  /** The server will close (or has closed) the connection after this response. */
  readonly close: boolean;
  /** Set when the bytes are not a valid HTTP/1.1 response. */
  readonly error?: string;
  /** The body, only when the parser keeps bodies. */
  readonly body?: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const bad = (error: string): ParsedResponse => ({ status: 0, close: true, error });

type Mode = 'head' | 'length' | 'chunked' | 'until-close';

export class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  private mode: Mode = 'head';
  private status = 0;
  private close = false;
  private remaining = 0;
  private body: Buffer[] = [];

  /** `keepBody`: return each response's body (the chaos load reads bid answers); otherwise bodies are discarded. */
  constructor(private readonly keepBody = false) {}

  reset(): void {
    this.body = [];
    this.buf = Buffer.alloc(0);
    this.mode = 'head';
    this.status = 0;
    this.close = false;
    this.remaining = 0;
  }

  /** Feeds bytes; returns the response once it is complete, else null. */
  push(chunk: Buffer): ParsedResponse | null {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      switch (this.mode) {
        case 'head': {
          const end = this.buf.indexOf(CRLF2);
          if (end < 0) return this.buf.length > MAX_HEAD_BYTES ? bad('response head too large') : null;
          const head = this.buf.toString('latin1', 0, end);
          this.buf = this.buf.subarray(end + 4);
          const err = this.parseHead(head);
          if (err) return bad(err);
          if (this.status >= 100 && this.status < 200) continue; // interim response: read the real one
          break;
        }
        case 'length': {
          if (this.buf.length < this.remaining) {
            if (this.keepBody) this.body.push(this.buf);
            this.remaining -= this.buf.length;
            this.buf = Buffer.alloc(0);
            return null;
          }
          if (this.keepBody) this.body.push(this.buf.subarray(0, this.remaining));
          return this.done();
        }
        case 'chunked': {
          const lineEnd = this.buf.indexOf(CRLF);
          if (lineEnd < 0) return null;
          const size = parseInt(this.buf.toString('latin1', 0, lineEnd), 16);
          if (!Number.isFinite(size) || size < 0) return bad('bad chunk size');
          if (size === 0) {
            // last chunk: wait for the end of the (usually empty) trailer section
            const after = lineEnd + 2;
            if (this.buf.length < after + 2) return null;
            if (this.buf[after] === 13 && this.buf[after + 1] === 10) return this.done();
            return this.buf.indexOf(CRLF2, after) < 0 ? null : this.done();
          }
          if (this.buf.length < lineEnd + 2 + size + 2) return null;
          if (this.keepBody) this.body.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
          this.buf = this.buf.subarray(lineEnd + 2 + size + 2);
          continue;
        }
        case 'until-close':
          if (this.keepBody) this.body.push(this.buf);
          this.buf = Buffer.alloc(0);
          return null;
      }
    }
  }

  /** Called when the socket ends: completes a body delimited by the close, else null. */
  finish(): ParsedResponse | null {
    if (this.mode !== 'until-close') return null;
    return this.keepBody ? { status: this.status, close: true, body: Buffer.concat(this.body) } : { status: this.status, close: true };
  }

  private parseHead(head: string): string | undefined {
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!m) return 'bad status line';
    this.status = Number(m[1]);
    const lower = head.toLowerCase();
    this.close = /\r\nconnection:[ \t]*close/.test(lower);
    const length = /\r\ncontent-length:[ \t]*(\d+)/.exec(lower);
    if (this.status < 200) return undefined;
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) this.mode = 'chunked';
    else if (length) {
      this.mode = 'length';
      this.remaining = Number(length[1]);
    } else if (this.status === 204 || this.status === 304) {
      this.mode = 'length';
      this.remaining = 0;
    } else this.mode = 'until-close';
    return undefined;
  }

  private done(): ParsedResponse {
    const res: ParsedResponse = { status: this.status, close: this.close, ...(this.keepBody ? { body: Buffer.concat(this.body) } : {}) };
    this.reset();
    return res;
  }
}
