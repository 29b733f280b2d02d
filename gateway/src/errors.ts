/**
 * Every error the gateway can answer with, defined once (DESIGN §2 "Responses").
 *
 * Clients and logs see the stable `code`; the SDK decides to retry from the status alone (429/5xx),
 * so `retriable` here only documents that decision and drives the `Retry-After` header.
 */
export type ErrorCode =
  | 'invalid_body'
  | 'invalid_request'
  | 'request_timeout'
  | 'headers_too_large'
  | 'uri_too_long'
  | 'no_valid_events'
  | 'invalid_write_key'
  | 'origin_not_allowed'
  | 'not_found'
  | 'payload_too_large'
  | 'too_many_events'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'transport_unavailable'
  | 'overloaded'
  | 'not_ready'
  | 'internal'
  // The read API (routes/read.ts).
  | 'read_api_disabled'
  | 'invalid_admin_token'
  | 'invalid_query'
  | 'query_failed'
  | 'result_too_large'
  | 'unknown_query'
  | 'invalid_param'
  | 'query_timeout'
  | 'store_unavailable'
  // Regulations and people (routes/regulations.ts).
  | 'regulations_disabled'
  | 'invalid_regulation'
  | 'regulation_not_found';

interface ErrorSpec {
  status: number;
  retriable: boolean;
  /** Shown to clients. For 5xx this is the only text they ever get: internals stay in the log. */
  message: string;
}

const ERRORS: Record<ErrorCode, ErrorSpec> = {
  invalid_body: { status: 400, retriable: false, message: 'The request body is not a usable batch.' },
  // Answered by the HTTP layer before a route sees the request (plugins/errorHandler.ts clientErrorHandler).
  invalid_request: { status: 400, retriable: false, message: 'The request is not valid HTTP/1.1.' },
  request_timeout: {
    status: 408,
    retriable: false,
    message: 'The request was not received in time (headers within 10 s, the whole request within 30 s).',
  },
  headers_too_large: {
    status: 431,
    retriable: false,
    message: 'The request headers are larger than 16 KiB.',
  },
  uri_too_long: {
    status: 414,
    retriable: false,
    message: 'A segment of the URL path is longer than 100 characters.',
  },
  no_valid_events: { status: 400, retriable: false, message: 'No event in the batch is valid.' },
  invalid_write_key: { status: 401, retriable: false, message: 'Missing or unknown write key.' },
  origin_not_allowed: { status: 403, retriable: false, message: 'Origin not allowed for this write key.' },
  not_found: { status: 404, retriable: false, message: 'Not found.' },
  payload_too_large: { status: 413, retriable: false, message: 'The request body is too large.' },
  // The message names the gateway's cap (ingest.ts): a client can split its batch and resend the parts.
  too_many_events: { status: 413, retriable: false, message: 'The batch holds too many events.' },
  unsupported_media_type: { status: 415, retriable: false, message: 'Unsupported content type or encoding.' },
  rate_limited: { status: 429, retriable: true, message: 'Too many requests; retry after the given delay.' },
  overloaded: {
    status: 503,
    retriable: true,
    message: 'The gateway is shedding load; retry after the given delay.',
  },
  not_ready: { status: 503, retriable: true, message: 'The event store is not reachable.' },
  transport_unavailable: {
    status: 503,
    retriable: true,
    message: 'Events could not be stored right now; retry later.',
  },
  internal: { status: 500, retriable: true, message: 'Internal error.' },
  read_api_disabled: {
    status: 404,
    retriable: false,
    message: 'The read API is off on this gateway: set TIDEMARK_ADMIN_TOKEN to turn it on.',
  },
  invalid_admin_token: {
    status: 401,
    retriable: false,
    message: 'Missing or wrong admin token: send Authorization: Bearer <TIDEMARK_ADMIN_TOKEN>.',
  },
  invalid_query: { status: 400, retriable: false, message: 'The statement is not allowed.' },
  query_failed: { status: 400, retriable: false, message: 'ClickHouse refused the query.' },
  result_too_large: { status: 400, retriable: false, message: 'The query hit a row limit.' },
  regulations_disabled: {
    status: 404,
    retriable: false,
    message:
      'Regulations are off on this gateway: they need TIDEMARK_ADMIN_TOKEN, and in distributed mode CLICKHOUSE_URL.',
  },
  invalid_regulation: { status: 400, retriable: false, message: 'The regulation request is not valid.' },
  regulation_not_found: { status: 404, retriable: false, message: 'No regulation has that id.' },
  unknown_query: { status: 404, retriable: false, message: 'No ready query of that name.' },
  invalid_param: { status: 400, retriable: false, message: 'A query parameter is missing or invalid.' },
  // Not retriable: the same query would run out of time again. 504 (not 408): the client sent its request in
  // time, it is the store behind the gateway that did not answer within the limit.
  query_timeout: {
    status: 504,
    retriable: false,
    message: 'The query ran longer than the time limit (TIDEMARK_READ_MAX_EXECUTION_SECONDS); narrow it.',
  },
  store_unavailable: { status: 503, retriable: true, message: 'ClickHouse is not reachable for reads.' },
};

/** Seconds a client should wait before retrying a retriable answer (sent as `Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** An error that maps to one HTTP answer. Check with `instanceof`, branch on `code`. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  /** Extra fields merged into the JSON body (e.g. the `rejected` list of a batch with no valid event). */
  readonly details: Record<string, unknown> | undefined;
  /** `Retry-After` for this answer when it is retriable; RETRY_AFTER_SECONDS unless the cause knows better. */
  readonly retryAfterSeconds: number;

  constructor(
    code: ErrorCode,
    opts: {
      message?: string;
      cause?: unknown;
      details?: Record<string, unknown>;
      retryAfterSeconds?: number;
    } = {},
  ) {
    const spec = ERRORS[code];
    // A custom message is only kept for client errors: a 5xx answer must not leak what went wrong inside.
    super(spec.status < 500 && opts.message ? opts.message : spec.message, { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = spec.status;
    this.retriable = spec.retriable;
    this.details = opts.details;
    this.retryAfterSeconds = Math.max(1, Math.ceil(opts.retryAfterSeconds ?? RETRY_AFTER_SECONDS));
  }

  /** The JSON body sent to the client. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** Invalid configuration found at start-up; `problems` lists every bad setting at once. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid Tidemark gateway configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
