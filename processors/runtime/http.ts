/** The small HTTP server every processor runs beside its work: /health (live), /ready, /metrics. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export function startHealthServer(opts: { host: string; port: number; registry: Registry; isReady: () => boolean }): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (req.method === 'GET' && url === '/ready') {
      const ok = opts.isReady();
      return void res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ready' : 'not ready' }));
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
    server.once('error', (err) => reject(new Error(`could not listen on ${opts.host}:${opts.port} (${err.message}): set PROCESSOR_HTTP_PORT to a free port`)));
    server.listen(opts.port, opts.host, () => resolve(server));
  });
}
