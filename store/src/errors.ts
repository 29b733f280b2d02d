/** Every failure of the ClickHouse library, by stable code. Callers branch on `code` or `retriable`, never on text. */
export type StoreErrorCode =
  /** An environment variable or option is missing or malformed. */
  | 'CONFIG_INVALID'
  /** chDB is already bound to another data directory in this process. */
  | 'CHDB_PATH_IN_USE'
  /** A table name that is not a plain `name` or `database.name` identifier. */
  | 'INVALID_TABLE_NAME'
  /** ClickHouse refused the rows themselves (parse or type error): retrying the same body cannot succeed. */
  | 'INSERT_REJECTED'
  /** The insert failed for a reason that may pass (network, overload, too many parts): retry it. */
  | 'INSERT_FAILED'
  /** A migration file could not be read or one of its statements failed. */
  | 'MIGRATION_FAILED'
  /** The ClickHouse client was used after `close()`. */
  | 'CLICKHOUSE_CLOSED';

const statusByCode: Record<StoreErrorCode, number> = {
  CONFIG_INVALID: 500,
  CHDB_PATH_IN_USE: 500,
  INVALID_TABLE_NAME: 500,
  INSERT_REJECTED: 500,
  INSERT_FAILED: 503,
  MIGRATION_FAILED: 500,
  CLICKHOUSE_CLOSED: 503,
};

/** An error as data: a stable `code`, an HTTP-like `status` and whether trying again may succeed. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly status: number;
  readonly retriable: boolean;

  constructor(code: StoreErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StoreError';
    this.code = code;
    this.status = statusByCode[code];
    this.retriable = opts.retriable ?? this.status === 503;
  }
}
