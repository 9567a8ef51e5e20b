/**
 * The edge's tracking notice routes (uWebSockets.js). Routes only: tokens are tracking-token.ts,
 * prices and events tracking-notice.ts, delivery the Publisher's.
 *
 *   GET        /notice/imp|click|conv?t=<token>
 *   GET, POST  /notice/win|bill?t=<token>&price=<CPM>   (some exchanges POST their notices; the body is ignored)
 *   GET, POST  /notice/loss?t=<token>&reason=<code>&price=<CPM>   (lurl: a LossNotice to loss-notices)
 *
 * Answers: 204 (win, bill, loss, conv), 200 with a 1x1 GIF (imp), 302 to the token's landing URL (click),
 * each only after Kafka acknowledged the event; 400 `invalid_token` (missing, garbled or
 * forged token, or a token that does not grant this notice type: a browser token on /notice/bill) or
 * `invalid_request` naming `price` (also above the token's max price, our bid) or `reason` (not an
 * integer >= 0; absent or the literal ${AUCTION_LOSS} is recorded as -1); 410 `token_expired`;
 * 404 for an unknown notice type; 405; 413; 429 with Retry-After over the per-IP notice rate
 * (INGEST_NOTICE_RATE_LIMIT_RPS, a bucket apart from bid traffic); 503 with Retry-After while Kafka is
 * unavailable or the edge drains (exchanges retry notices).
 * A repeated notice is accepted with the same answer; its event has the same id (tracking-notice.ts).
 * Prices are reported in the answer's currency and recorded in base micros too (tracking-notice.ts);
 * `exchangeWin` is set on the notice kind the token's exchange counts as its win (`noticeSettingsOf`).
 * For an exchange that bills on the win notice (billOn "nurl") a win notice is written twice: as the
 * WIN and as the BILLING (same price; each with its own deterministic id), so its spend is final there.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from '@trufflesuite/uws-js-unofficial';
import type { Logger } from '../processors/runtime/logger.js';
import { isPipelineError } from '../schemas/errors.js';
import type { LossNotice, TrackingEvent } from '../schemas/tracking-event.js';
import type { IngestConfig } from './config.js';
import type { EdgeMetrics } from './metrics.js';
import { InvalidFieldError } from './fields.js';
import { writeAnswer } from './answer.js';
import { RateLimiter } from './rate-limit.js';
import { grants, verifyToken } from './tracking-token.js';
import {
  NOTICE_TYPES, POSTABLE, PRICED, checkPriceBound, isExchangeWin, isRouteSegment, lossNotice, parseLossPriceMicros, parseLossReason, parsePriceMicros,
  redirectTarget, trackingEvent, type RouteSegment, type WinNotice,
} from './tracking-notice.js';

export interface TrackingRouteDeps {
  cfg: Pick<IngestConfig, 'trackingSecret' | 'trackingSecretPrevious' | 'nodeId' | 'maxBodyBytes' | 'noticeRateLimitPerSec' | 'noticeRateLimitBurst'>;
  log: Logger;
  metrics: EdgeMetrics;
  /** Resolves once the broker acknowledged the event; rejects with a PipelineError otherwise. */
  publish: (event: TrackingEvent) => Promise<void>;
  /** The same for a loss notice (topic loss-notices). */
  publishLoss: (notice: LossNotice) => Promise<void>;
  /** The notice settings of the exchange of that id (exchanges.ts); the defaults for an exchange no longer configured. */
  noticeSettingsOf: (exchangeId: string) => { readonly winNotice: WinNotice; readonly billOn: WinNotice };
  now: () => number;
  isDraining: () => boolean;
}

export interface TrackingRoutes {
  /** Notices received and not yet answered, so a drain waits for them. */
  readonly inFlight: number;
}

interface Answer {
  status: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const error = (status: number, code: string, message: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Answer =>
  ({ status, body: JSON.stringify({ error: code, message, ...extra }), headers: { 'content-type': 'application/json', ...headers } });

export function registerTrackingRoutes(app: TemplatedApp, deps: TrackingRouteDeps): TrackingRoutes {
  const { cfg, log, metrics } = deps;
  let inFlight = 0;
  const secrets = [cfg.trackingSecret, cfg.trackingSecretPrevious].filter((s) => s !== '');
  // Per client IP, apart from the bid routes' limiter: a flood of notices cannot starve bid traffic, nor the reverse.
  const limiter = new RateLimiter(cfg.noticeRateLimitPerSec, cfg.noticeRateLimitBurst);

  function write(res: HttpResponse, type: string, started: number, a: Answer, close: boolean): void {
    // A cached pixel or redirect would never reach the edge again, and the notice would go uncounted.
    writeAnswer(res, a.status, { 'cache-control': 'no-store', ...a.headers }, a.body, close);
    metrics.notices.inc({ type, status: String(a.status) });
    metrics.latency.observe({ route: `/notice/${type}` }, (performance.now() - started) / 1000);
  }

  async function decide(segment: RouteSegment, query: string): Promise<Answer> {
    if (deps.isDraining()) return error(503, 'shutting_down', 'this edge node is shutting down; retry on another', {}, { 'retry-after': '1' });
    const params = new URLSearchParams(query);
    const token = verifyToken(params.get('t'), secrets, deps.now());
    if (!token.ok) return token.code === 'expired' ? error(410, 'token_expired', token.reason) : error(400, 'invalid_token', token.reason);
    if (!grants(token, segment)) {
      return error(400, 'invalid_token', `this token is not valid for /notice/${segment} (it is for ${token.notices.map((n) => `/notice/${n}`).join(', ') || 'nothing'})`);
    }
    let priceMicros = 0;
    let lossReason = -1;
    try {
      if (PRICED.has(segment)) {
        priceMicros = parsePriceMicros(params.get('price'));
        checkPriceBound(priceMicros, token.maxPriceMicros);
      } else if (segment === 'loss') {
        lossReason = parseLossReason(params.get('reason'));
        priceMicros = parseLossPriceMicros(params.get('price'));
      }
    } catch (err) {
      const e = err as InvalidFieldError;
      return error(400, 'invalid_request', e.message, { field: e instanceof InvalidFieldError ? e.field : 'price' });
    }
    const location = segment === 'click' ? redirectTarget(token.claims.landingUrl) : null;
    if (segment === 'click' && location === null) return error(400, 'invalid_token', 'the token carries no http(s) landing URL');
    const { claims } = token;
    try {
      if (segment === 'loss') {
        await deps.publishLoss(lossNotice(claims, lossReason, priceMicros, deps.now(), cfg.nodeId));
      } else {
        const { winNotice, billOn } = deps.noticeSettingsOf(claims.exchange);
        const now = deps.now();
        const types = segment === 'win' && billOn === 'nurl' ? (['WIN', 'BILLING'] as const) : [NOTICE_TYPES[segment]];
        await Promise.all(types.map((type) => deps.publish(trackingEvent(claims, type, priceMicros, now, cfg.nodeId, isExchangeWin(type, winNotice)))));
      }
    } catch (err) {
      const code = isPipelineError(err) ? err.code : 'INTERNAL';
      metrics.produceErrors.inc({ code });
      log.error({ err, requestId: claims.requestId, type: segment === 'loss' ? 'LOSS' : NOTICE_TYPES[segment], code }, 'notice not accepted: delivery to Kafka failed');
      return isPipelineError(err) && err.retryable
        ? error(503, 'unavailable', 'Kafka is unavailable; retry later', {}, { 'retry-after': '1' })
        : error(500, 'internal_error', 'internal error');
    }
    if (location !== null) return { status: 302, headers: { location } };
    if (segment === 'imp') return { status: 200, body: PIXEL, headers: { 'content-type': 'image/gif' } };
    return { status: 204 };
  }

  function handle(method: 'get' | 'post', res: HttpResponse, req: HttpRequest): void {
    const started = performance.now();
    // `req` is only valid synchronously: read everything now.
    const segment = req.getParameter(0) ?? '';
    const query = req.getQuery() ?? '';
    // An early answer to a POST closes the connection: its unread body must not be parsed as the next request.
    const close = method === 'post';
    if (limiter.enabled) {
      // A monotonic clock: a wall clock stepped back would empty the buckets.
      const wait = limiter.take(Buffer.from(res.getRemoteAddressAsText()).toString(), performance.now());
      if (wait > 0) {
        const answer = error(429, 'rate_limited', `notice rate limit of ${cfg.noticeRateLimitPerSec}/s per client exceeded`, {}, { 'retry-after': String(wait) });
        return write(res, isRouteSegment(segment) ? segment : 'unknown', started, answer, close);
      }
    }
    if (!isRouteSegment(segment)) return write(res, 'unknown', started, error(404, 'not_found', 'unknown notice type'), close);
    if (method === 'post' && !POSTABLE.has(segment)) {
      return write(res, segment, started, error(405, 'method_not_allowed', `/notice/${segment} accepts GET only`, {}, { allow: 'GET' }), close);
    }
    inFlight++;
    let done = false;
    let aborted = false;
    const finish = (answer: Answer | null, closeAfter = false): void => {
      if (done) return;
      done = true;
      inFlight--;
      if (answer && !aborted) write(res, segment, started, answer, closeAfter);
    };
    res.onAborted(() => {
      aborted = true;
      finish(null);
    });
    const run = (): void => {
      decide(segment, query).then(
        (answer) => finish(answer),
        (err: unknown) => {
          log.error({ err, segment }, 'notice handling failed');
          finish(error(500, 'internal_error', 'internal error'));
        },
      );
    };
    if (method === 'get') return run();
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > cfg.maxBodyBytes) return finish(error(413, 'payload_too_large', `body exceeds the ${cfg.maxBodyBytes}-byte limit`), true);
      if (isLast && !done) run();
    });
  }

  app.get('/notice/:type', (res, req) => handle('get', res, req));
  app.post('/notice/:type', (res, req) => handle('post', res, req));
  app.any('/notice/:type', (res, req) => {
    const segment = req.getParameter(0) ?? '';
    const known = isRouteSegment(segment);
    const answer = known
      ? error(405, 'method_not_allowed', `/notice/${segment} accepts ${POSTABLE.has(segment) ? 'GET or POST' : 'GET'}`, {}, { allow: POSTABLE.has(segment) ? 'GET, POST' : 'GET' })
      : error(404, 'not_found', 'unknown notice type');
    write(res, known ? segment : 'unknown', performance.now(), answer, true);
  });
  return {
    get inFlight() {
      return inFlight;
    },
  };
}
