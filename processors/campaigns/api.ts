/**
 * The campaign management API on node:http. Routes only: bodies are validated by requests.ts, stored by
 * store.ts, published by the injected `publish`.
 *
 *   POST /advertisers                 201 | 400 | 409          GET /advertisers
 *   POST /campaigns                   201 | 400 | 404 | 409    GET /campaigns[?advertiserId=&status=]
 *   GET  /campaigns/:id               200 | 404                PUT /campaigns/:id   200 | 400 | 404 | 409
 *   POST /campaigns/:id/pause|resume  200 | 404 | 409          POST /campaigns/:id/creatives  201 | 400 | 404 | 409
 *   GET  /health, /ready (Postgres and Kafka reachable), /metrics
 *
 * A change is answered 200/201 only after the Postgres commit AND the broker's acknowledgement. When the
 * publish fails the answer is 503: the change is committed and the republisher will deliver it.
 * Every error is JSON `{"error": code, "message"?, "errors"?: [{field, message}]}`; 413 over 1 MiB,
 * 415 for a body that is not JSON, 405 with Allow.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { isPipelineError } from '../runtime/errors.js';
import { readJsonBody } from './json-body.js';
import { checkAdvertiser, checkCampaign, checkCreative, type Checked } from './requests.js';
import type { CampaignStore, Rejection, Result } from './store.js';
import type { Campaign } from './types.js';
import type { CampaignMetrics } from './metrics.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiDeps {
  store: CampaignStore;
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
type Handler = (req: IncomingMessage, params: string[], url: URL) => Promise<Answer>;

const REJECTION_STATUS: Record<Rejection, number> = {
  advertiser_exists: 409, advertiser_not_found: 404, campaign_exists: 409, campaign_not_found: 404,
  creative_exists: 409, too_many_creatives: 409, campaign_ended: 409,
};
const STATUSES = new Set(['active', 'paused', 'ended']);
const invalid = (error: string, c: Checked<unknown> & { ok: false }): Answer => ({ status: 400, body: { error, errors: c.errors } });

export function createApiHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { store, log, metrics } = deps;
  const clock = deps.clock ?? Date.now;

  /** Publishes a stored change and answers `status`, or 503 if the publish failed. */
  async function published(r: Result<Campaign>, status: number): Promise<Answer> {
    if (!r.ok) return { status: REJECTION_STATUS[r.reason], body: { error: r.reason } };
    try {
      await deps.publish(r.value);
    } catch (err) {
      log.error({ err, campaign: r.value.id }, 'campaign saved but not published: the republisher will deliver it');
      return { status: 503, headers: { 'retry-after': '5' }, body: { error: 'publish_failed', message: 'the change is saved; publishing it to Kafka failed and will be retried', id: r.value.id } };
    }
    return { status, body: r.value, headers: status === 201 ? { location: `/campaigns/${encodeURIComponent(r.value.id)}` } : {} };
  }

  async function withBody(req: IncomingMessage, fn: (body: unknown) => Promise<Answer>): Promise<Answer> {
    const b = await readJsonBody(req, MAX_BODY_BYTES);
    if (!b.ok) return { status: b.status, body: { error: b.error, message: b.message }, headers: b.status === 413 ? { connection: 'close' } : {} };
    return fn(b.value);
  }

  const routes: Array<{ name: string; pattern: RegExp; methods: Record<string, Handler> }> = [
    { name: '/health', pattern: /^\/health$/, methods: { GET: async () => ({ status: 200, body: { status: 'ok' } }) } },
    { name: '/ready', pattern: /^\/ready$/, methods: { GET: async () => ((await deps.isReady()) ? { status: 200, body: { status: 'ready' } } : { status: 503, body: { error: 'not_ready' } }) } },
    { name: '/metrics', pattern: /^\/metrics$/, methods: { GET: async () => ({ status: 200, body: await deps.registry.metrics(), headers: { 'content-type': deps.registry.contentType } }) } },
    {
      name: '/advertisers', pattern: /^\/advertisers$/, methods: {
        GET: async () => ({ status: 200, body: { advertisers: await store.listAdvertisers() } }),
        POST: (req) => withBody(req, async (body) => {
          const c = checkAdvertiser(body, `adv-${randomUUID()}`);
          if (!c.ok) return invalid('invalid_advertiser', c);
          const r = await store.createAdvertiser(c.value);
          return r.ok ? { status: 201, body: r.value } : { status: REJECTION_STATUS[r.reason], body: { error: r.reason } };
        }),
      },
    },
    {
      name: '/campaigns', pattern: /^\/campaigns$/, methods: {
        GET: async (_req, _p, url) => {
          const status = url.searchParams.get('status');
          if (status !== null && !STATUSES.has(status)) return { status: 400, body: { error: 'invalid_query', errors: [{ field: 'status', message: 'must be one of active, paused, ended' }] } };
          const advertiserId = url.searchParams.get('advertiserId') ?? undefined;
          return { status: 200, body: { campaigns: await store.listCampaigns({ advertiserId, status: (status ?? undefined) as Campaign['status'] | undefined }) } };
        },
        POST: (req) => withBody(req, async (body) => {
          const c = checkCampaign(body, { newId: `cmp-${randomUUID()}` }, clock());
          return c.ok ? published(await store.createCampaign(c.value), 201) : invalid('invalid_campaign', c);
        }),
      },
    },
    {
      name: '/campaigns/:id', pattern: /^\/campaigns\/([^/]+)$/, methods: {
        GET: async (_req, [id]) => {
          const c = await store.getCampaign(id!);
          return c ? { status: 200, body: c } : { status: 404, body: { error: 'campaign_not_found' } };
        },
        PUT: async (req, [id]) => {
          // 404 before reading the body: an unknown campaign is the more useful answer.
          if (!(await store.getCampaign(id!))) return { status: 404, body: { error: 'campaign_not_found' } };
          return withBody(req, async (body) => {
            const c = checkCampaign(body, { pathId: id!, newId: id! }, clock());
            return c.ok ? published(await store.updateCampaign(c.value), 200) : invalid('invalid_campaign', c);
          });
        },
      },
    },
    { name: '/campaigns/:id/pause', pattern: /^\/campaigns\/([^/]+)\/pause$/, methods: { POST: async (_req, [id]) => published(await store.setStatus(id!, 'paused'), 200) } },
    { name: '/campaigns/:id/resume', pattern: /^\/campaigns\/([^/]+)\/resume$/, methods: { POST: async (_req, [id]) => published(await store.setStatus(id!, 'active'), 200) } },
    {
      name: '/campaigns/:id/creatives', pattern: /^\/campaigns\/([^/]+)\/creatives$/, methods: {
        POST: async (req, [id]) => {
          if (!(await store.getCampaign(id!))) return { status: 404, body: { error: 'campaign_not_found' } };
          return withBody(req, async (body) => {
            const c = checkCreative(body);
            return c.ok ? published(await store.addCreative(id!, c.value), 201) : invalid('invalid_creative', c);
          });
        },
      },
    },
  ];

  async function route(req: IncomingMessage): Promise<{ name: string; answer: Answer }> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return { name: 'unknown', answer: { status: 400, body: { error: 'invalid_url' } } };
    }
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      const handler = r.methods[req.method ?? 'GET'];
      if (!handler) return { name: r.name, answer: { status: 405, headers: { allow: Object.keys(r.methods).join(', ') }, body: { error: 'method_not_allowed' } } };
      let params: string[];
      try {
        params = m.slice(1).map((p) => decodeURIComponent(p));
      } catch {
        return { name: r.name, answer: { status: 404, body: { error: 'not_found' } } };
      }
      return { name: r.name, answer: await handler(req, params, url) };
    }
    return { name: 'unknown', answer: { status: 404, body: { error: 'not_found' } } };
  }

  return (req, res) => {
    const end = metrics.latency.startTimer();
    route(req)
      .catch((err: unknown): { name: string; answer: Answer } => {
        const unavailable = isPipelineError(err) && err.retryable;
        log.error({ err, method: req.method, url: req.url }, 'request failed');
        return { name: 'error', answer: unavailable ? { status: 503, headers: { 'retry-after': '1' }, body: { error: 'unavailable' } } : { status: 500, body: { error: 'internal' } } };
      })
      .then(({ name, answer }) => {
        const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {});
        if (!res.headersSent) res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(text);
        metrics.requests.inc({ route: name, method: req.method ?? '', status: String(answer.status) });
        end({ route: name });
      })
      .catch((err: unknown) => log.error({ err }, 'writing the answer failed'));
  };
}

/** Listens and resolves with the server once bound (port 0 picks a free port). */
export function startCampaignsApi(deps: ApiDeps & { host: string; port: number }): Promise<Server> {
  const server = createServer(createApiHandler(deps));
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`could not listen on ${deps.host}:${deps.port} (${err.message}): set CAMPAIGNS_PORT to a free port`)));
    server.listen(deps.port, deps.host, () => resolve(server));
  });
}
