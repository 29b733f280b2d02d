import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { build } from '../app.js';
import { loadConfig } from '../config.js';
import type { Reader } from '../read/reader.js';

// Every route the gateway serves is public by design (ingestion, probes, the dashboard's static files) or needs
// the admin token. This walks the routes Fastify actually has, so a route added later without the token check
// fails here instead of shipping open.
const TOKEN = 'route-walk-admin-token-0001';

/** Served without a token: what browsers and server libraries send, what probes and scrapers read. */
const PUBLIC = new Set([
  'POST /v1/batch',
  'POST /v1/track',
  'POST /v1/page',
  'POST /v1/screen',
  'POST /v1/identify',
  'POST /v1/group',
  'POST /v1/alias',
  // The same calls under the paths analytics.js posts to, its settings (the API host and the write key the page
  // already has) and its reports about itself (counted, never stored nor read back).
  'POST /v1/b',
  'POST /v1/t',
  'POST /v1/p',
  'POST /v1/s',
  'POST /v1/i',
  'POST /v1/g',
  'POST /v1/a',
  'GET /v1/projects/:writeKey/settings',
  'POST /v1/m',
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /openapi.json',
  // CORS preflights: answered by @fastify/cors for every path, carry no credentials and return no data.
  'OPTIONS *',
  // The dashboard's page, script and style: static files that hold no data; the page asks for the token and
  // reads everything through /v1/sql and /v1/live, which require it.
  'GET /dashboard',
  'GET /dashboard/',
  'GET /dashboard/:file',
]);

let app: FastifyInstance;
const queries: string[] = [];

function appWith(extra?: (app: FastifyInstance) => void): FastifyInstance {
  const config = loadConfig({
    TIDEMARK_MODE: 'distributed',
    KAFKA_BROKERS: '127.0.0.1:9',
    TIDEMARK_WRITE_KEYS: 'key-shop:shop',
    TIDEMARK_LOG_LEVEL: 'silent',
    TIDEMARK_ADMIN_TOKEN: TOKEN,
    TIDEMARK_READ_CLICKHOUSE_URL: 'http://127.0.0.1:9',
  });
  const transport = {
    deliver: async () => {},
    deadLetter: async () => {},
    ready: async () => {},
    close: async () => {},
  };
  // Records what reached the store: nothing may, without the token.
  const reader: Reader = {
    backend: 'server',
    query: async (sql) => {
      queries.push(sql);
      return { columns: [], rows: [], rowsRead: 0, elapsedMs: 0 };
    },
    statement: async (sql) => {
      queries.push(sql);
      return { columns: [], rows: [], rowsRead: 0, elapsedMs: 0 };
    },
    close: async () => {},
  };
  const built = build(config, { transport, reader });
  extra?.(built);
  return built;
}

/** Every `METHOD path` Fastify routes, read from printRoutes (HEAD twins of GET routes left out). */
function routesOf(instance: FastifyInstance): string[] {
  const tree = instance.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    const path = `${stack.at(-1) ?? ''}${match[2]}`;
    stack.push(path);
    for (const method of (match[3] ?? '').split(', ').filter((m) => m !== '' && m !== 'HEAD')) {
      routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

/** The routes that answer a request with no token, or with a wrong one, by anything but 401 invalid_admin_token. */
async function openAdminRoutes(instance: FastifyInstance): Promise<string[]> {
  const open: string[] = [];
  for (const route of routesOf(instance)) {
    if (PUBLIC.has(route)) continue;
    const [method, path] = route.split(' ') as [string, string];
    const url = path.replaceAll(/:(\w+)/g, 'x');
    for (const authorization of [undefined, 'Bearer wrong-token-00000000000', `Basic ${btoa(`${TOKEN}:`)}`]) {
      const response = await instance.inject({
        method: method as 'GET',
        url,
        headers: { 'content-type': 'text/plain', ...(authorization ? { authorization } : {}) },
        ...(method === 'POST' ? { payload: 'SELECT 1' } : {}),
      });
      if (response.statusCode !== 401 || response.json().code !== 'invalid_admin_token') {
        open.push(`${route} (${authorization ?? 'no token'}): ${response.statusCode}`);
      }
    }
  }
  return open;
}

beforeAll(async () => {
  app = appWith();
  await app.ready();
});

afterAll(async () => {
  await app?.close();
});

it('finds the routes it must check: the read API, the live feed, and the public ones', () => {
  const routes = routesOf(app);
  expect(routes).toEqual(
    expect.arrayContaining([
      'POST /v1/sql',
      'GET /v1/queries',
      'GET /v1/queries/:name',
      'GET /v1/live',
      'POST /v1/batch',
    ]),
  );
  // Every public route listed above exists: the list does not excuse routes that are gone.
  for (const route of PUBLIC) expect(routes).toContain(route);
});

it('refuses every route that is not public without the admin token, or with a wrong one', async () => {
  expect(await openAdminRoutes(app)).toEqual([]);
  expect(queries).toEqual([]);
  // With the token the same walk gets through (the check above is not passing because every route is broken).
  const withToken = await app.inject({
    method: 'POST',
    url: '/v1/sql',
    headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` },
    payload: 'SELECT 1',
  });
  expect(withToken.statusCode).toBe(200);
});

it('catches a route added without the token check', async () => {
  const leaky = appWith((instance) => {
    instance.get('/v1/admin/export', async () => ({ everything: true }));
  });
  await leaky.ready();
  expect(await openAdminRoutes(leaky)).toEqual([
    'GET /v1/admin/export (no token): 200',
    'GET /v1/admin/export (Bearer wrong-token-00000000000): 200',
    `GET /v1/admin/export (Basic ${btoa(`${TOKEN}:`)}): 200`,
  ]);
  await leaky.close();
});
