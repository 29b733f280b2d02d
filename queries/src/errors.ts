/** Every failure of the query library, by stable code. Callers branch on `code`, never on the message. */
export type QueryErrorCode =
  /** No query of that name in the library. */
  | 'unknown_query'
  /** A parameter the query needs was not given (and has no default). */
  | 'missing_param'
  /** A parameter was given that the query does not use: most often a typo, so it is refused, not ignored. */
  | 'unknown_param'
  /** A parameter's value does not fit its ClickHouse type or its allowed values. */
  | 'invalid_param'
  /** A query file could not be read or uses a placeholder type this library cannot bind. */
  | 'query_file_invalid';

const statusByCode: Record<QueryErrorCode, number> = {
  unknown_query: 404,
  missing_param: 400,
  unknown_param: 400,
  invalid_param: 400,
  query_file_invalid: 500,
};

/** An error as data: a stable `code`, an HTTP status for the read API, and `retriable` (never, here). */
export class QueryError extends Error {
  readonly code: QueryErrorCode;
  readonly status: number;
  readonly retriable = false;

  constructor(code: QueryErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'QueryError';
    this.code = code;
    this.status = statusByCode[code];
  }
}
