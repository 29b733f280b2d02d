import { type ClickHouse, createWriter } from '@tidemark/store';
import { type TempChdb, tempChdb } from '@tidemark/store/tempChdb';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../app.js';
import { embeddedConfig } from '../embeddedConfig.fixture.js';
import { GatewayError } from '../errors.js';
import { createLogger } from '../logger.js';
import { openReader, type Reader } from '../read/reader.js';
import { fixtureQueries } from '../read/readyQueries.fixture.js';
import { createEmbeddedTransport } from '../transport/embedded.js';

// The read API over the real engine: chDB in this file's own fork and directory (DESIGN §7), written by the
// gateway's embedded path and read through a second session, as start.ts wires it.
const TOKEN = 'test-admin-token-0123456789';
let chdb: TempChdb;
let dir: string;
let clickhouse: ClickHouse;
let reader: Reader;
let app: FastifyInstance;
let disabled: FastifyInstance;

function configFor(extra: Record<string, string> = {}) {
  return embeddedConfig(dir, {
    TIDEMARK_ADMIN_TOKEN: TOKEN,
    TIDEMARK_READ_MAX_RESULT_ROWS: '100',
    TIDEMARK_READ_MAX_EXECUTION_SECONDS: '1',
    TIDEMARK_READ_MAX_ROWS_TO_READ: '5000000',
    ...extra,
  });
}

beforeAll(async () => {
  chdb = await tempChdb('tidemark-gateway-read-');
  ({ dir, clickhouse } = chdb);
  const config = configFor();
  reader = await openReader(config.clickhouse, config.read);
  const transport = createEmbeddedTransport({ writer: createWriter({ clickhouse }), clickhouse });
  app = build(config, { transport, reader, readyQueries: fixtureQueries });
  disabled = build(configFor({ TIDEMARK_ADMIN_TOKEN: '' }), { transport });
  await Promise.all([app.ready(), disabled.ready()]);
  await seed();
});

afterAll(async () => {
  await app?.close();
  await disabled?.close();
  await reader?.close();
  await chdb?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

let seq = 0;
function event(type: 'page' | 'track', at: string, anonymousId: string, extra: Record<string, unknown>) {
  seq += 1;
  return {
    type,
    messageId: `0195802a-6b1e-7c3d-9f00-${String(seq).padStart(12, '0')}`,
    timestamp: at,
    anonymousId,
    ...extra,
  };
}
const page = (at: string, who: string, path: string) =>
  event('page', at, who, { context: { page: { url: `https://shop.example${path}`, path } } });
const track = (at: string, who: string, name: string) => event('track', at, who, { event: name });

/** Two days of the shop, and one event of the blog that no shop query may count. */
async function seed(): Promise<void> {
  const shop = [
    page('2026-03-01T10:00:00.000Z', 'a', '/'),
    page('2026-03-01T10:01:00.000Z', 'a', '/pricing'),
    page('2026-03-01T11:00:00.000Z', 'b', '/'),
    page('2026-03-02T09:00:00.000Z', 'c', '/'),
    page('2026-03-02T09:05:00.000Z', 'c', '/pricing'),
    page('2026-03-02T09:06:00.000Z', 'c', '/docs'),
    track('2026-03-02T09:07:00.000Z', 'c', 'Signed Up'),
    track('2026-03-02T09:08:00.000Z', 'a', 'Signed Up'),
    track('2026-03-02T09:09:00.000Z', 'a', 'Order Completed'),
    // Outside the range the tests ask for.
    page('2026-03-04T00:00:00.000Z', 'd', '/'),
  ];
  const blog = [page('2026-03-01T10:00:00.000Z', 'z', '/')];
  for (const [writeKey, batch] of [
    ['key-shop', shop],
    ['key-blog', blog],
  ] as const) {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: { writeKey, sentAt: new Date().toISOString(), batch },
    });
    expect(response.json()).toMatchObject({ accepted: batch.length, rejected: [] });
  }
}

function sql(query: string | Record<string, unknown>, headers: Record<string, string> = auth) {
  return app.inject({
    method: 'POST',
    url: '/v1/sql',
    headers: typeof query === 'string' ? { ...headers, 'content-type': 'text/plain' } : headers,
    payload: query,
  });
}

describe('admin token', () => {
  it('answers 401 with a Bearer challenge without a token or with a wrong one, before reading the body', async () => {
    const missing = await sql('SELECT 1', {});
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(missing.json()).toMatchObject({ code: 'invalid_admin_token' });
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN]) {
      expect((await sql('SELECT 1', { authorization: header })).statusCode).toBe(401);
    }
    const list = await app.inject({
      method: 'GET',
      url: '/v1/queries',
      headers: { authorization: 'Bearer nope' },
    });
    expect(list.statusCode).toBe(401);
  });

  it('never writes the token, right or wrong, to the log', async () => {
    const lines: string[] = [];
    const logger = createLogger('trace', {
      write: (line: string) => {
        lines.push(line);
      },
    });
    const config = configFor({ TIDEMARK_LOG_LEVEL: 'trace' });
    const transport = createEmbeddedTransport({ writer: createWriter({ clickhouse }), clickhouse });
    const verbose = build(config, { transport, reader, logger });
    try {
      for (const token of [TOKEN, `${TOKEN}-wrong`]) {
        await verbose.inject({
          method: 'POST',
          url: '/v1/sql',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          payload: 'SELECT nope',
        });
      }
    } finally {
      await verbose.close();
    }
    const logged = lines.join('');
    expect(logged).toContain('/v1/sql');
    expect(logged).not.toContain(TOKEN);
  });

  it('serves the right token', async () => {
    const response = await sql('SELECT 1 AS one');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ columns: [{ name: 'one', type: 'UInt8' }], rows: [[1]] });
  });

  it('answers 404 read_api_disabled on every read route when no token is configured', async () => {
    for (const [method, url] of [
      ['POST', '/v1/sql'],
      ['GET', '/v1/queries'],
      ['GET', '/v1/queries/top_paths'],
    ] as const) {
      const response = await disabled.inject({
        method,
        url,
        headers: auth,
        payload: method === 'POST' ? {} : undefined,
      });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'read_api_disabled' });
      expect(response.json().message).toContain('TIDEMARK_ADMIN_TOKEN');
    }
  });
});

describe('POST /v1/sql', () => {
  it('answers columns, rows, rowsRead and elapsedMs, from JSON with params or from text/plain', async () => {
    const query = `SELECT path, count() AS views FROM tidemark.events
      WHERE project_id = {p:String} AND type = 'page' GROUP BY path ORDER BY path`;
    const json = await sql({ query, params: { p: 'shop' } });
    expect(json.statusCode).toBe(200);
    const body = json.json();
    expect(body.columns).toEqual([
      { name: 'path', type: 'String' },
      { name: 'views', type: 'UInt64' },
    ]);
    // 64-bit integers come as strings (ClickHouse's JSON default), so no count is ever rounded.
    expect(body.rows).toEqual([
      ['/', '4'],
      ['/docs', '1'],
      ['/pricing', '2'],
    ]);
    expect(body.rowsRead).toBeGreaterThan(0);
    expect(typeof body.elapsedMs).toBe('number');

    const text = await sql("SELECT count() AS n FROM events WHERE project_id = 'blog';\n");
    expect(text.json().rows).toEqual([['1']]);
  });

  it("reads the rollups' parameterized views, as the README shows them", async () => {
    const response = await sql({
      query: `SELECT sum(pageviews) AS views FROM tidemark.page_rows(project = {p:String},
        from = '2020-01-01 00:00:00', to = '2100-01-01 00:00:00', host = '', country = '', device_type = '',
        filter = '')`,
      params: { p: 'shop' },
    });
    // Served, and equal to the raw events' count (the rollups leave bots out, as every ready query does).
    expect(response.statusCode).toBe(200);
    const raw = await sql({
      query: `SELECT count() AS views FROM tidemark.events
        WHERE project_id = {p:String} AND type = 'page' AND bot_reason = ''`,
      params: { p: 'shop' },
    });
    expect(response.json().rows).toEqual(raw.json().rows);
  });

  it('keeps a SETTINGS clause that lifts no limit', async () => {
    const response = await sql('SELECT 1 AS x SETTINGS join_use_nulls = 1');
    expect(response.statusCode).toBe(200);
    expect(response.json().rows).toEqual([[1]]);
  });

  it('serves SHOW, DESCRIBE, EXPLAIN and EXISTS on the analytics database', async () => {
    expect((await sql('SHOW TABLES')).json().rows).toContainEqual(['events']);
    expect((await sql('DESCRIBE TABLE tidemark.events')).json().rows).toContainEqual(
      expect.arrayContaining(['event_id', 'UUID']),
    );
    expect((await sql('EXPLAIN SELECT count() FROM events')).statusCode).toBe(200);
    expect((await sql('EXISTS TABLE tidemark.events')).json().rows).toEqual([[1]]);
  });

  it('runs the statement as ClickHouse prints it: comments, quoted names and heredoc-free text as written', async () => {
    const response = await sql(
      "SELECT count() AS `all events`, 'a;b' AS s FROM `tidemark`.`events` AS e ARRAY JOIN [1] AS one -- note\n",
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().columns.map((c: { name: string }) => c.name)).toEqual(['all events', 's']);
  });

  const refused: [string, string, RegExp][] = [
    ['a write', "INSERT INTO tidemark.events (project_id) VALUES ('x')", /starts with INSERT/],
    ['DDL', 'DROP TABLE tidemark.events', /starts with DROP/],
    ['ALTER', 'ALTER TABLE tidemark.events DELETE WHERE 1', /starts with ALTER/],
    ['SET', 'SET readonly = 0', /starts with SET/],
    ['two statements', 'SELECT 1; DROP TABLE tidemark.events', /one statement per request/],
    ['a statement hidden after a string', "SELECT 'a;b'; SELECT 2", /one statement/],
    ['file()', "SELECT * FROM file('/etc/passwd', 'LineAsString')", /file\(\) reads outside/],
    ['the scalar file()', "SELECT file('/etc/hostname')", /file\(\) reads outside/],
    ['url()', "SELECT * FROM url('http://169.254.169.254/', 'RawBLOB')", /url\(\) reads outside/],
    ['remote()', "SELECT * FROM remote('db:9000', tidemark.events)", /remote\(\) reads outside/],
    ['s3()', "SELECT * FROM s3('https://b.s3.amazonaws.com/x.csv')", /s3\(\) reads outside/],
    ['a quoted table function', `SELECT * FROM "file"('/etc/passwd')`, /reads outside/],
    ['system tables', 'SELECT * FROM system.query_log', /Only the tidemark database/],
    ['SHOW of another database', 'SHOW TABLES FROM system', /Only the tidemark database/],
    ['SHOW of the server', 'SHOW PROCESSLIST', /SHOW PROCESSLIST is not served/],
    ['SETTINGS that lift a limit', 'SELECT 1 SETTINGS max_result_rows = 0', /SETTINGS max_result_rows/],
    ['SETTINGS that lift readonly', 'SELECT 1 SETTINGS readonly = 0', /SETTINGS readonly/],
    ['SETTINGS that lift the time limit', 'SELECT 1 SETTINGS max_execution_time = 0', /max_execution_time/],
    ['a FORMAT clause', 'SELECT 1 FORMAT CSV', /FORMAT clause/],
    ['INTO OUTFILE', "SELECT 1 INTO OUTFILE '/tmp/x'", /OUTFILE/],
    ['an empty query', '  -- nothing\n', /empty/],
    ['an unterminated string', "SELECT 'abc", /Unterminated ' quote/],
    ['a heredoc', 'SELECT $$x$$', /Heredoc/],
    // Escapes inside quoted names, which ClickHouse reads and a token check alone would not.
    ['an escaped table function', "SELECT * FROM `fi\\x6ce`('/etc/passwd')", /name in quotes is not served/],
    ['an escaped scalar function', "SELECT `u\\x72l`('http://127.0.0.1:9/')", /name in quotes is not served/],
    ['an escaped database', 'SELECT * FROM `sys\\x74em`.tables', /Only the tidemark database/],
    [
      'an escaped setting',
      'SELECT 1 SETTINGS `max_result\\x5frows` = 0',
      /SETTINGS `max_result\\x5frows` is not served/,
    ],
    ['a table named by a parameter', 'SELECT * FROM {t:Identifier}', /Identifier query parameters/],
    ['a look-alike letter', 'SELECT * FROM f\u0456le(1)', /U\+0456/],
  ];
  it.each(refused)('refuses %s with 400 invalid_query naming it', async (_what, query, message) => {
    const response = await sql({ query });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('invalid_query');
    expect(response.json().message).toMatch(message);
  });

  it('refuses a body without a query', async () => {
    const response = await sql({ sql: 'SELECT 1' });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('invalid_body');
  });

  it("answers 400 query_failed with ClickHouse's message and code for a query it refuses", async () => {
    const unknown = await sql('SELECT nope FROM tidemark.events');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'query_failed', clickhouse: { code: 47 } });
    expect(unknown.json().message).toContain('nope');
    const syntax = await sql('SELECT FROM WHERE');
    expect(syntax.json()).toMatchObject({ code: 'query_failed', clickhouse: { code: 62 } });
  });

  it('refuses a result over max_result_rows with 400 result_too_large, and serves one at the limit', async () => {
    expect((await sql('SELECT number FROM numbers(100)')).json().rows).toHaveLength(100);
    const over = await sql('SELECT number FROM numbers(101)');
    expect(over.statusCode).toBe(400);
    expect(over.json()).toMatchObject({ code: 'result_too_large', maxResultRows: 100 });
    expect(over.json().message).toContain('add a LIMIT');
    // Aggregating many rows into few is fine: the limit is on the result, not on what is read.
    expect((await sql('SELECT count() FROM numbers(100000)')).json().rows).toEqual([['100000']]);
  });

  it('refuses a query reading more than max_rows_to_read', async () => {
    const response = await sql('SELECT count() FROM numbers(6000000)');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'result_too_large', maxRowsToRead: 5000000 });
  });

  it('stops a query at max_execution_time with 504 query_timeout', async () => {
    const started = performance.now();
    // Few rows read (so max_rows_to_read does not stop it first), many produced: a cross join of 1000³.
    const response = await sql(
      'SELECT count() FROM numbers(1000) AS a, numbers(1000) AS b, numbers(1000) AS c WHERE a.number + b.number + c.number = 7',
    );
    expect(response.statusCode).toBe(504);
    expect(response.json()).toMatchObject({ code: 'query_timeout', limitSeconds: 1 });
    expect(response.headers['retry-after']).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('the reader (defence in depth)', () => {
  it('has ClickHouse refuse writes that got past the statement check: readonly holds for every query', async () => {
    for (const write of [
      'CREATE TABLE tidemark.sneaky (x UInt8) ENGINE = Memory',
      "INSERT INTO tidemark.events_quarantine (topic, error, row) SELECT 'x', 'y', 'z'",
      'DROP TABLE tidemark.events',
    ]) {
      const error = await reader.query(write).catch((e: unknown) => e);
      expect(error, write).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code, write).toBe('query_failed');
      expect((error as GatewayError).details, write).toMatchObject({ clickhouse: { code: 164 } });
    }
    expect(await clickhouse.query('EXISTS TABLE tidemark.sneaky')).toEqual([{ result: 0 }]);
    const [events] = await clickhouse.query<{ n: unknown }>('SELECT count() AS n FROM tidemark.events');
    expect(Number(events?.n)).toBe(11);
  });

  it("keeps its settings per statement: the writer's session stays writable", async () => {
    await reader.query('SELECT 1');
    const [row] = await clickhouse.query<{ readonly: string }>("SELECT getSetting('readonly') AS readonly");
    expect(Number(row?.readonly)).toBe(0);
  });
});

describe('ready queries', () => {
  const range = 'project=shop&from=2026-03-01&to=2026-03-03T00:00:00Z';

  it('lists them with their parameters, types and defaults', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/queries', headers: auth });
    expect(response.statusCode).toBe(200);
    const { queries } = response.json();
    expect(queries.map((q: { name: string }) => q.name)).toEqual([
      'top_paths',
      'event_counts',
      'daily_visitors',
    ]);
    expect(queries[0]).toEqual({
      name: 'top_paths',
      description: 'Page views and visitors per path, most viewed first.',
      params: [
        { name: 'project', type: 'String', required: true },
        { name: 'from', type: "DateTime64(3, 'UTC')", required: true },
        { name: 'to', type: "DateTime64(3, 'UTC')", required: true },
        { name: 'limit', type: 'UInt32', required: false, default: '10' },
      ],
    });
  });

  it('runs one with its parameters and answers the exact rows, as objects', async () => {
    const top = await app.inject({ method: 'GET', url: `/v1/queries/top_paths?${range}`, headers: auth });
    expect(top.statusCode).toBe(200);
    expect(top.json()).toMatchObject({
      name: 'top_paths',
      columns: [
        { name: 'path', type: 'String' },
        { name: 'pageviews', type: 'UInt64' },
        { name: 'visitors', type: 'UInt64' },
      ],
      rows: [
        { path: '/', pageviews: '3', visitors: '3' },
        { path: '/pricing', pageviews: '2', visitors: '2' },
        { path: '/docs', pageviews: '1', visitors: '1' },
      ],
    });
    const limited = await app.inject({
      method: 'GET',
      url: `/v1/queries/top_paths?${range}&limit=1`,
      headers: auth,
    });
    expect(limited.json().rows).toEqual([{ path: '/', pageviews: '3', visitors: '3' }]);

    const events = await app.inject({
      method: 'GET',
      url: `/v1/queries/event_counts?${range}&events=Signed%20Up&events=Order%20Completed`,
      headers: auth,
    });
    expect(events.json().rows).toEqual([
      { event: 'Order Completed', events: '1' },
      { event: 'Signed Up', events: '2' },
    ]);

    const daily = await app.inject({
      method: 'GET',
      url: `/v1/queries/daily_visitors?${range}`,
      headers: auth,
    });
    expect(daily.json().rows).toEqual([
      { day: '2026-03-01', visitors: '2' },
      { day: '2026-03-02', visitors: '2' },
    ]);
  });

  it('answers 400 invalid_param naming a missing, unknown or mistyped parameter, and 404 for an unknown query', async () => {
    const cases: [string, string, RegExp][] = [
      ['/v1/queries/top_paths?project=shop&from=2026-03-01', 'to', /needs the parameter to/],
      [`/v1/queries/top_paths?${range}&limt=5`, 'limt', /takes no parameter limt/],
      [`/v1/queries/top_paths?${range}&limit=-1`, 'limit', /limit must be an integer from 0/],
      ['/v1/queries/top_paths?project=shop&from=yesterday&to=2026-03-03', 'from', /from must be a time/],
      [`/v1/queries/top_paths?${range}&project=blog`, 'project', /project must be given once/],
    ];
    for (const [url, param, message] of cases) {
      const response = await app.inject({ method: 'GET', url, headers: auth });
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toMatchObject({ code: 'invalid_param', param });
      expect(response.json().message, url).toMatch(message);
    }
    const unknown = await app.inject({ method: 'GET', url: '/v1/queries/nope', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('unknown_query');
  });
});

describe('OpenAPI', () => {
  it('describes the read routes with the admin token as their security', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, method] of [
      ['/v1/sql', 'post'],
      ['/v1/queries', 'get'],
      ['/v1/queries/{name}', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.security, path).toEqual([{ adminToken: [] }]);
    }
    expect(doc.paths['/v1/sql'].post.responses['200']).toBeDefined();
    expect(Object.keys(doc.paths['/v1/sql'].post.requestBody.content)).toEqual([
      'application/json',
      'text/plain',
    ]);
  });
});
