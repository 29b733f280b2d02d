import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SinkStatus } from './consumer.js';

/** `GET /healthz`: 200 with the sink's status while it consumes, 503 once it stopped or crashed. */
export async function startHealthServer(
  opts: { host: string; port: number },
  status: () => SinkStatus,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/healthz') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const current = status();
    res
      .writeHead(current.running ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      })
      .end(JSON.stringify({ status: current.running ? 'ok' : 'down', ...current }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Health checkers keep connections alive; do not let them hold the shutdown.
        server.closeAllConnections();
      }),
  };
}
