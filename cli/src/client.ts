import type { Table } from './table.js';

/** What `POST /v1/sql` and `GET /v1/queries/:name` both come down to here: typed columns, rows in order. */
export interface QueryResult extends Table {
  /** Rows ClickHouse read to answer. */
  rowsRead: number;
  /** ClickHouse's own time for the query, in milliseconds. */
  elapsedMs: number;
}

/** One ready query as `GET /v1/queries` lists it. */
export interface ReadyQueryInfo {
  name: string;
  description?: string;
  params: { name: string; type: string; required: boolean; default?: string }[];
}

/** The gateway answered with one of its errors: `code` is the stable one from the gateway's errors.ts. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Anything else the error body carried, e.g. `{ clickhouse: { code, type } }`. */
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** No answer at all: nothing listening, a wrong host, a timeout. */
export class ConnectionError extends Error {
  readonly url: string;
  /** The system's code when there is one, e.g. `ECONNREFUSED`. */
  readonly reason: string | undefined;

  constructor(url: string, reason: string | undefined, options?: ErrorOptions) {
    super(`cannot reach Tidemark at ${url}${reason ? ` (${reason})` : ''}`, options);
    this.name = 'ConnectionError';
    this.url = url;
    this.reason = reason;
  }
}

export interface ReadApi {
  /** Runs one statement with `POST /v1/sql`. */
  sql(statement: string): Promise<QueryResult>;
  /** Runs a ready query with `GET /v1/queries/:name`; a name given twice is an array parameter. */
  query(name: string, params: readonly (readonly [string, string])[]): Promise<QueryResult>;
  /** The ready queries and their parameters. */
  list(): Promise<ReadyQueryInfo[]>;
}

export interface ReadApiOptions {
  /** The gateway's base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** TIDEMARK_ADMIN_TOKEN of that gateway. */
  token: string;
  /** Gives up on an answer after this long. Default 120 s: the gateway's own limit comes first. */
  timeoutMs?: number;
  /** Swappable for tests. */
  fetch?: typeof fetch;
}

/** A client of the gateway's read API (README "Reading the data: the read API"). */
export function createReadApi(opts: ReadApiOptions): ReadApi {
  const base = opts.url.replace(/\/+$/, '');
  const doFetch = opts.fetch ?? fetch;

  async function call(path: string, init: RequestInit = {}): Promise<unknown> {
    const url = `${base}${path}`;
    let response: Response;
    try {
      response = await doFetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${opts.token}` },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
      });
    } catch (error) {
      // undici reports a refused connection as TypeError('fetch failed') with the system error as its cause.
      const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
      const reason =
        typeof cause?.code === 'string'
          ? cause.code
          : error instanceof DOMException && error.name === 'TimeoutError'
            ? 'timed out'
            : typeof cause?.message === 'string'
              ? cause.message
              : undefined;
      throw new ConnectionError(base, reason, { cause: error });
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ApiError(
        response.status,
        'bad_response',
        `expected JSON from ${url}, got HTTP ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    if (!response.ok) {
      const { code, message, ...details } = body as { code?: unknown; message?: unknown };
      throw new ApiError(
        response.status,
        typeof code === 'string' ? code : `http_${response.status}`,
        typeof message === 'string' ? message : `HTTP ${response.status}`,
        details,
      );
    }
    return body;
  }

  return {
    async sql(statement) {
      return (await call('/v1/sql', {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: statement,
      })) as QueryResult;
    },
    async query(name, params) {
      const search = new URLSearchParams(params.map(([k, v]): [string, string] => [k, v]));
      const path = `/v1/queries/${encodeURIComponent(name)}${params.length ? `?${search}` : ''}`;
      const answer = (await call(path)) as Omit<QueryResult, 'rows'> & { rows: Record<string, unknown>[] };
      // A ready query answers objects keyed by column; the formatters take rows in column order.
      return {
        ...answer,
        rows: answer.rows.map((row) => answer.columns.map((c) => row[c.name] ?? null)),
      };
    },
    async list() {
      return ((await call('/v1/queries')) as { queries: ReadyQueryInfo[] }).queries;
    },
  };
}
