/**
 * The ingest edge's HTTP routes on uWebSockets.js. Routes only: parsing and validation are pure
 * functions (body.ts, openrtb.ts, simple.ts); delivery to Kafka is the Publisher's.
 *
 *   POST /openrtb2/bid   OpenRTB 2.x JSON (gzip allowed; x-openrtb-version honoured)  -> 202 {id}
 *                        (sync mode: 200 BidResponse, or the exchange's no-bid: 204, or 200 with nbr; no-bid.ts)
 *   POST /bid            the simple JSON format                                       -> 202 {id}
 *   GET  /health         live;  GET /ready: Kafka reachable and schemas registered;  GET /metrics
 *   GET|POST /notice/*   tracking notices (tracking-routes.ts)
 *
 * Errors answer JSON `{ "error": code, "message": ..., "field"?: ... }` with 400/401/404/405/413/415/429/503.
 * Every answer of the bid routes carries `x-request-id` (the exchange's when sane, else the OpenRTB id, else
 * generated: processors/runtime/trace-context.ts), which is also a header of the request's Kafka record
 * together with a valid W3C `traceparent`/`tracestate`; log lines about a request name it (`requestId`, `traceId`).
 * Exchanges (exchanges.ts): each bid request is authenticated by its API key (INGEST_API_KEY_HEADER) as
 * one configured exchange (401 otherwise), rate-limited per exchange, and its request id is scoped by the
 * exchange wherever it keys state (schemas/request-key.ts). A client IP whose keys keep failing is
 * answered 429 before its key is checked. Bounds (bounds.ts): requests in progress (503 beyond), body
 * deadline (408), synchronous waits (503 beyond; a client that goes away frees its wait at once).
 * TLS (INGEST_TLS_CERT_FILE/KEY_FILE) and an internal metrics port (INGEST_METRICS_PORT) are optional.
 * uWS rule: `req` is valid only synchronously in the handler, and `res` must not be touched after onAborted.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import uWS from '@trufflesuite/uws-js-unofficial';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../processors/runtime/logger.js';
import { isPipelineError } from '../schemas/errors.js';
import type { BidRequest } from '../schemas/bid-request.js';
import type { IngestConfig } from './config.js';
import { HttpError, checkContentType, checkDeclaredLength, checkOpenRtbVersion, decodeBody } from './body.js';
import { InvalidFieldError } from './fields.js';
import { parseOpenRtb, type Envelope } from './openrtb.js';
import { parseSimple } from './simple.js';
import { RateLimiter } from './rate-limit.js';
import type { EdgeMetrics } from './metrics.js';
import type { AuctionOutcome } from '../schemas/auction-outcome.js';
import { toBidResponse } from './bid-response.js';
import type { LossNotice, TrackingEvent } from '../schemas/tracking-event.js';
import { registerTrackingRoutes } from './tracking-routes.js';
import { writeAnswer } from './answer.js';
import { noBidAnswer } from './no-bid.js';
import { DEV_EXCHANGE, Exchanges, type Exchange } from './exchanges.js';
import { BodyDeadlines, OpenRequests, boundedRoutes, type Deadline } from './bounds.js';
import { requestKey } from '../schemas/request-key.js';
import {
  chooseRequestId, generateRequestId, recordHeadersOf, saneRequestId, traceFromHttp, traceIdOf, type RecordHeaders, type RequestTrace,
} from '../processors/runtime/trace-context.js';

export interface EdgeDeps {
  cfg: IngestConfig;
  log: Logger;
  metrics: EdgeMetrics;
  registry: Registry;
  /** `headers`: the record's Kafka headers (x-request-id, traceparent, tracestate), librdkafka's form. */
  publish: (request: BidRequest, headers?: RecordHeaders) => Promise<void>;
  /** Kafka reachable and schemas registered. */
  isReady: () => boolean;
  /**
   * Synchronous OpenRTB mode: waits for a request's auction outcome (null at the deadline). `key` is
   * requestKey(exchange, id) (schemas/request-key.ts).
   */
  awaitOutcome?: (key: string, timeoutMs: number) => Promise<AuctionOutcome | null>;
  /** Ends a wait awaitOutcome() started (with null), its timer and entry freed: the client went away. */
  cancelOutcome?: (key: string, wait: Promise<AuctionOutcome | null>) => void;
  /**
   * Who may send bid requests (exchanges.ts: main.ts loads and validates them). Absent: development,
   * every request is exchange `dev` without a key (only in-process tests start an edge without it).
   */
  exchanges?: Exchanges;
  /** Writes a tracking notice's event; resolves once the broker acknowledged it. */
  publishTracking: (event: TrackingEvent) => Promise<void>;
  /** Writes a loss notice (lurl) to loss-notices; resolves once the broker acknowledged it. */
  publishLoss: (notice: LossNotice) => Promise<void>;
  now?: () => number;
}

export interface Edge {
  port: number;
  /** The internal metrics port (INGEST_METRICS_PORT), or null when /metrics is on the bid port. */
  metricsPort: number | null;
  /** The bid port speaks HTTPS (INGEST_TLS_CERT_FILE / INGEST_TLS_KEY_FILE). */
  tls: boolean;
  /** Stops accepting, answers 503 to requests that still arrive, and resolves when in-flight requests are answered. */
  drain(timeoutMs: number): Promise<void>;
  readonly inFlight: number;
}

type Route = '/openrtb2/bid' | '/bid';
const PARSERS: Record<Route, (body: unknown, env: Envelope) => BidRequest> = { '/openrtb2/bid': parseOpenRtb, '/bid': parseSimple };
const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };

/** `make` once per key, then the cached value. */
function memo<V>(make: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) cache.set(key, (v = make(key)));
    return v;
  };
}

/**
 * The public app: HTTPS when INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE are set (both or neither),
 * else plain HTTP. Files are checked first so that a wrong path is named (uWS only says "App construction failed").
 */
function createApp(cfg: IngestConfig): uWS.TemplatedApp {
  const cert = cfg.tlsCertFile;
  const key = cfg.tlsKeyFile;
  if (cert === '' && key === '') return uWS.App();
  if (cert === '' || key === '') throw new Error(`INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE must be set together (only ${cert === '' ? 'INGEST_TLS_KEY_FILE' : 'INGEST_TLS_CERT_FILE'} is)`);
  for (const [name, path] of [['INGEST_TLS_CERT_FILE', cert], ['INGEST_TLS_KEY_FILE', key]] as const) {
    try {
      accessSync(path, fsConstants.R_OK);
    } catch (err) {
      throw new Error(`${name}=${JSON.stringify(path)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  try {
    return uWS.SSLApp({ cert_file_name: cert, key_file_name: key });
  } catch {
    throw new Error(`INGEST_TLS_CERT_FILE=${JSON.stringify(cert)} / INGEST_TLS_KEY_FILE=${JSON.stringify(key)} could not be loaded: both must be PEM, the key unencrypted and matching the certificate`);
  }
}

/** A gauge read at scrape time; registered once per registry (in-process tests may start several edges on one). */
function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  if (registry.getSingleMetric(name)) return;
  new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
}

export function startEdge(deps: EdgeDeps): Promise<Edge> {
  const { cfg, log, metrics } = deps;
  const now = deps.now ?? Date.now;
  const exchanges = deps.exchanges ?? Exchanges.dev();
  const gvlVendorId = cfg.gvlVendorId === 0 ? null : cfg.gvlVendorId;
  // Per exchange (keyed by its id, never by what a request presents): its own rate, else the edge-wide default.
  const limiters = new Map<string, RateLimiter>();
  const limiterOf = (e: Exchange): RateLimiter => {
    let l = limiters.get(e.id);
    if (!l) limiters.set(e.id, (l = new RateLimiter(e.rateLimit?.rps ?? cfg.rateLimitPerSec, e.rateLimit?.burst ?? cfg.rateLimitBurst)));
    return l;
  };
  // Failed key checks per client IP, checked before the key is: a flood of guesses is bounded.
  const authFailures = new RateLimiter(cfg.authFailRatePerSec, cfg.authFailBurst);
  const open = new OpenRequests(cfg.maxConnections);
  const deadlines = new BodyDeadlines(cfg.bodyTimeoutMs);
  let waiting = 0;
  let inFlight = 0;
  let draining = false;
  let listenSocket: uWS.us_listen_socket | null = null;

  // Metric children by label values, resolved once: the label lookup is a hash per call otherwise.
  const requestCounter = memo((route: string) => memo((status: string) => metrics.requests.labels(route, status)));
  const latencyOf = memo((route: string) => metrics.latency.labels(route));
  const bytesOf = memo((route: string) => metrics.bytesIn.labels(route));
  function count(route: string, status: number, seconds: number): void {
    requestCounter(route)(String(status)).inc();
    latencyOf(route).observe(seconds);
  }

  function send(res: uWS.HttpResponse, route: string, started: number, status: number, body: string, headers?: Record<string, string>, close = false, requestId?: string): void {
    if (status === 204) writeAnswer(res, status, headers, undefined, close, requestId);
    else writeAnswer(res, status, headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS, body, close, requestId);
    count(route, status, (performance.now() - started) / 1000);
  }

  function sendError(res: uWS.HttpResponse, route: string, started: number, err: HttpError, headers?: Record<string, string>, close = false, requestId?: string): void {
    const body: Record<string, string> = { error: err.error, message: err.message };
    if (err.field !== undefined) body.field = err.field;
    send(res, route, started, err.status, JSON.stringify(body), headers, close, requestId);
  }

  function handleBid(route: Route, res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const started = performance.now();
    // The bound on requests in progress comes first: beyond it nothing else is done for this one.
    if (!open.tryOpen()) return refuseOverCapacity(res, route, started, req.getHeader('x-request-id'));
    // Counted from the first byte to the answer, so a drain waits for requests whose body is still arriving.
    inFlight++;
    let finished = false;
    let aborted = false;
    let deadline: Deadline | null = null;
    const finish = (): void => {
      if (!finished) {
        finished = true;
        inFlight--;
        open.close();
        deadlines.clear(deadline);
      }
    };
    // The exchange's x-request-id and trace context, each kept only when valid; the id is chosen by the answer at the latest.
    const traceparent = req.getHeader('traceparent');
    const trace = traceFromHttp(req.getHeader('x-request-id'), traceparent, traceparent === '' ? '' : req.getHeader('tracestate'));
    const reply = (err: HttpError | null, body: string, headers?: Record<string, string>, close = false, status = 202): void => {
      if (!aborted && !finished) {
        if (err) sendError(res, route, started, err, headers, close, chooseRequestId(trace));
        else send(res, route, started, status, body, headers, false, chooseRequestId(trace));
      }
      finish();
    };
    const state: RequestState = { aborted: false, cancelWait: null };
    res.onAborted(() => {
      aborted = true;
      state.aborted = true;
      // A synchronous wait ends now, its waiter and timer freed, rather than at tmax.
      state.cancelWait?.();
      finish();
    });
    // Everything needed from `req` is read now: it is invalid after this function returns.
    const contentType = req.getHeader('content-type');
    const contentEncoding = req.getHeader('content-encoding');
    const contentLength = req.getHeader('content-length');
    const version = req.getHeader('x-openrtb-version');
    const presented = exchanges.open ? '' : req.getHeader(cfg.apiKeyHeader);
    let exchange: Exchange = DEV_EXCHANGE;
    try {
      if (draining) throw new HttpError(503, 'shutting_down', 'this edge node is shutting down; retry on another', undefined, { 'retry-after': '1' });
      if (!exchanges.open) {
        const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
        const blocked = authFailures.peek(ip, now());
        if (blocked > 0) {
          metrics.boundRejections.inc({ bound: 'auth_failures' });
          throw new HttpError(429, 'rate_limited', 'too many failed API key checks from this address', undefined, { 'retry-after': String(blocked) });
        }
        const found = exchanges.authenticate(presented);
        if (found === null) {
          authFailures.take(ip, now());
          throw new HttpError(401, 'unauthorized', `missing or unknown API key in the ${cfg.apiKeyHeader} header`);
        }
        exchange = found;
      }
      const limiter = limiterOf(exchange);
      if (limiter.enabled) {
        const wait = limiter.take(exchange.id, now());
        if (wait > 0) throw new HttpError(429, 'rate_limited', `rate limit of exchange ${exchange.id} exceeded`, undefined, { 'retry-after': String(wait) });
      }
      if (route === '/openrtb2/bid' && deps.awaitOutcome !== undefined && waiting >= cfg.maxWaiters) throw overWaiters();
      checkContentType(contentType);
      checkDeclaredLength(contentLength, cfg.maxBodyBytes);
    } catch (err) {
      // Close the connection: the unread body must not be parsed as the next request.
      const e = err as HttpError;
      return reply(e, '', e.headers, true);
    }

    // The whole body must arrive within INGEST_BODY_TIMEOUT_MS (a client trickling it is answered 408).
    deadline = deadlines.add(() => {
      metrics.boundRejections.inc({ bound: 'body_timeout' });
      reply(new HttpError(408, 'request_timeout', `the body did not arrive within ${cfg.bodyTimeoutMs} ms`), '', undefined, true);
    });
    let chunks: Buffer[] | null = null;
    let size = 0;
    res.onData((chunk, isLast) => {
      if (finished) return;
      size += chunk.byteLength;
      if (size > cfg.maxBodyBytes) {
        return reply(new HttpError(413, 'payload_too_large', `body exceeds the ${cfg.maxBodyBytes}-byte limit`), '', undefined, true);
      }
      // The ArrayBuffer is only valid during this callback: copy it (once; a one-chunk body is not
      // concatenated), into Node's pooled slab rather than a new ArrayBuffer per request.
      const copy = Buffer.allocUnsafe(chunk.byteLength);
      copy.set(new Uint8Array(chunk));
      if (!isLast) {
        (chunks ??= []).push(copy);
        return;
      }
      deadlines.clear(deadline);
      bytesOf(route).inc(size);
      const body = chunks === null ? copy : Buffer.concat([...chunks, copy], size);
      chunks = null;
      void accept(route, body, contentEncoding, version, reply, trace, exchange, state);
    });
  }

  /** 503 to a request beyond INGEST_MAX_CONNECTIONS; its connection is closed. */
  function refuseOverCapacity(res: uWS.HttpResponse, route: string, started: number, xRequestId: string): void {
    metrics.boundRejections.inc({ bound: 'connections' });
    const err = new HttpError(503, 'overloaded', 'too many requests in progress on this edge node; retry later', undefined, { 'retry-after': '1' });
    sendError(res, route, started, err, err.headers, true, saneRequestId(xRequestId) ? xRequestId : generateRequestId());
  }

  function overWaiters(): HttpError {
    metrics.boundRejections.inc({ bound: 'waiters' });
    return new HttpError(503, 'overloaded', `${cfg.maxWaiters} synchronous requests already wait for their outcome; retry later`, undefined, { 'retry-after': '1' });
  }

  type Reply = (err: HttpError | null, body: string, headers?: Record<string, string>, close?: boolean, status?: number) => void;
  /** What the abort handler and the synchronous wait of one request share. */
  interface RequestState {
    aborted: boolean;
    /** Set while the request waits for its outcome: ends that wait (the client went away). */
    cancelWait: (() => void) | null;
  }

  async function accept(route: Route, raw: Buffer, encoding: string, version: string, reply: Reply, trace: RequestTrace, exchange: Exchange, state: RequestState): Promise<void> {
    let request: BidRequest;
    try {
      const body = decodeBody(raw, encoding, cfg.maxBodyBytes);
      const openrtbVersion = route === '/openrtb2/bid' ? checkOpenRtbVersion(version) : null;
      // The exchange's own auction types and our GVL vendor id (privacy decision) are part of the parse.
      request = PARSERS[route](body, { receivedAtMs: now(), ingestNodeId: cfg.nodeId, openrtbVersion, auctionTypes: exchange.auctionTypes, gvlVendorId });
      // Downstream, every key derived from the request id is scoped by it (schemas/request-key.ts).
      request.exchange = exchange.id;
    } catch (err) {
      const httpErr = err instanceof HttpError ? err
        : err instanceof InvalidFieldError ? new HttpError(400, 'invalid_request', err.message, err.field)
        : new HttpError(400, 'invalid_request', (err as Error).message);
      log.debug({ route, status: httpErr.status, reason: httpErr.message, requestId: chooseRequestId(trace), traceId: traceIdOf(trace) }, 'rejected request');
      return reply(httpErr, '');
    }
    chooseRequestId(trace, request.id);
    const headers = recordHeadersOf(trace);
    const sync = route === '/openrtb2/bid' && deps.awaitOutcome !== undefined;
    if (!sync) {
      try {
        await deps.publish(request, headers);
        reply(null, `{"id":${JSON.stringify(request.id)},"status":"accepted"}`);
      } catch (err) {
        replyDeliveryFailure(err, request.id, trace, reply);
      }
      return;
    }
    // The deadline does not wait for the broker: the answer is the outcome, or 204 at receivedAt + tmax
    // (clamped) - margin, even while the delivery report is still pending. Registered before publishing,
    // so an outcome can never arrive before anyone waits for it.
    // The exchange's default tmax for a request without one, then the edge's; clamped either way.
    const deadline = request.receivedAtMs + Math.min(request.tmax ?? exchange.defaultTmaxMs ?? cfg.defaultTmaxMs, cfg.maxTmaxMs) - cfg.tmaxMarginMs;
    if (state.aborted) return;
    if (waiting >= cfg.maxWaiters) return reply(overWaiters(), '', { 'retry-after': '1' });
    const key = requestKey(exchange.id, request.id);
    const outcome = deps.awaitOutcome!(key, deadline - now());
    waiting++;
    let waited = false;
    const endWait = (): void => {
      if (!waited) {
        waited = true;
        waiting--;
      }
    };
    state.cancelWait = () => {
      deps.cancelOutcome?.(key, outcome);
      endWait();
    };
    let answered = false;
    const publishing = deps.publish(request, headers);
    publishing.catch((err: unknown) => {
      // Failed after the answer (204 at the deadline, or the outcome came first): nothing to tell the
      // exchange any more, but the failure is counted and logged.
      if (answered) replyDeliveryFailure(err, request.id, trace, () => undefined);
    });
    let result: AuctionOutcome | null;
    try {
      result = await Promise.race([outcome, publishing.then(() => outcome)]);
    } catch (err) {
      return replyDeliveryFailure(err, request.id, trace, reply);
    } finally {
      endWait();
      state.cancelWait = null;
    }
    answered = true;
    // The client went away: nobody to answer (the wait was cancelled then).
    if (state.aborted) return;
    if (result === null && log.isLevelEnabled('debug')) {
      log.debug({ requestId: trace.requestId, bidRequestId: request.id, traceId: traceIdOf(trace), waitedMs: now() - request.receivedAtMs }, 'no outcome by the deadline: answered no-bid');
    }
    const response = result ? toBidResponse(result, { publicUrl: cfg.publicUrl, secret: cfg.trackingSecret, tokenTtlMs: cfg.noticeTokenTtlMs, nowMs: now() }, exchange.seat) : null;
    metrics.syncAnswers.inc({ result: response ? 'bid' : 'no_bid' });
    if (response) return reply(null, JSON.stringify(response), { 'x-openrtb-version': '2.6' }, false, 200);
    const noBid = noBidAnswer(exchange.noBid, request.id, result);
    if (noBid.status === 200) reply(null, noBid.body, { 'x-openrtb-version': '2.6' }, false, 200);
    else reply(null, '', undefined, false, 204);
  }

  /** A request that could not be delivered to Kafka: 503 when worth retrying, 500 otherwise; counted and logged. */
  function replyDeliveryFailure(err: unknown, bidRequestId: string, trace: RequestTrace, reply: Reply): void {
    const code = isPipelineError(err) ? err.code : 'INTERNAL';
    metrics.produceErrors.inc({ code });
    log.error({ err, requestId: trace.requestId, bidRequestId, traceId: traceIdOf(trace), code }, 'request not accepted: delivery to Kafka failed');
    if (isPipelineError(err) && err.retryable) {
      reply(new HttpError(503, 'unavailable', 'Kafka is unavailable; retry later'), '', { 'retry-after': '1' });
    } else {
      reply(new HttpError(500, 'internal_error', 'internal error'), '');
    }
  }

  const app = createApp(cfg);
  for (const route of Object.keys(PARSERS) as Route[]) {
    app.post(route, (res, req) => handleBid(route, res, req));
    app.any(route, (res, req) => {
      const id = req.getHeader('x-request-id');
      send(res, route, performance.now(), 405, JSON.stringify({ error: 'method_not_allowed', message: `${route} accepts POST only` }), { allow: 'POST' }, false, saneRequestId(id) ? id : generateRequestId());
    });
  }
  const health = (res: uWS.HttpResponse): void => send(res, '/health', performance.now(), 200, '{"status":"ok"}');
  const ready = (res: uWS.HttpResponse): void => {
    const ok = deps.isReady() && !draining;
    send(res, '/ready', performance.now(), ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : draining ? 'draining' : 'not ready' }));
  };
  const metricsText = (res: uWS.HttpResponse): void => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void deps.registry.metrics().then((text) => {
      if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', deps.registry.contentType).end(text));
    });
  };
  app.get('/health', health);
  app.get('/ready', ready);
  // With an internal metrics port, /metrics is served there only (and answers 404 here).
  if (cfg.metricsPort === 0) app.get('/metrics', metricsText);
  // Tracking notices (issue 5), under the same bounds as the bid routes; registered before the catch-all 404.
  const bounded = boundedRoutes(app, {
    open,
    deadlines,
    refuse: (res) => {
      metrics.boundRejections.inc({ bound: 'connections' });
      writeAnswer(res, 503, { ...JSON_HEADERS, 'retry-after': '1' }, JSON.stringify({ error: 'overloaded', message: 'too many requests in progress on this edge node; retry later' }), true);
    },
    expire: (res, end) => {
      metrics.boundRejections.inc({ bound: 'body_timeout' });
      res.cork(() => {
        res.writeStatus('408 Request Timeout').writeHeader('content-type', 'application/json');
        end(JSON.stringify({ error: 'request_timeout', message: `the body did not arrive within ${cfg.bodyTimeoutMs} ms` }), true);
      });
    },
  });
  // A notice's exchange is the one its token names; an exchange since removed from the configuration keeps the default.
  const noticeSettings = new Map(exchanges.list.map((e) => [e.id, { winNotice: e.winNotice, billOn: e.billOn }]));
  const tracking = registerTrackingRoutes(bounded, {
    cfg, log, metrics, publish: deps.publishTracking, publishLoss: deps.publishLoss, now, isDraining: () => draining,
    noticeSettingsOf: (id) => noticeSettings.get(id) ?? DEV_EXCHANGE,
  });
  app.any('/*', (res) => send(res, 'other', performance.now(), 404, JSON.stringify({ error: 'not_found', message: 'no such route' })));
  gauge(deps.registry, 'ingest_open_requests', 'Requests of the bid and notice routes in progress (bounded by INGEST_MAX_CONNECTIONS)', () => open.count);
  gauge(deps.registry, 'ingest_sync_waiting', 'Synchronous requests waiting for their auction outcome (bounded by INGEST_MAX_WAITERS)', () => waiting);

  // The internal port: plain HTTP, /metrics, /health and /ready only.
  let metricsSocket: uWS.us_listen_socket | null = null;
  const listenMetrics = (): Promise<number | null> => {
    if (cfg.metricsPort === 0) return Promise.resolve(null);
    const host = cfg.metricsHost || cfg.host;
    const internal = uWS.App();
    internal.get('/metrics', metricsText);
    internal.get('/health', health);
    internal.get('/ready', ready);
    internal.any('/*', (res) => writeAnswer(res, 404, JSON_HEADERS, JSON.stringify({ error: 'not_found', message: 'this port serves /metrics, /health and /ready' }), false));
    return new Promise((resolve, reject) => {
      internal.listen(host, cfg.metricsPort, (socket) => {
        if (!socket) return reject(new Error(`could not listen on ${host}:${cfg.metricsPort}: is the port taken? set INGEST_METRICS_PORT`));
        metricsSocket = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  };

  return new Promise((resolve, reject) => {
    app.listen(cfg.host, cfg.port, (socket) => {
      if (!socket) return reject(new Error(`could not listen on ${cfg.host}:${cfg.port}: is the port taken? set INGEST_PORT`));
      listenSocket = socket;
      const port = uWS.us_socket_local_port(socket);
      listenMetrics().then((metricsPort) => resolve({
        metricsPort,
        tls: cfg.tlsCertFile !== '',
        port,
        get inFlight() {
          return inFlight + tracking.inFlight;
        },
        async drain(timeoutMs) {
          draining = true;
          if (listenSocket) uWS.us_listen_socket_close(listenSocket);
          listenSocket = null;
          const deadline = Date.now() + timeoutMs;
          while (inFlight + tracking.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
          if (inFlight + tracking.inFlight > 0) log.warn({ inFlight, notices: tracking.inFlight }, 'drain timed out with requests still in flight');
          deadlines.stop();
          if (metricsSocket) uWS.us_listen_socket_close(metricsSocket);
          metricsSocket = null;
        },
      }), (err: unknown) => {
        uWS.us_listen_socket_close(socket);
        listenSocket = null;
        reject(err);
      });
    });
  });
}
