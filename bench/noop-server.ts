/** The baseline target: a uWebSockets.js server that reads each POST body and answers 202; GET /ready answers 200. */
import uWS from '@trufflesuite/uws-js-unofficial';
import { cli, numArg } from './lib/options.js';

let port = 0;
cli('bench/noop-server.ts', {}, {
  positionals: '[port]  (or PORT=...; default 8090)',
  check: (_, [raw]) => void (port = numArg('port', raw ?? process.env.PORT ?? '8090', 1, true, 65535)),
});

let accepted = 0;
const app = uWS.App()
  .get('/ready', (res) => void res.writeStatus('200 OK').end('ready'))
  .post('/*', (res) => {
    let [aborted, bytes] = [false, 0];
    res.onAborted(() => (aborted = true));
    res.onData((chunk, isLast) => {
      bytes += chunk.byteLength; // the body is read, not parsed: this is the do-nothing baseline
      if (!isLast || aborted) return;
      const id = `noop-${++accepted}`;
      res.cork(() => void res.writeStatus('202 Accepted').writeHeader('Content-Type', 'application/json').end(`{"id":"${id}","bytes":${bytes}}`));
    });
  })
  .any('/*', (res) => void res.writeStatus('404 Not Found').end());

app.listen('127.0.0.1', port, (socket) => {
  if (!socket) {
    process.stderr.write(`noop-server: cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  process.stdout.write(`noop-server listening on 127.0.0.1:${port}\n`);
  const stop = (): void => {
    uWS.us_listen_socket_close(socket);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
});
