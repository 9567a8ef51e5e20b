/** The health server every processor and the sink run beside their work: /health (live), /ready, /metrics. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** Readiness with its reason: /ready answers it as JSON (503 with `reason` when not ready). */
export interface ReadyState {
  ready: boolean;
  reason?: string;
  [detail: string]: unknown;
}

/** `portVariable`: the variable that sets `port`, named when it cannot be listened on. */
export function startHealthServer(opts: { host: string; port: number; portVariable: string; registry: Registry; isReady: () => boolean | ReadyState }): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (req.method === 'GET' && url === '/ready') {
      const state = opts.isReady();
      const { ready, ...detail } = typeof state === 'boolean' ? { ready: state } : state;
      return void res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'not ready', ...detail }));
    }
    if (req.method === 'GET' && url === '/metrics') {
      void opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`could not listen on ${opts.host}:${opts.port} (${err.message}): set ${opts.portVariable} to a free port`)));
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
