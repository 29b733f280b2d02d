/** Every failure of the query library, by stable code. Callers branch on `code`, never on the message. */
export type QueryErrorCode =
  /** No query of that name in the library. */
  | 'UNKNOWN_QUERY'
  /** A parameter the query needs was not given (and has no default). */
  | 'MISSING_PARAM'
  /** A parameter was given that the query does not use: most often a typo, so it is refused, not ignored. */
  | 'UNKNOWN_PARAM'
  /** A parameter's value does not fit its ClickHouse type or its allowed values. */
  | 'INVALID_PARAM'
  /** A query file could not be read or uses a placeholder type this library cannot bind. */
  | 'QUERY_FILE_INVALID';

const statusByCode: Record<QueryErrorCode, number> = {
  UNKNOWN_QUERY: 404,
  MISSING_PARAM: 400,
  UNKNOWN_PARAM: 400,
  INVALID_PARAM: 400,
  QUERY_FILE_INVALID: 500,
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
