/**
 * The chaos run's traffic: steady open-loop load at the edge (bench/lib's connection pool and bodies),
 * asynchronous `POST /bid` (202 once Kafka holds the request) and synchronous `POST /openrtb2/bid` (200 with
 * the auction's answer, or 204) side by side, plus the notices an exchange would send for the bids it was
 * answered with (win `nurl`, billing `burl`, the impression pixel in `adm`), some of them twice.
 *
 * Every request and notice is remembered with what became of it (its status, a transport error, a timeout,
 * or never sent), so the checks can compare what the edge acknowledged with what reached Kafka and Postgres.
 * Request i of each kind is scheduled at t0 + i/rate whatever happened to earlier ones (open loop).
 */
import http from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { HttpPool, type PoolRequest } from '../../bench/lib/http-pool.js';
import { openRtbBody, simpleBody } from '../../bench/lib/bodies.js';
import { AUCTION_PRICE_MACRO, eventIdFor, NOTICE_TYPES, type NoticeSegment } from '../../ingest/tracking-notice.js';
import { requestKey } from '../../schemas/request-key.js';
import { DEV_EXCHANGE } from '../../ingest/exchanges.js';

export type RequestKind = 'async' | 'sync';

/** What became of one request: an HTTP status, or why none came. */
export type Fate = number | 'unsent' | 'timeout' | `error:${string}`;

export interface LoadOptions {
  /** Base URL of the edge, e.g. http://127.0.0.1:18080 */
  edgeUrl: string;
  /** Prefix of every request id (ids are `<prefix>-a-<n>` and `<prefix>-s-<n>`). */
  idPrefix: string;
  asyncRate: number;
  syncRate: number;
  /** tmax of the synchronous requests (ms). */
  tmaxMs: number;
  /** A request (or notice) unanswered this long after its scheduled time is given up (longer than the edge's delivery timeout). */
  timeoutMs: number;
  connections: number;
  /** Shares of won bids whose win notice, billing notice and impression pixel are sent; share of sent notices sent again. */
  notices: { win: number; bill: number; imp: number; duplicate: number };
}

export interface NoticeRecord {
  /** The event id the edge derives (same for a repeated notice). */
  eventId: string;
  requestId: string;
  type: (typeof NOTICE_TYPES)[NoticeSegment];
  /** 1 for the first send, 2 for the repeat. */
  copy: number;
  fate?: Fate;
}

export interface LoadCounts {
  async: Record<string, number>;
  sync: Record<string, number>;
  notices: Record<string, number>;
}

const TICK_MS = 5;
const REAP_MS = 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A fixed pseudo-random fraction in [0, 1) for (seq, salt): the same run decides the same way. */
function fraction(seq: number, salt: number): number {
  let h = (seq * 0x9e3779b1 + salt * 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 2 ** 32;
}

interface Stream {
  kind: RequestKind;
  rate: number;
  pool: HttpPool;
  body: (seq: number) => string;
  fates: Fate[];
  next: number;
}

interface Bid {
  impid: string;
  price: number;
  nurl: string;
  burl: string;
  adm: string;
  cid: string;
}

export class ChaosLoad {
  private readonly streams: Stream[] = [];
  private t0 = 0;
  private timer: NodeJS.Timeout | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private running = false;
  private readonly noticeFlights = new Set<Promise<void>>();
  private readonly pendingRepeats = new Set<NodeJS.Timeout>();
  /** The latest scheduled time (performance.now()) of a request answered 202; -1 before any. */
  lastAcceptedAt = -1;
  /** Winner (campaign id) the edge named in each 200 answer, by synchronous request seq. */
  readonly winners = new Map<number, string>();
  readonly notices: NoticeRecord[] = [];
  /** Notices go over a bounded set of keep-alive connections, as an exchange's notifier would (fetch opened one per notice in flight: 1,700 at once). */
  private readonly noticeAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  /** How late this process ran its timers: large values mean the generator itself was starved. */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly o: LoadOptions) {
    const stream = (kind: RequestKind, rate: number, path: string, body: (seq: number) => string): void => {
      if (rate <= 0) return;
      const fates: Fate[] = [];
      const url = new URL(path, o.edgeUrl);
      const s: Stream = {
        kind, rate, body, fates, next: 0,
        pool: new HttpPool({ host: url.hostname, port: Number(url.port), path: url.pathname, headers: {} }, o.connections, {
          onResponse: (req, status, bodyBytes) => this.answered(s, req, status, bodyBytes),
          onError: (req, code) => void (fates[req.seq] = `error:${code}`),
        }, kind === 'sync'),
      };
      this.streams.push(s);
    };
    stream('async', o.asyncRate, '/bid', simpleBody(`${o.idPrefix}-a`));
    stream('sync', o.syncRate, '/openrtb2/bid', openRtbBody(`${o.idPrefix}-s`, { tmax: o.tmaxMs, users: 1000 }));
  }

  idOf(kind: RequestKind, seq: number): string {
    return `${this.o.idPrefix}-${kind === 'async' ? 'a' : 's'}-${seq}`;
  }

  /** When request `seq` of `kind` was (or is) due, performance.now() based. */
  scheduledAt(kind: RequestKind, seq: number): number {
    const s = this.streams.find((x) => x.kind === kind);
    return s ? this.t0 + seq * (1000 / s.rate) : Number.NaN;
  }

  /** Milliseconds since the load started (performance.now() based). */
  elapsedMs(at = performance.now()): number {
    return at - this.t0;
  }

  /** Every request sent or scheduled so far, with its fate (undefined while in flight). */
  requests(): Array<{ id: string; kind: RequestKind; seq: number; fate: Fate | undefined }> {
    const out: Array<{ id: string; kind: RequestKind; seq: number; fate: Fate | undefined }> = [];
    for (const s of this.streams) for (let seq = 0; seq < s.next; seq++) out.push({ id: this.idOf(s.kind, seq), kind: s.kind, seq, fate: s.fates[seq] });
    return out;
  }

  /** Opens the connections (the edge must be listening) and starts the schedule. */
  async start(): Promise<void> {
    await Promise.all(this.streams.map((s) => s.pool.connect()));
    this.loopDelay.enable();
    this.running = true;
    this.t0 = performance.now() + TICK_MS;
    const tick = (): void => {
      const now = performance.now();
      for (const s of this.streams) {
        const interval = 1000 / s.rate;
        while (this.t0 + s.next * interval <= now) {
          const seq = s.next++;
          s.pool.submit({ seq, scheduledAt: this.t0 + seq * interval, payload: s.body(seq), sentAt: 0 });
        }
      }
      if (this.running) this.timer = setTimeout(tick, TICK_MS);
    };
    this.timer = setTimeout(tick, TICK_MS);
    this.reaper = setInterval(() => {
      const cutoff = performance.now() - this.o.timeoutMs;
      for (const s of this.streams) for (const req of s.pool.expire(cutoff)) s.fates[req.seq] ??= req.sentAt === 0 ? 'unsent' : 'timeout';
    }, REAP_MS);
  }

  /** Stops scheduling; resolves once every request and notice has its fate (bounded by the timeout). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    const deadline = performance.now() + this.o.timeoutMs + 2000;
    while (performance.now() < deadline && (this.streams.some((s) => s.pool.outstanding > 0) || this.pendingRepeats.size > 0 || this.noticeFlights.size > 0)) await sleep(50);
    clearInterval(this.reaper);
    for (const s of this.streams) for (const req of s.pool.close()) s.fates[req.seq] ??= req.sentAt === 0 ? 'unsent' : 'timeout';
    for (const t of this.pendingRepeats) clearTimeout(t);
    await Promise.all([...this.noticeFlights]);
    this.noticeAgent.destroy();
    this.loopDelay.disable();
  }

  /** The generator's event-loop delay over the run (ms). */
  loopDelayMs(): { p50: number; p99: number; max: number } {
    const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
    return { p50: ms(this.loopDelay.percentile(50)), p99: ms(this.loopDelay.percentile(99)), max: ms(this.loopDelay.max) };
  }

  /** Answers and other fates by kind; notices by type, copy and fate. */
  counts(): LoadCounts {
    const out: LoadCounts = { async: {}, sync: {}, notices: {} };
    const bucket = (f: Fate | undefined): string => (f === undefined ? 'in flight' : String(f));
    for (const s of this.streams) for (let seq = 0; seq < s.next; seq++) {
      const k = bucket(s.fates[seq]);
      out[s.kind][k] = (out[s.kind][k] ?? 0) + 1;
    }
    for (const n of this.notices) {
      const k = `${n.type}${n.copy > 1 ? ' repeat' : ''} ${bucket(n.fate)}`;
      out.notices[k] = (out.notices[k] ?? 0) + 1;
    }
    return out;
  }

  private answered(s: Stream, req: PoolRequest, status: number, body: Buffer | undefined): void {
    if (s.fates[req.seq] !== undefined) return;
    s.fates[req.seq] = status;
    if (status === 202 && req.scheduledAt > this.lastAcceptedAt) this.lastAcceptedAt = req.scheduledAt;
    if (status !== 200 || !body) return;
    let bids: Bid[];
    try {
      bids = (JSON.parse(body.toString()) as { seatbid: Array<{ bid: Bid[] }> }).seatbid.flatMap((sb) => sb.bid);
    } catch {
      return;
    }
    if (bids[0]) this.winners.set(req.seq, bids[0].cid);
    const requestId = this.idOf(s.kind, req.seq);
    bids.forEach((bid, i) => {
      const price = String(bid.price);
      const imp = /src="([^"]*\/notice\/imp\?t=[^"]*)"/.exec(bid.adm)?.[1];
      const wanted: Array<[NoticeSegment, string | undefined, number]> = [
        ['win', bid.nurl.replace(AUCTION_PRICE_MACRO, price), this.o.notices.win],
        ['bill', bid.burl.replace(AUCTION_PRICE_MACRO, price), this.o.notices.bill],
        ['imp', imp, this.o.notices.imp],
      ];
      wanted.forEach(([segment, url, share], k) => {
        const salt = i * 16 + k;
        if (!url || fraction(req.seq, salt) >= share) return;
        const type = NOTICE_TYPES[segment];
        // Notice ids are keyed by the exchange-scoped request key (bid-response.ts); the main command runs the
        // edge in development mode, where every keyless request comes from exchange `dev`.
        const eventId = eventIdFor(requestKey(DEV_EXCHANGE.id, requestId), bid.impid, type);
        this.notify({ eventId, requestId, type, copy: 1 }, url);
        if (fraction(req.seq, salt + 8) < this.o.notices.duplicate) {
          // The exchange retries, or the page reloads: the same notice again a little later.
          const t = setTimeout(() => {
            this.pendingRepeats.delete(t);
            this.notify({ eventId, requestId, type, copy: 2 }, url);
          }, 200 + Math.floor(fraction(req.seq, salt + 9) * 1800));
          this.pendingRepeats.add(t);
        }
      });
    });
  }

  private notify(n: NoticeRecord, url: string): void {
    this.notices.push(n);
    const flight = new Promise<void>((resolve) => {
      const settle = (fate: Fate): void => {
        clearTimeout(timer);
        n.fate ??= fate;
        resolve();
      };
      const req = http.get(url, { agent: this.noticeAgent }, (res) => {
        res.resume();
        res.on('end', () => settle(res.statusCode ?? 0));
        res.on('error', (err: NodeJS.ErrnoException) => settle(`error:${err.code ?? err.message}`));
      });
      req.on('error', (err: NodeJS.ErrnoException) => settle(err.message === 'timeout' ? 'timeout' : `error:${err.code ?? err.message}`));
      // From the send (queueing for a connection included), like the requests' deadline.
      const timer = setTimeout(() => req.destroy(new Error('timeout')), this.o.timeoutMs);
    });
    this.noticeFlights.add(flight);
    void flight.finally(() => this.noticeFlights.delete(flight));
  }
}
