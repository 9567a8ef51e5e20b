/**
 * The ingest edge's HTTP routes on uWebSockets.js. Routes only: parsing and validation are pure
 * functions (body.ts, openrtb.ts, simple.ts); delivery to Kafka is the Publisher's.
 *
 *   POST /openrtb2/bid   OpenRTB 2.x JSON (gzip allowed; x-openrtb-version honoured)  -> 202 {id}
 *   POST /bid            the simple JSON format                                       -> 202 {id}
 *   GET  /health         live;  GET /ready: Kafka reachable and schemas registered;  GET /metrics
 *   GET|POST /notice/*   tracking notices (tracking-routes.ts)
 *
 * Errors answer JSON `{ "error": code, "message": ..., "field"?: ... }` with 400/401/404/405/413/415/429/503.
 * Every answer of the bid routes carries `x-request-id` (the exchange's when sane, else the OpenRTB id, else
 * generated: processors/runtime/trace-context.ts), which is also a header of the request's Kafka record
 * together with a valid W3C `traceparent`/`tracestate`; log lines about a request name it (`requestId`, `traceId`).
 * uWS rule: `req` is valid only synchronously in the handler, and `res` must not be touched after onAborted.
 */
import uWS from '@trufflesuite/uws-js-unofficial';
import type { Registry } from 'prom-client';
import type { Logger } from '../processors/runtime/logger.js';
import { isPipelineError } from '../processors/runtime/errors.js';
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
import type { TrackingEvent } from '../schemas/tracking-event.js';
import { registerTrackingRoutes } from './tracking-routes.js';
import { writeAnswer } from './answer.js';
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
  /** Synchronous OpenRTB mode: waits for a request's auction outcome (null at the deadline). */
  awaitOutcome?: (requestId: string, timeoutMs: number) => Promise<AuctionOutcome | null>;
  /** Writes a tracking notice's event; resolves once the broker acknowledged it. */
  publishTracking: (event: TrackingEvent) => Promise<void>;
  now?: () => number;
}

export interface Edge {
  port: number;
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

export function startEdge(deps: EdgeDeps): Promise<Edge> {
  const { cfg, log, metrics } = deps;
  const now = deps.now ?? Date.now;
  const limiter = new RateLimiter(cfg.rateLimitPerSec, cfg.rateLimitBurst);
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
    // Counted from the first byte to the answer, so a drain waits for requests whose body is still arriving.
    inFlight++;
    let finished = false;
    let aborted = false;
    const finish = (): void => {
      if (!finished) {
        finished = true;
        inFlight--;
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
    res.onAborted(() => {
      aborted = true;
      finish();
    });
    // Everything needed from `req` is read now: it is invalid after this function returns.
    const contentType = req.getHeader('content-type');
    const contentEncoding = req.getHeader('content-encoding');
    const contentLength = req.getHeader('content-length');
    const version = req.getHeader('x-openrtb-version');
    const apiKey = cfg.apiKey || cfg.rateLimitPerSec > 0 ? req.getHeader(cfg.apiKeyHeader) : '';
    try {
      if (draining) throw new HttpError(503, 'shutting_down', 'this edge node is shutting down; retry on another', undefined, { 'retry-after': '1' });
      if (cfg.apiKey && apiKey !== cfg.apiKey) throw new HttpError(401, 'unauthorized', `missing or wrong ${cfg.apiKeyHeader} header`);
      if (limiter.enabled) {
        const client = apiKey || Buffer.from(res.getRemoteAddressAsText()).toString();
        const wait = limiter.take(client, now());
        if (wait > 0) throw new HttpError(429, 'rate_limited', `rate limit of ${cfg.rateLimitPerSec}/s exceeded`, undefined, { 'retry-after': String(wait) });
      }
      checkContentType(contentType);
      checkDeclaredLength(contentLength, cfg.maxBodyBytes);
    } catch (err) {
      // Close the connection: the unread body must not be parsed as the next request.
      const e = err as HttpError;
      return reply(e, '', e.headers, true);
    }

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
      bytesOf(route).inc(size);
      const body = chunks === null ? copy : Buffer.concat([...chunks, copy], size);
      void accept(route, body, contentEncoding, version, reply, trace);
    });
  }

  type Reply = (err: HttpError | null, body: string, headers?: Record<string, string>, close?: boolean, status?: number) => void;

  async function accept(route: Route, raw: Buffer, encoding: string, version: string, reply: Reply, trace: RequestTrace): Promise<void> {
    let request: BidRequest;
    try {
      const body = decodeBody(raw, encoding, cfg.maxBodyBytes);
      const openrtbVersion = route === '/openrtb2/bid' ? checkOpenRtbVersion(version) : null;
      request = PARSERS[route](body, { receivedAtMs: now(), ingestNodeId: cfg.nodeId, openrtbVersion });
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
    const deadline = request.receivedAtMs + Math.min(request.tmax ?? cfg.defaultTmaxMs, cfg.maxTmaxMs) - cfg.tmaxMarginMs;
    const outcome = deps.awaitOutcome!(request.id, deadline - now());
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
    }
    answered = true;
    if (result === null && log.isLevelEnabled('debug')) {
      log.debug({ requestId: trace.requestId, bidRequestId: request.id, traceId: traceIdOf(trace), waitedMs: now() - request.receivedAtMs }, 'no outcome by the deadline: answered no-bid');
    }
    const response = result ? toBidResponse(result, { publicUrl: cfg.publicUrl, secret: cfg.trackingSecret }) : null;
    metrics.syncAnswers.inc({ result: response ? 'bid' : 'no_bid' });
    if (response) reply(null, JSON.stringify(response), { 'x-openrtb-version': '2.6' }, false, 200);
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

  const app = uWS.App();
  for (const route of Object.keys(PARSERS) as Route[]) {
    app.post(route, (res, req) => handleBid(route, res, req));
    app.any(route, (res, req) => {
      const id = req.getHeader('x-request-id');
      send(res, route, performance.now(), 405, JSON.stringify({ error: 'method_not_allowed', message: `${route} accepts POST only` }), { allow: 'POST' }, false, saneRequestId(id) ? id : generateRequestId());
    });
  }
  app.get('/health', (res) => send(res, '/health', performance.now(), 200, '{"status":"ok"}'));
  app.get('/ready', (res) => {
    const ok = deps.isReady() && !draining;
    send(res, '/ready', performance.now(), ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : draining ? 'draining' : 'not ready' }));
  });
  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void deps.registry.metrics().then((text) => {
      if (!aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', deps.registry.contentType).end(text));
    });
  });
  // Tracking notices (issue 5); registered before the catch-all 404.
  const tracking = registerTrackingRoutes(app, { cfg, log, metrics, publish: deps.publishTracking, now, isDraining: () => draining });
  app.any('/*', (res) => send(res, 'other', performance.now(), 404, JSON.stringify({ error: 'not_found', message: 'no such route' })));

  return new Promise((resolve, reject) => {
    app.listen(cfg.host, cfg.port, (socket) => {
      if (!socket) return reject(new Error(`could not listen on ${cfg.host}:${cfg.port}: is the port taken? set INGEST_PORT`));
      listenSocket = socket;
      resolve({
        port: uWS.us_socket_local_port(socket),
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
        },
      });
    });
  });
}
