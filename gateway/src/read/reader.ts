import { type ClickHouse, clickHouseCode, createClickHouse, type ReadResult } from '@tidemark/store';
import type { ClickHouseSettings, ReadApiConfig } from '../config.js';
import { GatewayError } from '../errors.js';
import { checkStatement } from './statement.js';

/** The limits every read runs under (TIDEMARK_READ_*). */
export type ReadLimits = Pick<ReadApiConfig, 'maxExecutionSeconds' | 'maxResultRows' | 'maxRowsToRead'>;

/**
 * Reads for the read API, the same over chDB (embedded) and a ClickHouse server (distributed): every statement
 * runs with `readonly = 2` and the read limits, and every failure leaves as a GatewayError.
 */
export interface Reader {
  /**
   * Runs one statement a user wrote (the read API, the SQL console): it passes the statement check, is printed
   * back by ClickHouse's own parser, passes the check again in that form, and that form is what runs. `params`
   * bind its `{name:Type}` placeholders. Rejects with a GatewayError.
   */
  statement(sql: string, params?: Record<string, unknown>): Promise<ReadResult>;
  /** Runs one statement Tidemark ships (the ready queries), under the same limits, without the check. */
  query(sql: string, params?: Record<string, unknown>): Promise<ReadResult>;
  /** Which engine answers. */
  readonly backend: 'chdb' | 'server';
  close(): Promise<void>;
}

/** The analytics database (DESIGN §5): unqualified table names resolve to it. */
const database = 'tidemark';

/**
 * Opens a reader on its own ClickHouse client. In embedded mode that is a second chDB session on the directory
 * the gateway writes to: same engine, same data, but a slow ad-hoc query does not queue the inserts behind it
 * (one chDB session runs its statements one after another; measured here, an insert in another session
 * returned after 210 ms while a 1.6 s read ran). In distributed mode it is a server connection as the
 * read-only user.
 */
export async function openReader(settings: ClickHouseSettings, limits: ReadLimits): Promise<Reader> {
  const clickhouse = createClickHouse({
    ...settings,
    ...(settings.url ? { database } : {}),
    // The engine stops the query at max_execution_time; the client waits a little longer for that answer.
    requestTimeoutMs: (limits.maxExecutionSeconds + 5) * 1000,
    // Each failure becomes an answer and a line in the gateway's own log (plugins/errorHandler.ts).
    clientLogs: false,
  });
  // chDB takes no default database from the client's options; USE sets it for this session only.
  if (clickhouse.backend === 'chdb') {
    try {
      await clickhouse.command(`USE ${database}`);
    } catch (error) {
      await clickhouse.close();
      throw error;
    }
  }
  return createReader(clickhouse, limits, { owned: true });
}

/**
 * A reader over a ClickHouse client the caller opened. `owned`: `close()` closes the client too. The settings go
 * with each statement (never into the session), so sharing the client with the writer is safe.
 */
export function createReader(
  clickhouse: ClickHouse,
  limits: ReadLimits,
  opts: { owned?: boolean } = {},
): Reader {
  const settings: Record<string, string | number> = {
    max_execution_time: limits.maxExecutionSeconds,
    timeout_overflow_mode: 'throw',
    max_result_rows: limits.maxResultRows,
    // 'throw', not 'break': ClickHouse breaks at block boundaries, so 'break' with max_result_rows = 10 can still
    // return 65 536 rows (measured: 100 of 100). A 400 that says "add a LIMIT" is honest; a silent cut is not.
    result_overflow_mode: 'throw',
    // Exact 64-bit integers (as JSON strings) from both engines: chDB's default prints them as numbers, which
    // JavaScript rounds past 2^53, and a server's default is to quote them.
    output_format_json_quote_64bit_integers: 1,
    ...(limits.maxRowsToRead > 0
      ? { max_rows_to_read: limits.maxRowsToRead, read_overflow_mode: 'throw' }
      : {}),
    // 2, not 1: readonly = 1 forbids the settings above, and a server user whose profile says readonly = 2 (as
    // the README's read-only user does) may not be switched to 1. ClickHouse skips the check for an unchanged
    // value, so this passes for that user and turns a writable one read-only for the statement.
    readonly: 2,
  };
  async function query(sql: string, params?: Record<string, unknown>): Promise<ReadResult> {
    const signal = AbortSignal.timeout((limits.maxExecutionSeconds + 5) * 1000);
    try {
      return await clickhouse.read(sql, { settings, signal, ...(params ? { params } : {}) });
    } catch (error) {
      throw toReadError(error, limits, signal.aborted);
    }
  }
  return {
    backend: clickhouse.backend,
    query,
    async statement(sql, params) {
      const sent = checkStatement(sql);
      // formatQuery parses with the engine that will run the statement, takes the text as a bound value (never
      // spliced, so it cannot add a statement of its own) and refuses more than one statement.
      const printed = await query('SELECT formatQuery({statement:String})', { statement: sent });
      const canonical = printed.rows[0]?.[0];
      if (typeof canonical !== 'string') throw new GatewayError('store_unavailable');
      return query(checkStatement(canonical), params);
    },
    async close() {
      if (opts.owned) await clickhouse.close();
    },
  };
}

/** ClickHouse codes that mean the store, not the query, failed (src/Common/ErrorCodes.cpp). */
const unavailableCodes = new Set([
  192, // UNKNOWN_USER: the configured read user is wrong
  193, // WRONG_PASSWORD
  194, // REQUIRED_PASSWORD
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  242, // TABLE_IS_READ_ONLY (a replica lost its keeper)
  516, // AUTHENTICATION_FAILED
]);
const TIMEOUT_EXCEEDED = 159;
const TOO_MANY_ROWS = 158;
const TOO_MANY_ROWS_OR_BYTES = 396;

/**
 * What a failed read answers: ClickHouse's own message for a query it refused (400), a row limit as 400 with
 * the limit named, the time limit as 504, and anything else (network, authentication, a closed client) as 503
 * without internals.
 */
export function toReadError(error: unknown, limits: ReadLimits, timedOut = false): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = clickHouseCode(error);
  const limitSeconds = limits.maxExecutionSeconds;
  if (timedOut || code === TIMEOUT_EXCEEDED) {
    return new GatewayError('query_timeout', { cause: error, details: { limitSeconds } });
  }
  if (code === undefined || unavailableCodes.has(code)) {
    return new GatewayError('store_unavailable', { cause: error });
  }
  const type = (error as { type?: unknown }).type;
  const clickhouse = { code, ...(typeof type === 'string' ? { type } : {}) };
  const message = (error as Error).message;
  if (code === TOO_MANY_ROWS_OR_BYTES) {
    return new GatewayError('result_too_large', {
      cause: error,
      message: `The result has more than ${limits.maxResultRows} rows (TIDEMARK_READ_MAX_RESULT_ROWS): add a LIMIT or aggregate. ClickHouse: ${message}`,
      details: { clickhouse, maxResultRows: limits.maxResultRows },
    });
  }
  if (code === TOO_MANY_ROWS) {
    return new GatewayError('result_too_large', {
      cause: error,
      message: `The query reads more than ${limits.maxRowsToRead} rows (TIDEMARK_READ_MAX_ROWS_TO_READ): narrow its range. ClickHouse: ${message}`,
      details: { clickhouse, maxRowsToRead: limits.maxRowsToRead },
    });
  }
  return new GatewayError('query_failed', { cause: error, message, details: { clickhouse } });
}
