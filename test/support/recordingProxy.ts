import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';

/** One request as a client sent it: method, path, headers, and the body decoded from its Content-Encoding. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The proxy answered it with a failure of its own (`failNext`) instead of forwarding it. */
  failed?: boolean;
}

export interface RecordingProxy {
  url: string;
  requests: RecordedRequest[];
  /** Answers the next `times` POSTs that `match` selects with `status` itself, as a failing gateway would. */
  failNext(match: (request: RecordedRequest) => boolean, times: number, status: number): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the gateway that records every request exactly as the client sent it and forwards the
 * same bytes and headers, so a test compares what a real client library put on the wire with what was stored,
 * not with what it meant to send.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const to = new URL(target);
  const requests: RecordedRequest[] = [];
  const faults: { match: (request: RecordedRequest) => boolean; times: number; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
      let body: string;
      try {
        body = (
          encoding === 'gzip' ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw
        ).toString('utf8');
      } catch {
        body = `(undecodable ${encoding} body)`;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      const fault = faults.find((f) => f.times > 0 && req.method === 'POST' && f.match(recorded));
      if (fault) {
        fault.times -= 1;
        recorded.failed = true;
        // Readable by a page, so a browser client sees the status rather than a CORS failure.
        res.writeHead(fault.status, {
          'content-type': 'application/json',
          'access-control-allow-origin': '*',
        });
        res.end('{"code":"transport_unavailable","message":"injected by the test proxy"}');
        return;
      }
      const forward = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(match, times, status) {
      faults.push({ match, times, status });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
