/**
 * Resource bounds of the edge (issue 11.5): what one client, or many, can make the edge hold.
 *
 *  - Requests in progress (INGEST_MAX_CONNECTIONS). uWebSockets.js has no connection-level hooks for
 *    HTTP (no open/close callback), so the edge counts what it can see: a request of the bid or notice
 *    routes from its handler (headers received) to its answer or abort. HTTP/1.1 carries one request at
 *    a time per connection, so this is the number of connections holding anything of the edge's; beyond
 *    it a new request is answered 503 and its connection closed. Connections that hold nothing (idle
 *    keep-alive, or headers still trickling in) are uWS's: it closes a connection that idles, or receives
 *    under 16 KB per 10 s, after about 10 s (measured: a socket sending one header byte every 500 ms was
 *    closed after 12 s), and the process's file descriptor limit bounds how many exist at once.
 *  - Body deadline (INGEST_BODY_TIMEOUT_MS): a body not complete this long after the headers is answered
 *    408 and the connection closed. One timer sweeps every deadline (no timer per request).
 *  - The notice routes (tracking-routes.ts) get both through `boundedRoutes`, which wraps their handlers.
 */
import type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp } from '@trufflesuite/uws-js-unofficial';

export interface Deadline {
  readonly at: number;
  readonly expire: () => void;
}

/**
 * Body deadlines, all of the same length, swept by one interval timer. Deadlines are kept in insertion
 * order, which is deadline order, so a sweep stops at the first one not yet due.
 */
export class BodyDeadlines {
  private readonly entries = new Set<Deadline>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** `expire` runs once, within about a tenth of the timeout after it, unless cleared first. */
  add(expire: () => void): Deadline {
    const d: Deadline = { at: this.now() + this.timeoutMs, expire };
    this.entries.add(d);
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), Math.min(1000, Math.max(20, Math.floor(this.timeoutMs / 10))));
      this.timer.unref();
    }
    return d;
  }

  clear(d: Deadline | null): void {
    if (d !== null) this.entries.delete(d);
  }

  sweep(): void {
    const t = this.now();
    for (const d of this.entries) {
      if (d.at > t) break;
      this.entries.delete(d);
      d.expire();
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The bound on requests in progress, shared by the bid and the notice routes. */
export class OpenRequests {
  count = 0;
  refused = 0;

  constructor(readonly max: number) {}

  /** Counts a new request in; false (nothing counted) when the bound is reached. */
  tryOpen(): boolean {
    if (this.count >= this.max) {
      this.refused++;
      return false;
    }
    this.count++;
    return true;
  }

  close(): void {
    this.count--;
  }
}

export interface RouteBounds {
  open: OpenRequests;
  deadlines: BodyDeadlines;
  /** Answers a request refused by the bound on requests in progress (503, connection closed). */
  refuse: (res: HttpResponse) => void;
  /** Answers a request whose body missed its deadline (408, connection closed); `end` is the response's own. */
  expire: (res: HttpResponse, end: (body: RecognizedString, close: boolean) => void) => void;
}

type Handler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;
type Method = 'get' | 'post' | 'any';

/**
 * The app as route code sees it, with every handler registered through get/post/any bounded: counted
 * against `open` (refused beyond it), and a body it reads bound by `deadlines`. The route's own
 * onAborted and onData keep working: the wrapper registers its own and forwards. When a body misses its
 * deadline the route sees an abort (so it writes nothing more) and the wrapper answers 408. Used for
 * the notice routes, whose module stays unaware of the bounds; the bid routes apply them inline.
 */
export function boundedRoutes(app: TemplatedApp, bounds: RouteBounds): TemplatedApp {
  const wrap = (handler: Handler): Handler => (res, req) => {
    if (!bounds.open.tryOpen()) return bounds.refuse(res);
    let released = false;
    let deadline: Deadline | null = null;
    let routeAbort: (() => void) | null = null;
    const release = (): void => {
      if (released) return;
      released = true;
      bounds.open.close();
      bounds.deadlines.clear(deadline);
    };
    const onAborted = res.onAborted.bind(res);
    const onData = res.onData.bind(res);
    const end = res.end.bind(res);
    const endWithoutBody = res.endWithoutBody.bind(res);
    const close = res.close.bind(res);
    onAborted(() => {
      release();
      routeAbort?.();
    });
    // Own properties shadow the native methods for this response only.
    res.onAborted = (h) => {
      routeAbort = h;
      return res;
    };
    res.onData = (h) => {
      deadline ??= bounds.deadlines.add(() => {
        if (released) return;
        const abort = routeAbort;
        routeAbort = null;
        abort?.();
        release();
        bounds.expire(res, (body, closeConnection) => end(body, closeConnection));
      });
      return onData((chunk, isLast) => {
        if (isLast) bounds.deadlines.clear(deadline);
        if (!released) h(chunk, isLast);
      });
    };
    res.end = (body, closeConnection) => {
      release();
      return end(body, closeConnection);
    };
    res.endWithoutBody = (length, closeConnection) => {
      release();
      return endWithoutBody(length, closeConnection);
    };
    res.close = () => {
      release();
      return close();
    };
    return handler(res, req);
  };
  const methods: readonly Method[] = ['get', 'post', 'any'];
  const proxy: TemplatedApp = new Proxy(app, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && (methods as readonly string[]).includes(prop)) {
        return (pattern: RecognizedString, handler: Handler) => {
          target[prop as Method](pattern, wrap(handler));
          return proxy;
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return proxy;
}
