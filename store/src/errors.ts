/** Every failure of the ClickHouse library, by stable code. Callers branch on `code` or `retriable`, never on text. */
export type StoreErrorCode =
  /** An environment variable or option is missing or malformed. */
  | 'config_invalid'
  /** chDB is already bound to another data directory in this process. */
  | 'chdb_path_in_use'
  /** A table name that is not a plain `name` or `database.name` identifier. */
  | 'invalid_table_name'
  /** ClickHouse refused the rows themselves (parse or type error): retrying the same body cannot succeed. */
  | 'insert_rejected'
  /** The insert failed for a reason that may pass (network, overload, too many parts): retry it. */
  | 'insert_failed'
  /** A migration file could not be read or one of its statements failed. */
  | 'migration_failed'
  /** The ClickHouse client was used after `close()`. */
  | 'clickhouse_closed'
  /** A materialized view over tidemark.events that a deletion cannot recompute (store/src/rollupCorrection.ts). */
  | 'rollup_not_correctable'
  /** No regulation has that id. */
  | 'regulation_not_found';

const statusByCode: Record<StoreErrorCode, number> = {
  config_invalid: 500,
  chdb_path_in_use: 500,
  invalid_table_name: 500,
  insert_rejected: 500,
  insert_failed: 503,
  migration_failed: 500,
  clickhouse_closed: 503,
  rollup_not_correctable: 500,
  regulation_not_found: 404,
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
