/**
 * Keep-alive HTTP/1.1 over raw `net` sockets, one request in flight per connection, a FIFO queue for requests that find none
 * free: several times node:http's rate with a keep-alive Agent (bench/README.md), so the generator is not the bottleneck.
 */
import net from 'node:net';
import { ResponseParser } from './response-parser.js';

/** One request as the scheduler sees it; the pool fills `sentAt`. */
export interface PoolRequest {
  readonly seq: number;
  readonly scheduledAt: number;
  readonly payload: string;
  sentAt: number;
}

type PoolTarget = { readonly host: string; readonly port: number; readonly path: string; readonly headers: Readonly<Record<string, string>> };

/** `body` only when the pool keeps bodies (constructor's `keepBodies`). */
type PoolEvents = { onResponse(req: PoolRequest, status: number, body?: Buffer): void; onError(req: PoolRequest, code: string): void };

type Connection = { socket: net.Socket; parser: ResponseParser; current: PoolRequest | null; ready: boolean; dead: boolean };

const RECONNECT_BACKOFF_MS = 100;

export class HttpPool {
  private readonly conns: Connection[] = [];
  /** Idle connections (a stack; dead entries are skipped when popped). */
  private readonly idle: Connection[] = [];
  private readonly queue: PoolRequest[] = [];
  private queueHead = 0;
  private readonly prefix: string;
  private closed = false;
  /** Connection attempts that failed or dropped with no request in flight. */
  connectErrors = 0;

  constructor(
    private readonly target: PoolTarget,
    private readonly size: number,
    private readonly events: PoolEvents,
    private readonly keepBodies = false,
  ) {
    // A Content-Type among the extra headers replaces the default.
    const typed = Object.keys(target.headers).some((k) => k.toLowerCase() === 'content-type');
    const extra = Object.entries(target.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    this.prefix =
      `POST ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\n` +
      `${typed ? '' : 'Content-Type: application/json\r\n'}${extra}Content-Length: `;
  }

  /** Opens every connection; rejects with the first connection error (the target is not up). */
  async connect(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, () => new Promise<void>((resolve, reject) => this.open(resolve, reject))));
  }

  submit(req: PoolRequest): void {
    let conn = this.idle.pop();
    while (conn && (conn.dead || conn.current !== null)) conn = this.idle.pop();
    if (conn) this.write(conn, req);
    else this.queue.push(req);
  }

  get outstanding(): number {
    return this.queue.length - this.queueHead + this.conns.filter((c) => c.current !== null).length;
  }

  /** Removes every request scheduled before `cutoff`: queued ones unsent, in-flight ones with their connection replaced. */
  expire(cutoff: number): PoolRequest[] {
    const expired: PoolRequest[] = [];
    while (this.queueHead < this.queue.length && this.queue[this.queueHead]!.scheduledAt < cutoff) expired.push(this.queue[this.queueHead++]!);
    this.compactQueue();
    for (const conn of this.conns) {
      if (conn.current !== null && conn.current.scheduledAt < cutoff) {
        expired.push(conn.current);
        conn.current = null;
        conn.socket.destroy();
      }
    }
    return expired;
  }

  /** Closes every connection and returns whatever was still outstanding. */
  close(): PoolRequest[] {
    this.closed = true;
    const left = this.queue.slice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    for (const conn of this.conns) {
      if (conn.current) left.push(conn.current);
      conn.current = null;
      conn.socket.destroy();
    }
    this.conns.length = 0;
    this.idle.length = 0;
    return left;
  }

  private open(onReady?: () => void, onFail?: (err: Error) => void): void {
    const socket = net.connect({ host: this.target.host, port: this.target.port, noDelay: true });
    const conn: Connection = { socket, parser: new ResponseParser(this.keepBodies), current: null, ready: false, dead: false };
    this.conns.push(conn);
    socket.on('connect', () => {
      conn.ready = true;
      onReady?.();
      this.next(conn);
    });
    socket.on('data', (chunk: Buffer) => {
      const done = conn.parser.push(chunk);
      if (done === null) return;
      if (done.error !== undefined) return void socket.destroy(new Error(done.error));
      const req = conn.current;
      conn.current = null;
      if (req) this.events.onResponse(req, done.status, done.body);
      if (done.close) socket.destroy();
      else this.next(conn);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? err.message;
      if (!conn.ready && onFail) return onFail(new Error(`cannot connect to ${this.target.host}:${this.target.port}: ${code}`, { cause: err }));
      const req = conn.current;
      conn.current = null;
      if (req) this.events.onError(req, code);
      else this.connectErrors++;
    });
    socket.on('close', () => {
      conn.dead = true;
      const i = this.conns.indexOf(conn);
      if (i >= 0) this.conns.splice(i, 1);
      const req = conn.current;
      conn.current = null;
      if (req) this.events.onError(req, 'CLOSED_BEFORE_RESPONSE');
      if (this.closed || (!conn.ready && onFail)) return;
      // Reconnect straight away after a clean close; back off if the connection never came up.
      if (conn.ready) this.open();
      else setTimeout(() => this.closed || this.open(), RECONNECT_BACKOFF_MS).unref();
    });
  }

  private next(conn: Connection): void {
    if (this.queueHead >= this.queue.length) return void this.idle.push(conn);
    const req = this.queue[this.queueHead++]!;
    this.compactQueue();
    this.write(conn, req);
  }

  private write(conn: Connection, req: PoolRequest): void {
    conn.current = req;
    conn.parser.reset();
    req.sentAt = performance.now();
    conn.socket.write(`${this.prefix}${Buffer.byteLength(req.payload)}\r\n\r\n${req.payload}`);
  }

  private compactQueue(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }
}
