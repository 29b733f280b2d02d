import { type ParsedArgs, parseArgs, UsageError } from './args.js';
import { createReadApi, type ReadyQueryInfo } from './client.js';
import { clock, resolveTime, timeWords } from './dates.js';
import { type Format, formatResult, formats } from './output.js';
import { runPrompt } from './prompt.js';
import { EXIT_OK, EXIT_USAGE, type Io, reportError, runAndPrint, type Session } from './session.js';

const DEFAULT_URL = 'http://127.0.0.1:8787';

export const usage = `Usage:
  tidemark sql "SELECT …"             run one statement
  tidemark sql                        open a prompt (statements end with ;, \\q quits)
  tidemark query NAME --project P --from T --to T [--PARAM VALUE …]
                                      run a ready query; repeat --PARAM for an array (--steps a --steps b)
  tidemark queries                    list the ready queries and their parameters

Options:
  --format table|json|csv   how to print the rows (default table; row count and time go to stderr)
  --max-width N             cut table cells wider than N columns with … (default 60)
  --url URL                 the gateway (default TIDEMARK_URL, else ${DEFAULT_URL})
  --token TOKEN             the admin token (default TIDEMARK_ADMIN_TOKEN; the variable keeps it out of ps)

--from and --to take a time (2026-03-01, '2026-03-01 12:00:00', ISO 8601) or one of:
  ${timeWords}; days begin at 00:00 UTC.

Exit codes: 0 answered, 1 the query failed, 2 usage, connection or token problem.
`;

/** Options every command takes; for `query`, every other option is a parameter of the ready query. */
const sessionOptions = new Set(['format', 'max-width', 'url', 'token']);

function processIo(): Io {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interactive: process.stdin.isTTY === true,
  };
}

type Command = (session: Session, args: ParsedArgs, rest: string[]) => Promise<number>;

/** The whole CLI: reads the command line, runs it, answers the exit code. Never calls process.exit. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const commands: Record<string, Command> = { sql, query, queries: list };
  try {
    const args = parseArgs(argv);
    const [command, ...rest] = args.positionals;
    if (args.flags.has('help') || command === 'help') {
      io.stdout.write(usage);
      return EXIT_OK;
    }
    if (command === undefined) throw new UsageError('which command?');
    const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
    if (run === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    return await run(openSession(args, io), args, rest);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`tidemark: ${error.message}\n${error.showUsage ? `\n${usage}` : ''}`);
    return EXIT_USAGE;
  }
}

function option(args: ParsedArgs, name: string): string | undefined {
  // The last one wins, as with most command-line tools.
  return args.options.filter(([n]) => n === name).at(-1)?.[1];
}

function openSession(args: ParsedArgs, io: Io): Session {
  const url = option(args, 'url') ?? (io.env.TIDEMARK_URL || DEFAULT_URL);
  const token = option(args, 'token') ?? io.env.TIDEMARK_ADMIN_TOKEN;
  if (!token) {
    throw new UsageError(
      `no admin token: set TIDEMARK_ADMIN_TOKEN to the token the gateway at ${url} was started with (or pass --token)`,
      { showUsage: false },
    );
  }
  const format = option(args, 'format') ?? 'table';
  if (!formats.includes(format as Format)) {
    throw new UsageError(`--format takes one of ${formats.join(', ')}, not ${JSON.stringify(format)}`);
  }
  const maxWidthText = option(args, 'max-width') ?? '60';
  const maxCellWidth = Number(maxWidthText);
  if (!Number.isInteger(maxCellWidth) || maxCellWidth < 1) {
    throw new UsageError(`--max-width takes a whole number of columns, not ${JSON.stringify(maxWidthText)}`);
  }
  return { api: createReadApi({ url, token }), url, format: format as Format, maxCellWidth, io };
}

function onlySessionOptions(args: ParsedArgs, command: string): void {
  const other = args.options.find(([name]) => !sessionOptions.has(name));
  if (other) throw new UsageError(`${command} takes no --${other[0]}`);
}

async function sql(session: Session, args: ParsedArgs, rest: string[]): Promise<number> {
  onlySessionOptions(args, 'tidemark sql');
  if (rest.length > 1) {
    throw new UsageError('give the statement as one argument, in quotes: tidemark sql "SELECT …"');
  }
  const [statement] = rest;
  if (statement === undefined) return runPrompt(session);
  return runAndPrint(session, () => session.api.sql(statement));
}

async function query(session: Session, args: ParsedArgs, rest: string[]): Promise<number> {
  const [name, ...extra] = rest;
  if (name === undefined) throw new UsageError('tidemark query needs the name of a ready query');
  if (extra.length > 0)
    throw new UsageError(`unexpected ${JSON.stringify(extra[0])}: parameters go as --NAME VALUE`);
  let now: number;
  try {
    now = clock(session.io.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const params = args.options
    .filter(([n]) => !sessionOptions.has(n))
    .map(([n, value]) => [n, n === 'from' || n === 'to' ? resolveTime(value, now) : value] as const);
  return runAndPrint(session, () => session.api.query(name, params));
}

async function list(session: Session, args: ParsedArgs, rest: string[]): Promise<number> {
  onlySessionOptions(args, 'tidemark queries');
  if (rest.length > 0) throw new UsageError(`tidemark queries takes no ${JSON.stringify(rest[0])}`);
  let queries: ReadyQueryInfo[];
  try {
    queries = await session.api.list();
  } catch (error) {
    return reportError(session, error);
  }
  // Optional parameters every query with options takes (the filters) are said once below the table, not on every
  // row; a query with none (person_events: one person, whatever the filters) is named there as the exception.
  const filtered = queries.filter((q) => q.params.some((p) => !p.required));
  const common = (filtered[0]?.params ?? [])
    .filter(
      (p) => !p.required && filtered.every((q) => q.params.some((o) => o.name === p.name && !o.required)),
    )
    .map((p) => p.name);
  const without = queries.filter((q) => !filtered.includes(q)).map((q) => q.name);
  const describe = (p: ReadyQueryInfo['params'][number]) =>
    p.required ? `--${p.name}` : `[--${p.name}${p.default ? ` ${p.default}` : ''}]`;
  // The order a reader types them in: the range first, the query's own after, the optional ones last.
  const first = ['project', 'from', 'to'];
  const rank = (p: ReadyQueryInfo['params'][number]) =>
    first.includes(p.name) ? first.indexOf(p.name) : p.required ? first.length : first.length + 1;
  const withDescription = queries.some((q) => q.description);
  const table = {
    columns: [
      { name: 'name', type: 'String' },
      { name: 'parameters', type: 'String' },
      ...(withDescription ? [{ name: 'description', type: 'String' }] : []),
    ],
    rows: queries.map((q) => [
      q.name,
      q.params
        .filter((p) => !common.includes(p.name))
        .sort((a, b) => rank(a) - rank(b))
        .map(describe)
        .join(' '),
      ...(withDescription ? [q.description?.split('\n')[0] ?? ''] : []),
    ]),
  };
  session.io.stdout.write(formatResult(table, session.format, { maxCellWidth: session.maxCellWidth }));
  if (session.format === 'table' && common.length > 0) {
    session.io.stderr.write(
      `Every query${without.length > 0 ? ` but ${without.join(', ')}` : ''} also takes ` +
        `${common.map((n) => `--${n}`).join(', ')}; left out, they do not filter.\n`,
    );
  }
  return EXIT_OK;
}
