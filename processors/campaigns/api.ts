/**
 * The campaign management API on node:http. Routes, authentication and authorization only: bodies are
 * validated by requests.ts, stored by store.ts, tokens by token-store.ts, published by the injected `publish`.
 *
 *   POST /advertisers                 201 | 400 | 403 | 409    GET /advertisers
 *   POST /campaigns                   201 | 400 | 403 | 404 | 409    GET /campaigns[?advertiserId=&status=]
 *   GET  /campaigns/:id               200 | 404                PUT /campaigns/:id   200 | 400 | 403 | 404 | 409
 *   POST /campaigns/:id/pause|resume  200 | 400 | 404 | 409    POST /campaigns/:id/creatives  201 | 400 | 404 | 409
 *   POST /tokens  201 | 400 | 403 | 404    GET /tokens  200 | 403    DELETE /tokens/:id  200 | 403 | 404
 *   GET  /health, /ready (Postgres and Kafka reachable), /metrics: open, no token
 *
 * Every other route needs `Authorization: Bearer <token>`: 401 (JSON, WWW-Authenticate: Bearer) without
 * a valid one. An operator token may do everything; an advertiser token sees and changes only its own
 * advertiser's campaigns (others' answer 404, as if missing: their existence is not disclosed) and gets
 * 403 for operator actions (advertisers, tokens) and for writing a campaign for another advertiser.
 * Every state change (POST, PUT, DELETE, PATCH) needs a JSON body with Content-Type: application/json
 * (415 otherwise; actions without parameters take `{}`), so a cross-site HTML form cannot make one.
 *
 * A change is answered 200/201 only after the Postgres commit AND the broker's acknowledgement. When the
 * publish fails the answer is 503: the change is committed and the republisher will deliver it.
 * Every error is JSON `{"error": code, "message"?, "errors"?: [{field, message}]}`; 413 over 1 MiB,
 * 405 with Allow.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { PipelineError } from '../../schemas/errors.js';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { isPipelineError } from '../../schemas/errors.js';
import { readJsonBody } from './json-body.js';
import { isObject } from './field-checks.js';
import { checkAdvertiser, checkCampaign, checkCreative, checkEmptyObject, checkTokenRequest, type Checked } from './requests.js';
import type { CampaignStore, Rejection, Result } from './store.js';
import type { TokenStore } from './token-store.js';
import { bearerToken, hashToken, sameHash, type Principal } from './tokens.js';
import type { Campaign } from '../domain/campaign.js';
import type { CampaignMetrics } from './metrics.js';

export const MAX_BODY_BYTES = 1024 * 1024;
const REALM = 'rtb-campaigns';
const STATE_CHANGING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export interface ApiDeps {
  store: CampaignStore;
  tokens: TokenStore;
  /** The bootstrap operator token from the configuration (operator-token.ts); compared by hash, in constant time. */
  operatorToken: string;
  /** Resolves once the broker acknowledged the campaign; rejects otherwise (answered 503). */
  publish: (c: Campaign) => Promise<unknown>;
  /** Postgres and Kafka reachable. */
  isReady: () => Promise<boolean>;
  registry: Registry;
  metrics: CampaignMetrics;
  log: Logger;
  clock?: () => number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
interface Request {
  req: IncomingMessage;
  params: string[];
  url: URL;
  /** The parsed JSON body of a state-changing request (undefined for GET). */
  body: unknown;
  who: Principal;
}
type Handler = (r: Request) => Promise<Answer>;
interface Route {
  name: string;
  pattern: RegExp;
  methods: Record<string, Handler>;
}
/** Health, readiness and metrics: GET only, no token, no principal. */
interface OpenRoute {
  name: string;
  path: string;
  get: () => Promise<Answer>;
}

const REJECTION_STATUS: Record<Rejection, number> = {
  advertiser_exists: 409, advertiser_not_found: 404, campaign_exists: 409, campaign_not_found: 404,
  creative_exists: 409, too_many_creatives: 409, campaign_ended: 409,
};
const STATUSES = new Set(['active', 'paused', 'ended']);
const invalid = (error: string, c: Checked<unknown> & { ok: false }): Answer => ({ status: 400, body: { error, errors: c.errors } });
const notFound: Answer = { status: 404, body: { error: 'campaign_not_found' } };
const forbidden = (message: string): Answer => ({
  status: 403, body: { error: 'forbidden', message }, headers: { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` },
});
const operatorOnly = forbidden('this route needs an operator token');
const unauthorized = (message: string, invalidToken: boolean): Answer => ({
  status: 401, body: { error: 'unauthorized', message },
  headers: { 'www-authenticate': invalidToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"` },
});
/** The advertiser a principal is confined to, or undefined for an operator. */
const ownerOf = (who: Principal): string | undefined => (who.scope === 'advertiser' ? who.advertiserId : undefined);
const sees = (who: Principal, c: { advertiserId: string } | null): boolean => c !== null && (who.scope === 'operator' || c.advertiserId === who.advertiserId);

/**
 * An advertiser token writes campaigns of its own advertiser only: a body without advertiserId gets it,
 * one naming another advertiser is refused (403, whether that advertiser exists or not).
 */
function confineCampaignBody(who: Principal, body: unknown): { ok: true; body: unknown } | { ok: false; answer: Answer } {
  if (who.scope === 'operator' || !isObject(body)) return { ok: true, body };
  if (body['advertiserId'] === undefined) return { ok: true, body: { ...body, advertiserId: who.advertiserId } };
  return body['advertiserId'] === who.advertiserId ? { ok: true, body } : { ok: false, answer: forbidden('an advertiser token writes campaigns of its own advertiser only') };
}

export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, tokens, log, metrics } = deps;
  const clock = deps.clock ?? Date.now;
  const operatorHash = hashToken(deps.operatorToken);

  /** Publishes a stored change and answers `status`, or 503 if the publish failed. */
  async function published(r: Result<Campaign>, status: number): Promise<Answer> {
    if (!r.ok) return { status: REJECTION_STATUS[r.reason], body: { error: r.reason } };
    try {
      await deps.publish(r.value);
    } catch (err) {
      if (isPipelineError(err, 'ENCODE_FAILED')) {
        // Only a row written around validation gets here (e.g. pausing it): retrying cannot help, a PUT can.
        log.error({ err, campaign: r.value.id }, 'campaign saved but it cannot be published: fix it with PUT');
        return { status: 500, body: { error: 'unpublishable', message: `the change is saved, but the campaign cannot be encoded (${err.message}): correct it with PUT`, id: r.value.id } };
      }
      log.error({ err, campaign: r.value.id }, 'campaign saved but not published: the republisher will deliver it');
      return { status: 503, headers: { 'retry-after': '5' }, body: { error: 'publish_failed', message: 'the change is saved; publishing it to Kafka failed and will be retried', id: r.value.id } };
    }
    return { status, body: r.value, headers: status === 201 ? { location: `/campaigns/${encodeURIComponent(r.value.id)}` } : {} };
  }

  /** The principal of the request's bearer token, or the 401 to answer. */
  async function authenticate(req: IncomingMessage): Promise<Principal | Answer> {
    const token = bearerToken(req.headers.authorization);
    if (token === 'missing') return unauthorized('send Authorization: Bearer <token>', false);
    if (token === 'malformed') return unauthorized('the Authorization header is not "Bearer <token>"', true);
    if (sameHash(hashToken(token), operatorHash)) return { scope: 'operator', tokenId: 'bootstrap' };
    return (await tokens.authenticate(token)) ?? unauthorized('the token is unknown or revoked', true);
  }

  async function setStatus({ params: [id], body, who }: Request, status: 'active' | 'paused'): Promise<Answer> {
    const empty = checkEmptyObject(body);
    if (!empty.ok) return invalid('invalid_body', empty);
    return published(await store.setStatus(id!, status, ownerOf(who)), 200);
  }

  // /metrics is open too, like every service's (Prometheus scrapes it): counts and latencies, no campaign data.
  const openRoutes: OpenRoute[] = [
    { name: '/health', path: '/health', get: async () => ({ status: 200, body: { status: 'ok' } }) },
    { name: '/ready', path: '/ready', get: async () => ((await deps.isReady()) ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { error: 'not_ready' } }) },
    { name: '/metrics', path: '/metrics', get: async () => ({ status: 200, body: await deps.registry.metrics(), headers: { 'content-type': deps.registry.contentType } }) },
  ];

  const routes: Route[] = [
    {
      name: '/advertisers', pattern: /^\/advertisers$/, methods: {
        GET: async ({ who }) => ({ status: 200, body: { advertisers: await store.listAdvertisers({ id: ownerOf(who) }) } }),
        POST: async ({ body, who }) => {
          if (who.scope !== 'operator') return operatorOnly;
          const c = checkAdvertiser(body, `adv-${randomUUID()}`);
          if (!c.ok) return invalid('invalid_advertiser', c);
          const r = await store.createAdvertiser(c.value);
          return r.ok ? { status: 201, body: r.value } : { status: REJECTION_STATUS[r.reason], body: { error: r.reason } };
        },
      },
    },
    {
      name: '/campaigns', pattern: /^\/campaigns$/, methods: {
        GET: async ({ url, who }) => {
          const status = url.searchParams.get('status');
          if (status !== null && !STATUSES.has(status)) return { status: 400, body: { error: 'invalid_query', errors: [{ field: 'status', message: 'must be one of active, paused, ended' }] } };
          const asked = url.searchParams.get('advertiserId') ?? undefined;
          const own = ownerOf(who);
          // An advertiser asking for another advertiser's campaigns sees none (not a 403: nothing disclosed).
          if (own !== undefined && asked !== undefined && asked !== own) return { status: 200, body: { campaigns: [] } };
          return { status: 200, body: { campaigns: await store.listCampaigns({ advertiserId: own ?? asked, status: (status ?? undefined) as Campaign['status'] | undefined }) } };
        },
        POST: async ({ body, who }) => {
          const confined = confineCampaignBody(who, body);
          if (!confined.ok) return confined.answer;
          const c = checkCampaign(confined.body, { newId: `cmp-${randomUUID()}` }, clock());
          return c.ok ? published(await store.createCampaign(c.value), 201) : invalid('invalid_campaign', c);
        },
      },
    },
    {
      name: '/campaigns/:id', pattern: /^\/campaigns\/([^/]+)$/, methods: {
        GET: async ({ params: [id], who }) => {
          const c = await store.getCampaign(id!);
          return sees(who, c) ? { status: 200, body: c } : notFound;
        },
        PUT: async ({ params: [id], body, who }) => {
          // 404 before validating the body: an unknown campaign is the more useful answer.
          if (!sees(who, await store.getCampaign(id!))) return notFound;
          const confined = confineCampaignBody(who, body);
          if (!confined.ok) return confined.answer;
          const c = checkCampaign(confined.body, { pathId: id!, newId: id! }, clock());
          return c.ok ? published(await store.updateCampaign(c.value, ownerOf(who)), 200) : invalid('invalid_campaign', c);
        },
      },
    },
    { name: '/campaigns/:id/pause', pattern: /^\/campaigns\/([^/]+)\/pause$/, methods: { POST: (r) => setStatus(r, 'paused') } },
    { name: '/campaigns/:id/resume', pattern: /^\/campaigns\/([^/]+)\/resume$/, methods: { POST: (r) => setStatus(r, 'active') } },
    {
      name: '/campaigns/:id/creatives', pattern: /^\/campaigns\/([^/]+)\/creatives$/, methods: {
        POST: async ({ params: [id], body, who }) => {
          if (!sees(who, await store.getCampaign(id!))) return notFound;
          const c = checkCreative(body);
          return c.ok ? published(await store.addCreative(id!, c.value, ownerOf(who)), 201) : invalid('invalid_creative', c);
        },
      },
    },
    {
      name: '/tokens', pattern: /^\/tokens$/, methods: {
        GET: async ({ who }) => (who.scope === 'operator' ? { status: 200, body: { tokens: await tokens.list() } } : operatorOnly),
        POST: async ({ body, who }) => {
          if (who.scope !== 'operator') return operatorOnly;
          const c = checkTokenRequest(body);
          if (!c.ok) return invalid('invalid_token_request', c);
          const r = await tokens.create(c.value, c.value.name);
          if (!r.ok) return { status: 404, body: { error: r.reason } };
          log.info({ token: r.info.id, scope: r.info.scope, advertiser: r.info.advertiserId, by: who.tokenId }, 'API token created');
          // The only time the secret is shown: not to be cached anywhere on the way.
          return { status: 201, body: { ...r.info, token: r.token }, headers: { 'cache-control': 'no-store', location: `/tokens/${encodeURIComponent(r.info.id)}` } };
        },
      },
    },
    {
      name: '/tokens/:id', pattern: /^\/tokens\/([^/]+)$/, methods: {
        DELETE: async ({ params: [id], body, who }) => {
          if (who.scope !== 'operator') return operatorOnly;
          const empty = checkEmptyObject(body);
          if (!empty.ok) return invalid('invalid_body', empty);
          const info = await tokens.revoke(id!);
          if (!info) return { status: 404, body: { error: 'token_not_found' } };
          log.info({ token: info.id, by: who.tokenId }, 'API token revoked');
          return { status: 200, body: info };
        },
      },
    },
  ];

  async function route(req: IncomingMessage): Promise<{ name: string; answer: Answer; who?: Principal }> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return { name: 'unknown', answer: { status: 400, body: { error: 'invalid_url' } } };
    }
    const method = req.method ?? 'GET';
    const open = openRoutes.find((r) => r.path === url.pathname);
    if (open) {
      return { name: open.name, answer: method === 'GET' ? await open.get() : { status: 405, headers: { allow: 'GET' }, body: { error: 'method_not_allowed' } } };
    }
    let match: { r: Route; m: RegExpExecArray } | undefined;
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (m) {
        match = { r, m };
        break;
      }
    }
    const name = match?.r.name ?? 'unknown';
    // Everything else, an unknown path included, is answered only to a valid token.
    const who = await authenticate(req);
    if (!('scope' in who)) return { name, answer: who };
    if (!match) return { name, who, answer: { status: 404, body: { error: 'not_found' } } };
    const handler = match.r.methods[method];
    if (!handler) return { name, who, answer: { status: 405, headers: { allow: Object.keys(match.r.methods).join(', ') }, body: { error: 'method_not_allowed' } } };
    let params: string[];
    try {
      params = match.m.slice(1).map((p) => decodeURIComponent(p));
    } catch {
      return { name, who, answer: { status: 404, body: { error: 'not_found' } } };
    }
    let body: unknown;
    if (STATE_CHANGING.has(method)) {
      const b = await readJsonBody(req, MAX_BODY_BYTES);
      if (!b.ok) return { name, who, answer: { status: b.status, body: { error: b.error, message: b.message }, headers: b.status === 413 ? { connection: 'close' } : {} } };
      body = b.value;
    }
    return { name, who, answer: await handler({ req, params, url, body, who }) };
  }

  return (req, res) => {
    const end = metrics.latency.startTimer();
    route(req)
      .catch((err: unknown): { name: string; answer: Answer; who?: Principal } => {
        const unavailable = isPipelineError(err) && err.retryable;
        log.error({ err, method: req.method, url: req.url }, 'request failed');
        return { name: 'error', answer: unavailable ? { status: 503, headers: { 'retry-after': '1' }, body: { error: 'unavailable' } } : { status: 500, body: { error: 'internal' } } };
      })
      .then(({ name, answer, who }) => {
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
        if (!res.headersSent) res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(text);
        metrics.requests.inc({ route: name, method: req.method ?? '', status: String(answer.status) });
        end({ route: name });
        // An audit line per change: who (token id, never the token), what, and the outcome.
        if (who && STATE_CHANGING.has(req.method ?? '')) log.info({ token: who.tokenId, scope: who.scope, method: req.method, url: req.url, status: answer.status }, 'change requested');
      })
      .catch((err: unknown) => log.error({ err }, 'writing the answer failed'));
  };
}

/** The API's TLS certificate and key (PEM), read from CAMPAIGNS_TLS_CERT_FILE / CAMPAIGNS_TLS_KEY_FILE; undefined when neither is set. */
export function readApiTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } | undefined {
  if (certFile === '' && keyFile === '') return undefined;
  if (certFile === '' || keyFile === '') throw new PipelineError('CONFIG_INVALID', 'CAMPAIGNS_TLS_CERT_FILE and CAMPAIGNS_TLS_KEY_FILE go together (the certificate and its private key)');
  const read = (variable: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new PipelineError('CONFIG_INVALID', `${variable}=${JSON.stringify(path)} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: read('CAMPAIGNS_TLS_CERT_FILE', certFile), key: read('CAMPAIGNS_TLS_KEY_FILE', keyFile) };
}

export interface ApiBounds {
  requestTimeoutMs?: number;
  maxConnections?: number;
}

/**
 * Listens and resolves with the server once bound (port 0 picks a free port): HTTPS when `tls` is given
 * (every route, /health, /ready and /metrics included), HTTP otherwise.
 */
export function startCampaignsApi(deps: ApiDeps & { host: string; port: number; tls?: { cert: Buffer; key: Buffer }; bounds?: ApiBounds }): Promise<Server> {
  const handler = createApiHandler(deps);
  const { requestTimeoutMs = 10_000, maxConnections = 256 } = deps.bounds ?? {};
  // Bounds against slow and piling clients: the whole request (headers and body) within requestTimeoutMs
  // (checked every second, not node's default 30 s), headers within the same bound, at most maxConnections
  // open (node closes further ones at once), idle keep-alive connections closed after 5 s.
  const options = { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, keepAliveTimeout: 5000, connectionsCheckingInterval: 1000 };
  const server: Server = deps.tls ? createTlsServer({ ...options, cert: deps.tls.cert, key: deps.tls.key }, handler) : createServer(options, handler);
  server.maxConnections = maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`could not listen on ${deps.host}:${deps.port} (${err.message}): set CAMPAIGNS_PORT to a free port`)));
    server.listen(deps.port, deps.host, () => resolve(server));
  });
}
