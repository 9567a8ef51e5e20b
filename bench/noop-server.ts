/**
 * The baseline target: a uWebSockets.js server that reads every POST body to the end and answers
 * 202 with a small JSON id, doing nothing else. The same load run against it and against the edge
 * gives the edge's cost as a ratio. GET /ready answers 200 so it is probed like the edge.
 */
import uWS from '@trufflesuite/uws-js-unofficial';
import { cli, numArg } from './lib/options.js';

const port = cli('node --import tsx bench/noop-server.ts [port]      (or PORT=...; default 8090)', {}, (_, [raw]) =>
  numArg('port', raw ?? process.env['PORT'] ?? '8090', 1, true, 65535), { positionals: true });

let accepted = 0;
let listenSocket: uWS.us_listen_socket | null = null;

const app = uWS
  .App()
  .get('/ready', (res) => {
    res.writeStatus('200 OK').end('ready');
  })
  .post('/*', (res) => {
    let aborted = false;
    let bytes = 0;
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((chunk, isLast) => {
      bytes += chunk.byteLength; // the body is read, not parsed: this is the do-nothing baseline
      if (!isLast || aborted) return;
      const id = `noop-${++accepted}`;
      res.cork(() => {
        res.writeStatus('202 Accepted').writeHeader('Content-Type', 'application/json').end(`{"id":"${id}","bytes":${bytes}}`);
      });
    });
  })
  .any('/*', (res) => {
    res.writeStatus('404 Not Found').end();
  });

app.listen('127.0.0.1', port, (socket) => {
  if (!socket) {
    process.stderr.write(`noop-server: cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  listenSocket = socket;
  process.stdout.write(`noop-server listening on 127.0.0.1:${port}\n`);
});

function stop(): void {
  if (listenSocket) uWS.us_listen_socket_close(listenSocket);
  listenSocket = null;
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
