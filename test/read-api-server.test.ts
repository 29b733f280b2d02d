import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, loadConfig, openReader, type Reader } from '@tidemark/gateway';
import { type ClickHouse, createClickHouse, migrate } from '@tidemark/store';
import { makeRow, toJsonEachRow } from '@tidemark/store/fixture';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startClickHouseProcess } from '../harness/processes.js';

// The read API in distributed mode: the gateway reads from a ClickHouse server over HTTP with
// TIDEMARK_READ_CLICKHOUSE_URL, through @clickhouse/client, exactly as it would from a real server. The server is
// scripts/clickhouse-http.ts over chDB in a child process (DESIGN §7: no ClickHouse server on these machines), so
// this process never binds chDB itself.
const _root = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'distributed-admin-token-0001';
let dataDir: string;
let server: ChildProcess;
let writer: ClickHouse;
let reader: Reader;
let app: ReturnType<typeof build>;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-read-server-'));
  const clickhouseProcess = await startClickHouseProcess(dataDir);
  server = clickhouseProcess.process;
  const url = clickhouseProcess.url;
  // What the sinks would have written.
  writer = createClickHouse({ url });
  await migrate(writer);
  const rows = ['a', 'b', 'b'].map((anonymousId, i) =>
    makeRow({
      project_id: 'shop',
      event_id: `0195802a-6b1e-7c3d-9f00-00000000000${i}`,
      anonymous_id: anonymousId,
      path: i === 0 ? '/' : '/pricing',
    }),
  );
  await writer.insertJsonEachRow('tidemark.events', toJsonEachRow(rows));

  const config = loadConfig({
    TIDEMARK_MODE: 'distributed',
    TIDEMARK_LOG_LEVEL: 'silent',
    TIDEMARK_WRITE_KEYS: 'k:shop',
    // Never connected: the read API does not use the transport.
    KAFKA_BROKERS: '127.0.0.1:9',
    TIDEMARK_ADMIN_TOKEN: TOKEN,
    TIDEMARK_READ_CLICKHOUSE_URL: url,
    TIDEMARK_READ_MAX_RESULT_ROWS: '10',
    TIDEMARK_READ_MAX_EXECUTION_SECONDS: '1',
  });
  if (!config.read.clickhouse) throw new Error('expected a read ClickHouse');
  reader = await openReader(config.read.clickhouse, config.read);
  const transport = {
    deliver: async () => {},
    deadLetter: async () => {},
    ready: async () => {},
    close: async () => {},
  };
  app = build(config, { transport, reader });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await reader?.close();
  await writer?.close();
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function sql(query: string, params?: Record<string, unknown>) {
  return app.inject({
    method: 'POST',
    url: '/v1/sql',
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { query, ...(params ? { params } : {}) },
  });
}

it('reads through a server connection: unqualified names resolve to tidemark, params bind, counts stay exact', async () => {
  expect(reader.backend).toBe('server');
  const response = await sql(
    'SELECT path, count() AS views FROM events WHERE project_id = {p:String} GROUP BY path ORDER BY path',
    { p: 'shop' },
  );
  expect(response.statusCode).toBe(200);
  expect(response.json()).toMatchObject({
    columns: [
      { name: 'path', type: 'String' },
      { name: 'views', type: 'UInt64' },
    ],
    rows: [
      ['/', '1'],
      ['/pricing', '2'],
    ],
  });
  expect(response.json().rowsRead).toBeGreaterThan(0);
});

it('answers the same errors as in embedded mode: row limit, time limit, query error, write refused', async () => {
  expect((await sql('SELECT number FROM numbers(11)')).json()).toMatchObject({
    code: 'result_too_large',
    maxResultRows: 10,
  });
  const slow = await sql(
    'SELECT count() FROM numbers(1000) AS a, numbers(1000) AS b, numbers(1000) AS c WHERE a.number + b.number + c.number = 7',
  );
  expect(slow.statusCode).toBe(504);
  expect(slow.json().code).toBe('query_timeout');
  expect((await sql('SELECT nope FROM events')).json()).toMatchObject({
    code: 'query_failed',
    clickhouse: { code: 47 },
  });
  const write = await reader
    .query('CREATE TABLE tidemark.sneaky (x UInt8) ENGINE = Memory')
    .catch((e: unknown) => e);
  expect(write).toMatchObject({ code: 'query_failed', details: { clickhouse: { code: 164 } } });
});

it('answers 503 without internals when the server is gone', async () => {
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
  const response = await sql('SELECT 1');
  expect(response.statusCode).toBe(503);
  expect(response.json()).toEqual({
    code: 'store_unavailable',
    message: 'ClickHouse is not reachable for reads.',
  });
  expect(response.headers['retry-after']).toBeDefined();
});
