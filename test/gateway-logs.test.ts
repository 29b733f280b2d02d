import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { type Running, runService } from '../harness/service.js';
import { freePort } from '../scripts/kafka.mjs';

// Secrets and visitors' addresses never reach the gateway's log, at its most verbose level: the gateway process
// started as its Docker image starts it (embedded mode here: no broker needed, the read API reads its chDB), at
// TIDEMARK_LOG_LEVEL=trace, gets real requests carrying write keys (body and Basic), the admin token, and
// X-Forwarded-For addresses, accepted and refused ones, and requests the HTTP parser refuses. Then none of those
// values may appear in anything the process printed.
const WRITE_KEY = 'wk-logs-secret-4f1e2d';
const ADMIN_TOKEN = 'admin-logs-secret-9a8b7c6d5e';
const WRONG_TOKEN = 'admin-logs-wrong-1a2b3c4d5e';
const CLIENT_IPS = ['203.0.113.77', '198.51.100.23', '2001:db8::beef'];
let dir: string;
let gateway: Running;
let base: string;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-logs-'));
  port = await freePort();
  gateway = runService('gateway', {
    TIDEMARK_MODE: 'embedded',
    TIDEMARK_CHDB_PATH: dir,
    TIDEMARK_LISTEN_HOST: '127.0.0.1',
    TIDEMARK_PORT: String(port),
    TIDEMARK_WRITE_KEYS: `${WRITE_KEY}:logs`,
    TIDEMARK_ADMIN_TOKEN: ADMIN_TOKEN,
    TIDEMARK_LOG_LEVEL: 'trace',
    // Behind a proxy: request.ip is the X-Forwarded-For address, the one that must stay out of the log.
    TIDEMARK_TRUST_PROXY: 'true',
    TIDEMARK_COUNTRY_HEADER: 'cf-ipcountry',
  });
  base = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), {
    timeoutMs: 90_000,
    what: `the gateway to start; it printed:\n${gateway.output}`,
  });
});

afterAll(async () => {
  if (gateway && gateway.process.exitCode === null) {
    gateway.process.kill('SIGTERM');
    await gateway.exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function raw(bytes: string): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.resume();
  socket.write(bytes);
  await once(socket, 'close');
}

it('keeps write keys, the admin token, Authorization headers and client IPs out of a trace-level log', async () => {
  const basic = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  const event = { type: 'track', event: 'Logged', anonymousId: 'a1' };
  const post = (path: string, headers: Record<string, string>, body: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body });
  const answers: number[] = [];
  for (const [i, ip] of CLIENT_IPS.entries()) {
    const xff = { 'x-forwarded-for': ip, 'cf-ipcountry': 'DE' };
    answers.push(
      (await post('/v1/batch', xff, JSON.stringify({ writeKey: WRITE_KEY, batch: [event, { bad: i }] })))
        .status,
      (await post('/v1/track', { ...xff, authorization: basic }, JSON.stringify(event))).status,
      (await post('/v1/batch', xff, `{"writeKey":"${WRITE_KEY}","batch":[`)).status,
      (await post('/v1/batch', { ...xff, authorization: basic }, '{"batch":[{"__proto__":{}}]}')).status,
      (
        await post(
          '/v1/batch',
          { ...xff, origin: 'https://x.example' },
          JSON.stringify({ writeKey: `${WRITE_KEY}-old`, batch: [event] }),
        )
      ).status,
      (
        await post(
          '/v1/sql',
          { ...xff, authorization: `Bearer ${ADMIN_TOKEN}` },
          'SELECT count() FROM events',
        )
      ).status,
      (
        await post(
          '/v1/sql',
          { ...xff, authorization: `Bearer ${ADMIN_TOKEN}` },
          'SELECT * FROM no_such_table',
        )
      ).status,
      (await post('/v1/sql', { ...xff, authorization: `Bearer ${WRONG_TOKEN}` }, 'SELECT 1')).status,
      (await fetch(`${base}/v1/queries`, { headers: { ...xff, authorization: `Bearer ${ADMIN_TOKEN}` } }))
        .status,
    );
    // Requests Node's HTTP parser refuses before a route runs: their raw bytes carry the same headers.
    await raw(
      `POST /v1/batch HTTP/1.1\r\nAuthorization: ${basic}\r\nX-Forwarded-For: ${ip}\r\nContent-Length: x\r\n\r\n`,
    );
    await raw(
      `POST /v1/sql HTTP/1.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nX-Forwarded-For: ${ip}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
  }
  expect(answers.slice(0, 9)).toEqual([200, 200, 400, 400, 401, 200, 400, 401, 200]);

  // Everything the requests caused has been written once the process answers again.
  await fetch(`${base}/healthz`);
  const output = gateway.output;
  // The log is there and verbose: the requests themselves are in it.
  expect(output).toContain('"msg":"incoming request"');
  expect(output).toContain('/v1/sql');
  for (const secret of [
    WRITE_KEY,
    Buffer.from(`${WRITE_KEY}:`).toString('base64'),
    ADMIN_TOKEN,
    WRONG_TOKEN,
    ...CLIENT_IPS,
    // Fields, as JSON keys: the word "Authorization" itself is in the admin-token refusal's message.
    '"authorization"',
    '"x-forwarded-for"',
    '"headers"',
    '"remoteAddress"',
    '"remotePort"',
    '"rawPacket"',
  ]) {
    const at = output.indexOf(secret);
    expect(at, `${secret} in the log: …${output.slice(Math.max(0, at - 300), at + 100)}…`).toBe(-1);
  }
}, 180_000);
