import { StoreError } from './errors.js';

/**
 * ClickHouse error codes caused by the inserted rows themselves. Resending the same body fails the same way,
 * so these are not retriable; everything else (network, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, a restarting
 * server) may pass and is. Codes from ClickHouse's src/Common/ErrorCodes.cpp.
 */
const rejectedRowCodes = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE: a `\ud800` escape without its pair; retried, it stalled the partition
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  376, // CANNOT_PARSE_UUID
  675, // CANNOT_PARSE_IPV4
]);

/** The numeric ClickHouse code of an error from either backend, or undefined for non-ClickHouse errors. */
export function clickHouseCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  // Checked by shape, not instanceof: chDB throws the ClickHouseError of @clickhouse/client-common, a
  // different copy of the class than the one @clickhouse/client bundles.
  if ('code' in err && 'type' in err) {
    const code = Number((err as { code: unknown }).code);
    return Number.isInteger(code) ? code : undefined;
  }
  // A server's exception text that @clickhouse/client could not parse comes back as a plain Error holding that
  // text: its pattern stops at a line break, and ClickHouse quotes the offending value verbatim, so a value with a
  // NUL or a newline (`SELECT {n:UInt8}` given "\u0000") lost its code and was taken for a network failure
  // (found by chaos/scenarios/hostile.ts). The text still starts the way ClickHouse writes every exception.
  if (err instanceof Error) {
    const code = /^Code: (\d+)\. DB::Exception: /.exec(err.message)?.[1];
    if (code !== undefined) return Number(code);
  }
  return undefined;
}

/** Wraps a failed insert into a StoreError that says whether resending the same body can succeed. */
export function toInsertError(table: string, err: unknown): StoreError {
  const code = clickHouseCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code !== undefined && rejectedRowCodes.has(code)) {
    return new StoreError('insert_rejected', `ClickHouse rejected rows for ${table}: ${detail}`, {
      retriable: false,
      cause: err,
    });
  }
  return new StoreError('insert_failed', `Insert into ${table} failed: ${detail}`, {
    retriable: true,
    cause: err,
  });
}
