// A ClickHouse HTTP endpoint over chDB, for machines without a ClickHouse server (DESIGN §7).
//
// libchdb binds one data directory per process, so several sink processes cannot share a chDB directory. This
// process owns the directory and serves the part of the ClickHouse HTTP interface that @clickhouse/client
// (Node, server mode) uses, so `createClickHouse({ url })` talks to it exactly as to a real server:
//
//   npx tsx scripts/clickhouse-http.ts --data .data/chdb-shared --port 8123
//
// Protocol reference: https://clickhouse.com/docs/interfaces/http. The client side read to build this is
// @clickhouse/client 1.23.1, dist/connection/node_base_connection.js and socket_pool.js.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type ChdbAccess, chdbAccessArgs } from '@tidemark/store';

/** Where and how the endpoint listens. */
export type ClickHouseHttpOptions = {
  /** chDB data directory this process binds (created if missing). */
  dataDir: string;
  /** TCP port; 0 picks a free one. Default 8123. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Required user name when `password` is set. Default `default`. */
  user?: string;
  /** When set, every query must authenticate with `user` and this password. Unset: any credentials pass. */
  password?: string;
  /**
   * The grants every request runs with (chDB has one user per process): `writer` (default) as a sink's user,
   * `reader` as the read-only user of clickhouse/initdb/001_reader.sql, `unrestricted` as chDB's own default.
   */
  access?: ChdbAccess;
};

/** A running endpoint. */
export type ClickHouseHttp = {
  /** Base URL for `createClient({ url })`, e.g. `http://127.0.0.1:8123`. */
  url: string;
  /** Stops accepting requests, waits for the running query, and releases the chDB directory. */
  close(): Promise<void>;
};

// The slice of chdb's Session this file uses (chdb is the sink's dependency, so its types are not resolvable
// from here).
type ChdbResult = { elapsed: number; rowsRead: number; bytesRead: number; bytes(): Uint8Array };
type ChdbSession = {
  queryAsync(sql: string, opts?: { format?: string }): Promise<ChdbResult>;
  close(): void;
};
type ChdbModule = {
  Session: new (path: string, opts?: { connectionArgs?: string[] }) => ChdbSession;
  drainPending(): Promise<void>;
  version(): { libchdb: string };
};

function loadChdb(): ChdbModule {
  // Resolved from the sink package, which owns the chdb dependency (one copy of the native library).
  const require = createRequire(new URL('../sink/package.json', import.meta.url));
  return require('chdb') as ChdbModule;
}

/** URL parameters that belong to the HTTP layer, not to the engine's settings. */
const httpParameters = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'role',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_send_progress_interval_ms',
  'http_native_compression_disable_checksumming_on_decompress',
  'http_response_compression_method',
]);

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const trailingFormat = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i;

const contentTypes: Record<string, string> = {
  TabSeparated: 'text/tab-separated-values; charset=UTF-8',
  TSV: 'text/tab-separated-values; charset=UTF-8',
  CSV: 'text/csv; charset=UTF-8; header=absent',
  CSVWithNames: 'text/csv; charset=UTF-8; header=present',
  JSON: 'application/json; charset=UTF-8',
  JSONCompact: 'application/json; charset=UTF-8',
  JSONEachRow: 'application/x-ndjson; charset=UTF-8',
  JSONCompactEachRow: 'application/x-ndjson; charset=UTF-8',
  JSONStringsEachRow: 'application/x-ndjson; charset=UTF-8',
};

/**
 * The HTTP status ClickHouse answers an exception code with (src/Server/HTTPHandler.cpp,
 * exceptionCodeToHTTPStatus). The client only needs "not 2xx" plus X-ClickHouse-Exception-Code; the status
 * is kept close to the server's for anyone reading with curl.
 */
function httpStatusOf(code: number): number {
  if ([192, 193, 194, 516].includes(code)) return 401;
  if ([164, 291, 497].includes(code)) return 403;
  if ([46, 47, 50, 60, 63, 73, 81, 115].includes(code)) return 404;
  if (code === 159) return 408;
  if ([202, 203].includes(code)) return 503;
  const badRequest = [
    6, 26, 27, 36, 38, 41, 53, 62, 69, 70, 72, 117, 321, 376, 675, 34, 35, 42, 43, 44, 48, 57, 80, 179, 457,
  ];
  return badRequest.includes(code) ? 400 : 500;
}

/** An error already in ClickHouse's wire shape. */
class ClickHouseException extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Turns whatever chDB (or this file) threw into ClickHouse's `Code: N. DB::Exception: … (TYPE)` text. */
function toException(err: unknown): ClickHouseException {
  if (err instanceof ClickHouseException) return err;
  const message = err instanceof Error ? err.message : String(err);
  // chDB's errors carry the engine's own text and code (ChdbError.clickhouseCode); keep both verbatim so the
  // client's parseError yields the same code and type as the in-process backend.
  const code = (err as { clickhouseCode?: unknown }).clickhouseCode;
  const parsed = /^Code: (\d+)\. /.exec(message);
  if (parsed) return new ClickHouseException(Number(parsed[1]), message);
  if (typeof code === 'number')
    return new ClickHouseException(code, `Code: ${code}. DB::Exception: ${message}`);
  return new ClickHouseException(1001, `Code: 1001. DB::Exception: ${message}. (STD_EXCEPTION)`);
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

type Credentials = { user: string; password: string };

function credentialsOf(req: IncomingMessage, params: URLSearchParams): Credentials {
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0
      ? { user: decoded, password: '' }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    user: header('x-clickhouse-user') ?? params.get('user') ?? 'default',
    password: header('x-clickhouse-key') ?? params.get('password') ?? '',
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const encoding = req.headers['content-encoding'];
  if (encoding === undefined || encoding === 'identity') return body;
  if (encoding === 'gzip') return gunzipSync(body);
  throw new ClickHouseException(
    1001,
    `Code: 1001. DB::Exception: Unsupported Content-Encoding ${encoding}; this endpoint reads gzip only. (STD_EXCEPTION)`,
  );
}

/** One statement to run, with what the URL said about it. */
type Statement = {
  sql: string;
  /** The INSERT's data was empty: ClickHouse inserts nothing and succeeds, chDB would refuse. */
  emptyInsert: boolean;
  /** Rows in the INSERT body, for X-ClickHouse-Summary (chDB reports none for inserts). */
  insertedRows: number;
  format: string;
  settings: [string, string][];
  queryParams: [string, string][];
  database: string | undefined;
};

function toStatement(params: URLSearchParams, body: string): Statement {
  const urlQuery = params.get('query') ?? '';
  // As in ClickHouse: the query may start in the URL and continue in the body (an INSERT's data).
  const sql = urlQuery && body ? `${urlQuery}\n${body}` : urlQuery || body;
  if (sql.trim() === '') {
    throw new ClickHouseException(62, 'Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)');
  }
  const isInsert = /^\s*INSERT\b/i.test(urlQuery || sql);
  const data = urlQuery ? body : '';
  const settings: [string, string][] = [];
  const queryParams: [string, string][] = [];
  for (const [key, value] of params) {
    if (key.startsWith('param_')) {
      const name = key.slice('param_'.length);
      if (!identifier.test(name)) throw badName('query parameter', name);
      queryParams.push([name, value]);
    } else if (!httpParameters.has(key)) {
      if (!identifier.test(key)) throw badName('setting', key);
      settings.push([key, value]);
    }
  }
  const explicitFormat = trailingFormat.exec(isInsert ? '' : sql)?.[1];
  return {
    sql,
    emptyInsert: isInsert && urlQuery !== '' && data.trim() === '',
    insertedRows: isInsert ? data.split('\n').filter((line) => line.trim() !== '').length : 0,
    format: explicitFormat ?? params.get('default_format') ?? 'TabSeparated',
    settings,
    queryParams,
    database: params.get('database') ?? undefined,
  };
}

function badName(what: string, name: string): ClickHouseException {
  return new ClickHouseException(
    115,
    `Code: 115. DB::Exception: Unknown ${what}: ${JSON.stringify(name)}. (UNKNOWN_SETTING)`,
  );
}

/** Starts the endpoint on one chDB data directory; resolves once it accepts connections. */
export async function startClickHouseHttp(options: ClickHouseHttpOptions): Promise<ClickHouseHttp> {
  const chdb = loadChdb();
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const session = new chdb.Session(dataDir, {
    connectionArgs: chdbAccessArgs(dataDir, options.access ?? 'writer'),
  });
  const requiredUser = options.user ?? 'default';
  const displayName = hostname();
  const timezone = Buffer.from((await session.queryAsync('SELECT timezone()', { format: 'TSV' })).bytes())
    .toString('utf8')
    .trim();

  // Every statement runs alone. chDB runs the queries of one connection one after another anyway (measured:
  // eight concurrent queryAsync calls finish in a staircase, not together), and URL settings and query
  // parameters are applied with session-wide SETs that must not leak into a neighbour's statement.
  let queue: Promise<unknown> = Promise.resolve();
  function serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  }

  async function execute(statement: Statement): Promise<{ result: ChdbResult | undefined; ms: number }> {
    const started = performance.now();
    if (statement.emptyInsert) return { result: undefined, ms: 0 };
    return serialized(async () => {
      const cleanup: string[] = [];
      try {
        for (const [name, value] of statement.queryParams) {
          // SET param_x takes the value in the same escaped text form the server reads from param_x (tabs as
          // \t, quotes as \'), which queryBind would take literally.
          await session.queryAsync(`SET param_${name} = ${quoteLiteral(value)}`);
        }
        for (const [name, value] of statement.settings) {
          await session.queryAsync(`SET ${name} = ${quoteLiteral(value)}`);
          cleanup.push(`SET ${name} = DEFAULT`);
        }
        if (statement.database !== undefined && statement.database !== 'default') {
          if (!identifier.test(statement.database)) throw badName('database', statement.database);
          await session.queryAsync(`USE ${statement.database}`);
          cleanup.push('USE default');
        }
        const result = await session.queryAsync(statement.sql, { format: statement.format });
        return { result, ms: performance.now() - started };
      } finally {
        for (const sql of cleanup) await session.queryAsync(sql).catch(() => {});
      }
    });
  }

  function send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer | string,
    compress: boolean,
  ): void {
    let payload = typeof body === 'string' ? Buffer.from(body) : body;
    const out: Record<string, string> = { ...headers };
    if (compress && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && payload.length > 0) {
      payload = gzipSync(payload);
      out['Content-Encoding'] = 'gzip';
    }
    out['Content-Length'] = String(payload.length);
    res.writeHead(status, out).end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const params = url.searchParams;
    const queryId = params.get('query_id') || randomUUID();
    const compress = params.get('enable_http_compression') === '1';
    const common: Record<string, string> = {
      'X-ClickHouse-Server-Display-Name': displayName,
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': timezone,
    };
    const sessionId = params.get('session_id');
    // One chDB session serves every client: a session_id is accepted, not isolated (see the report's limits).
    if (sessionId) common['X-ClickHouse-Session-Id'] = sessionId;
    try {
      if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
        send(req, res, 200, { 'Content-Type': 'text/html; charset=UTF-8' }, 'Ok.\n', false);
        return;
      }
      if (url.pathname !== '/') {
        throw new ClickHouseException(
          1001,
          `Code: 1001. DB::Exception: There is no handle ${url.pathname}. (STD_EXCEPTION)`,
        );
      }
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
        throw new ClickHouseException(
          1001,
          'Code: 1001. DB::Exception: multipart/form-data bodies (use_multipart_params) are not supported by this endpoint. (STD_EXCEPTION)',
        );
      }
      const body = (await readBody(req)).toString('utf8');
      if (req.method === 'GET' && !params.has('query')) {
        send(req, res, 200, { 'Content-Type': 'text/html; charset=UTF-8' }, 'Ok.\n', false);
        return;
      }
      if (options.password !== undefined) {
        const given = credentialsOf(req, params);
        if (given.user !== requiredUser || given.password !== options.password) {
          throw new ClickHouseException(
            516,
            `Code: 516. DB::Exception: ${given.user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
          );
        }
      }
      const statement = toStatement(params, body);
      const { result, ms } = await execute(statement);
      const output = result ? Buffer.from(result.bytes()) : Buffer.alloc(0);
      const read = String(result?.rowsRead ?? 0);
      const summary = {
        read_rows: read,
        read_bytes: String(result?.bytesRead ?? 0),
        written_rows: String(statement.insertedRows),
        written_bytes: statement.insertedRows > 0 ? String(Buffer.byteLength(body)) : '0',
        total_rows_to_read: '0',
        result_rows: statement.insertedRows > 0 ? '0' : read,
        result_bytes: String(output.length),
        elapsed_ns: String(Math.round(ms * 1e6)),
      };
      send(
        req,
        res,
        200,
        {
          ...common,
          'Content-Type': contentTypes[statement.format] ?? 'text/plain; charset=UTF-8',
          'X-ClickHouse-Format': statement.format,
          'X-ClickHouse-Summary': JSON.stringify(summary),
        },
        output,
        compress,
      );
    } catch (err) {
      const exception = toException(err);
      send(
        req,
        res,
        httpStatusOf(exception.code),
        {
          ...common,
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(exception.code),
        },
        `${exception.message}\n`,
        compress,
      );
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only a failed write lands here (the socket is gone); there is nobody left to answer.
      res.destroy(err instanceof Error ? err : undefined);
    });
  });
  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(options.port ?? 8123, options.host ?? '127.0.0.1', () => resolveListen());
    });
  } catch (err) {
    session.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        server.closeIdleConnections();
        // Let the statement that is running finish, then drop the keep-alive sockets and the directory.
        await queue;
        server.closeAllConnections();
        await stopped;
        session.close();
        await chdb.drainPending();
      })();
      return closing;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      port: { type: 'string', default: '8123' },
      host: { type: 'string', default: '127.0.0.1' },
      access: { type: 'string', default: 'writer' },
    },
  });
  if (!values.data) {
    console.error(
      'usage: tsx scripts/clickhouse-http.ts --data DIR [--port N] [--host ADDR] [--access writer|reader|unrestricted]',
    );
    process.exitCode = 2;
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be a TCP port, got ${values.port}`);
    process.exitCode = 2;
    return;
  }
  const access = values.access as ChdbAccess;
  if (!['writer', 'reader', 'unrestricted'].includes(access)) {
    console.error(`--access must be writer, reader or unrestricted, got ${values.access}`);
    process.exitCode = 2;
    return;
  }
  const endpoint = await startClickHouseHttp({
    dataDir: values.data,
    port,
    host: values.host,
    access,
    user: process.env.CLICKHOUSE_HTTP_USER,
    password: process.env.CLICKHOUSE_HTTP_PASSWORD,
  });
  console.log(`listening ${endpoint.url}`);
  const stop = () => {
    endpoint.close().catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main().catch((err: unknown) => {
    // chDB has already printed the engine's reason (e.g. another process holds the directory's status lock).
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
