import { ApiError, ConnectionError, type QueryResult, type ReadApi } from './client.js';
import { type Format, formatResult } from './output.js';
import { formatFooter } from './table.js';

/** Where the CLI reads and writes; process.* in real use, streams in tests. */
export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal: the prompt, the banner and line editing are for people only. */
  interactive: boolean;
}

/** Exit codes: 0 answered, 1 the query failed, 2 the command line, the connection or the token is wrong. */
export const EXIT_OK = 0;
export const EXIT_QUERY = 1;
export const EXIT_USAGE = 2;

/** One run of the CLI: the API to ask, how to print, where to. */
export interface Session {
  api: ReadApi;
  url: string;
  format: Format;
  maxCellWidth: number;
  io: Io;
}

/**
 * Prints a result: the rows on stdout, and for the table format the row count and time on stderr, so that
 * `tidemark sql … > file` keeps only the data (as clickhouse-client keeps its "Elapsed" line off stdout).
 */
export function printResult(session: Session, result: QueryResult): void {
  session.io.stdout.write(formatResult(result, session.format, { maxCellWidth: session.maxCellWidth }));
  if (session.format === 'table') {
    session.io.stderr.write(formatFooter(result.rows.length, result.elapsedMs));
  }
}

// The gateway's codes that mean the caller's setup is wrong, not the query: exit 2, like a bad command line.
const setupCodes = new Set(['read_api_disabled', 'invalid_admin_token']);

/** Prints a failure the way a person can act on, and says which exit code it means. */
export function reportError(session: Pick<Session, 'io'>, error: unknown): number {
  const { stderr } = session.io;
  if (error instanceof ApiError) {
    const clickhouse = error.details.clickhouse as { code?: unknown; type?: unknown } | undefined;
    const from = clickhouse?.type
      ? ` [ClickHouse ${String(clickhouse.type)}, code ${String(clickhouse.code)}]`
      : '';
    stderr.write(`tidemark: ${error.code} (HTTP ${error.status}): ${error.message}${from}\n`);
    return setupCodes.has(error.code) ? EXIT_USAGE : EXIT_QUERY;
  }
  if (error instanceof ConnectionError) {
    stderr.write(
      `tidemark: ${error.message}\n` +
        '  Is Tidemark running? Start it with the read API on:\n' +
        '    TIDEMARK_ADMIN_TOKEN=… npx -y pnpm@10.34.8 start\n' +
        '  or point --url (or TIDEMARK_URL) at the gateway.\n',
    );
    return EXIT_USAGE;
  }
  stderr.write(`tidemark: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_QUERY;
}

/** Runs one call and prints its result or its error; answers the exit code. */
export async function runAndPrint(session: Session, call: () => Promise<QueryResult>): Promise<number> {
  try {
    printResult(session, await call());
    return EXIT_OK;
  } catch (error) {
    return reportError(session, error);
  }
}
