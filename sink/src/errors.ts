/** Every failure the sink process reports itself, by stable code; ClickHouse's come as `StoreError`. */
export type SinkErrorCode =
  /** An environment variable or option is missing or malformed. */
  'config_invalid';

/** An error as data: a stable `code`, an HTTP-like `status` and whether trying again may succeed. */
export class SinkError extends Error {
  readonly code: SinkErrorCode;
  readonly status = 500;
  readonly retriable = false;

  constructor(code: SinkErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'SinkError';
    this.code = code;
  }
}
