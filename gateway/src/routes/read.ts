import type { FastifyPluginAsync } from 'fastify';
import { hasAdminToken } from '../auth.js';
import { GatewayError } from '../errors.js';
import type { Reader } from '../read/reader.js';
import { bindReadyParams, checkReadyQueries, type ReadyQuery, type UrlValues } from '../read/readyQueries.js';
import { errorResponse } from './schemas.js';

export interface ReadRoutesOptions {
  /** TIDEMARK_ADMIN_TOKEN; undefined: every route answers 404 `read_api_disabled`. */
  adminToken: string | undefined;
  /** Required when `adminToken` is set. */
  reader: Reader | undefined;
  readyQueries: readonly ReadyQuery[];
}

const column = {
  type: 'object',
  required: ['name', 'type'],
  properties: { name: { type: 'string' }, type: { type: 'string', description: 'ClickHouse type' } },
} as const;

const stats = {
  rowsRead: { type: 'integer', description: 'Rows ClickHouse read to answer.' },
  elapsedMs: { type: 'number', description: "ClickHouse's time for the query, in milliseconds." },
} as const;

const errors = { '4xx': errorResponse, '5xx': errorResponse } as const;
const security = [{ adminToken: [] }];

const sqlBody = {
  description:
    'application/json `{ "query", "params" }`, or the statement alone as text/plain. One SELECT, WITH, SHOW, ' +
    'DESCRIBE, EXPLAIN or EXISTS statement; `{name:Type}` placeholders are bound from `params`.',
  anyOf: [
    {
      type: 'object',
      required: ['query'],
      additionalProperties: false,
      properties: {
        query: { type: 'string', minLength: 1 },
        params: { type: 'object', additionalProperties: true },
      },
    },
    { type: 'string', minLength: 1 },
  ],
} as const;

/**
 * The read API: `POST /v1/sql` for ad-hoc statements and `GET /v1/queries[/:name]` for the ready queries, behind
 * the admin token. Every query runs read-only and within the read limits (read/reader.ts); ad-hoc statements
 * pass the statement check first (read/statement.ts).
 */
export const readRoutes: FastifyPluginAsync<ReadRoutesOptions> = async (app, opts) => {
  const { adminToken, reader } = opts;
  if (adminToken !== undefined && reader === undefined) {
    throw new Error('the read API needs a reader when TIDEMARK_ADMIN_TOKEN is set');
  }
  const queries = checkReadyQueries(opts.readyQueries);
  // The onRequest hook below lets no request through without a token, and with a token there is a reader.
  const run = (sql: string, params?: Record<string, unknown>) => {
    if (reader === undefined) throw new GatewayError('read_api_disabled');
    return reader.query(sql, params);
  };

  // Before the body is read: an unauthenticated request costs no parsing.
  app.addHook('onRequest', async (request, reply) => {
    if (adminToken === undefined) throw new GatewayError('read_api_disabled');
    if (!hasAdminToken(request, adminToken)) {
      reply.header('www-authenticate', 'Bearer realm="tidemark-read"');
      throw new GatewayError('invalid_admin_token');
    }
  });
  // Here text/plain is the statement itself; the ingestion routes read text/plain as JSON (beacons), and this
  // parser stays inside this plugin.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post<{ Body: string | { query: string; params?: Record<string, unknown> } }>(
    '/v1/sql',
    {
      schema: {
        summary: 'Run one read-only SQL statement',
        description:
          'Runs with readonly = 2, max_execution_time and max_result_rows (result_overflow_mode = throw). ' +
          'Statements that write, read outside the tidemark database (file(), filesystem(), url(), remote(), s3(), system.*), ' +
          'carry a FORMAT clause, or set limit settings are refused with 400 invalid_query.',
        tags: ['read'],
        security,
        consumes: ['application/json', 'text/plain'],
        body: sqlBody,
        response: {
          200: {
            type: 'object',
            required: ['columns', 'rows', 'rowsRead', 'elapsedMs'],
            properties: {
              columns: { type: 'array', items: column },
              rows: {
                type: 'array',
                description: 'One array per row, in column order; 64-bit integers as strings.',
                items: { type: 'array', items: {} },
              },
              ...stats,
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const body = request.body;
      const sql = typeof body === 'string' ? body : body.query;
      if (reader === undefined) throw new GatewayError('read_api_disabled');
      return reader.statement(sql, typeof body === 'string' ? undefined : body.params);
    },
  );

  app.get(
    '/v1/queries',
    {
      schema: {
        summary: 'List the ready queries and their parameters',
        tags: ['read'],
        security,
        response: {
          200: {
            type: 'object',
            required: ['queries'],
            properties: {
              queries: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name', 'params'],
                  properties: {
                    name: { type: 'string' },
                    description: { type: 'string' },
                    params: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['name', 'type', 'required'],
                        properties: {
                          name: { type: 'string' },
                          type: { type: 'string' },
                          required: { type: 'boolean' },
                          default: { type: 'string' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async () => ({
      queries: [...queries.values()].map((q) => ({
        name: q.name,
        ...(q.description ? { description: q.description } : {}),
        params: q.params.map((p) => ({
          name: p.name,
          type: p.type,
          required: p.default === undefined,
          ...(p.default === undefined ? {} : { default: p.default }),
        })),
      })),
    }),
  );

  app.get<{ Params: { name: string }; Querystring: UrlValues }>(
    '/v1/queries/:name',
    {
      schema: {
        summary: 'Run a ready query',
        description:
          'Parameters come from the query string, each read as its ClickHouse type (GET /v1/queries lists them); ' +
          'repeat a name for an Array parameter. Times: `YYYY-MM-DD hh:mm:ss[.sss]` (UTC) or ISO 8601.',
        tags: ['read'],
        security,
        params: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        querystring: { type: 'object', additionalProperties: true },
        response: {
          200: {
            type: 'object',
            required: ['name', 'columns', 'rows', 'rowsRead', 'elapsedMs'],
            properties: {
              name: { type: 'string' },
              columns: { type: 'array', items: column },
              rows: {
                type: 'array',
                description: 'One object per row, keyed by column name.',
                items: { type: 'object', additionalProperties: true },
              },
              ...stats,
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const query = queries.get(request.params.name);
      if (query === undefined) {
        throw new GatewayError('unknown_query', {
          message: `No ready query named ${JSON.stringify(request.params.name)}; GET /v1/queries lists them.`,
        });
      }
      const params = bindReadyParams(query, request.query);
      const sql = query.unfilteredSql !== undefined && params.filter === '' ? query.unfilteredSql : query.sql;
      const result = await run(sql, params);
      const names = result.columns.map((c) => c.name);
      return {
        name: query.name,
        columns: result.columns,
        rows: result.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))),
        rowsRead: result.rowsRead,
        elapsedMs: result.elapsedMs,
      };
    },
  );
};
