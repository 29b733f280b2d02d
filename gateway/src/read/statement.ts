import { GatewayError } from '../errors.js';

/**
 * The statement check of `POST /v1/sql`: one read statement over the analytics database, with a clear 400
 * naming what is wrong otherwise.
 *
 * It is the first of two fences, and the one that explains itself. The second is ClickHouse: every query runs
 * with `readonly = 2` and the read limits (reader.ts), and in distributed mode as a user granted SELECT on
 * `tidemark.*` only. Readonly settings stop writes, but not reads that reach outside: `file('/etc/passwd')`
 * answers under `readonly = 2` in chDB, which has no users or grants. So table functions and functions that
 * read files, URLs or other servers, other databases, and SETTINGS that would lift the limits are refused here.
 *
 * The check reads tokens, not a grammar. Where it cannot tell what ClickHouse would make of the text (a `#`
 * or `$` outside strings, an unterminated quote or comment) it refuses rather than guesses, so a string or
 * comment can never hide code from it.
 */
export function checkStatement(sql: string): string {
  const tokens = tokenize(sql);
  // Trailing semicolons are a habit from SQL consoles; any other one starts a second statement.
  while (tokens.at(-1)?.text === ';') tokens.pop();
  if (tokens.length === 0) throw refuse('The query is empty.');
  const semicolon = tokens.find((t) => t.text === ';');
  if (semicolon) {
    throw refuse(
      `Send one statement per request; a second one starts after the ';' at offset ${semicolon.at}.`,
    );
  }

  const words = tokens.filter((t) => t.kind === 'word');
  const first = words[0]?.lower ?? '';
  if (!statementKinds.has(first) || (tokens[0]?.text === '(' && first !== 'select' && first !== 'with')) {
    throw refuse(
      `Only SELECT, WITH, SHOW, DESCRIBE, EXPLAIN and EXISTS statements are served; this one starts with ${
        first === '' ? JSON.stringify(tokens[0]?.text) : first.toUpperCase()
      }.`,
    );
  }
  if (first === 'show') {
    const what = words[1]?.lower ?? '';
    if (!showKinds.has(what)) {
      throw refuse(
        `SHOW ${what.toUpperCase()} is not served: SHOW TABLES, COLUMNS, CREATE and DATABASES are (they describe the data, not the server).`,
      );
    }
  }
  if (first === 'explain' && !words.some((w) => w.lower === 'select' || w.lower === 'with')) {
    throw refuse('EXPLAIN is served for SELECT queries only.');
  }

  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    const name = token.kind === 'word' || token.kind === 'quoted' ? token.lower : undefined;
    if (name === undefined) continue;
    if (next?.text === '(' && reachesOutside(name)) {
      throw refuse(
        `${token.text}() reads outside the analytics database (files, URLs or other servers) and is not served.`,
      );
    }
    if (next?.text === '.' && otherDatabases.has(name)) {
      throw refuse(
        `Only the tidemark database is readable; ${token.text}.${tokens[i + 2]?.text ?? ''} is not.`,
      );
    }
    if (token.kind !== 'word') continue;
    if ((name === 'from' || name === 'in') && first === 'show') {
      const db = next?.kind === 'word' || next?.kind === 'quoted' ? next.lower : '';
      if (otherDatabases.has(db))
        throw refuse(`Only the tidemark database is readable; ${next?.text} is not.`);
    }
    if (name === 'format' && next?.kind === 'word' && !clauseWords.has(next.lower)) {
      throw refuse('Leave out the FORMAT clause: the API answers JSON ({ columns, rows }).');
    }
    if (name === 'outfile') throw refuse('INTO OUTFILE writes a file and is not served.');
    if (name === 'settings' && next?.text !== '(') checkSettings(tokens, i + 1);
  }
  return sql.slice(0, tokens.at(-1)?.end ?? sql.length).trim();
}

/** Words that follow a column named `format` (`SELECT format FROM …`), unlike a format name. */
const clauseWords = new Set([
  'from',
  'where',
  'group',
  'order',
  'limit',
  'having',
  'union',
  'settings',
  'as',
]);
/** How a statement may start (`DESC` is DESCRIBE). */
const statementKinds = new Set(['select', 'with', 'show', 'describe', 'desc', 'explain', 'exists']);
/** What may follow SHOW: the statements that describe tables, not the server (no PROCESSLIST, USERS, …). */
const showKinds = new Set(['tables', 'full', 'extended', 'columns', 'fields', 'create', 'databases']);
/** Databases besides `tidemark` that ClickHouse and chDB have; reads stay in the analytics database. */
const otherDatabases = new Set(['system', 'information_schema', 'default']);

// Table functions (and the scalar file()) that read files, URLs, object stores or other servers. Names are
// compared lowercased: several of them are case-insensitive in ClickHouse. https://clickhouse.com/docs/sql-reference/table-functions
const outsideExact = new Set([
  'file',
  'filecluster',
  'url',
  'urlcluster',
  'remote',
  'remotesecure',
  'cluster',
  'clusterallreplicas',
  'input',
  'executable',
  'executablepool',
  'jdbc',
  'odbc',
  'gcs',
  'oss',
  'cosn',
  'merge',
  'dictionary',
  'loop',
  'fuzzjson',
  'fuzzquery',
  'ytsaurus',
  // Lists directories and reads whole files (`SELECT content FROM filesystem('/proc/self/environ')`) under
  // readonly = 2; it passed this check until chaos/scenarios/hostile.ts asked chDB for its table functions.
  'filesystem',
  // Runs a command (experimental; refused here whatever the settings say).
  'eval',
  'hive',
  'timeseriesdata',
  'timeseriesmetrics',
  'timeseriessamples',
  'timeseriesselector',
  'timeseriestags',
]);
const outsidePrefixes = [
  's3',
  'azure',
  'hdfs',
  'iceberg',
  'deltalake',
  'hudi',
  'paimon',
  'mysql',
  'postgres',
  'sqlite',
  'mongo',
  'redis',
  // arrowFlight reads a remote server; chDB's arrowstream reads Arrow streams registered in the process.
  'arrow',
  // Index and projection internals of any table named by a string argument, system's included.
  'mergetree',
  'prometheus',
];

function reachesOutside(name: string): boolean {
  return outsideExact.has(name) || outsidePrefixes.some((p) => name.startsWith(p));
}

/** A setting that bounds a query or guards its access: `readonly`, `max_*`, `*_overflow_mode`, … */
const protectedSetting =
  /^(readonly|allow_|max_|min_|limit$|offset$|timeout_|.*_overflow_mode$|.*_execution_)/;

/** Refuses a SETTINGS clause that names a protected setting (the read limits would no longer hold). */
function checkSettings(tokens: Token[], from: number): void {
  for (let i = from; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    if (tokens[i + 1]?.text !== '=') continue;
    if (protectedSetting.test(token.lower)) {
      throw refuse(
        `SETTINGS ${token.text} is not served: it would lift a read limit or guard (readonly, max_*, *_overflow_mode, …).`,
      );
    }
  }
}

function refuse(message: string): GatewayError {
  return new GatewayError('invalid_query', { message });
}

type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct';
interface Token {
  kind: TokenKind;
  text: string;
  /** `text` lowercased; for quoted identifiers, the name inside the quotes. */
  lower: string;
  at: number;
  end: number;
}

/** ClickHouse's lexical shapes, closely enough to tell code from strings and comments. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, lower?: string) => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, lower: lower ?? text.toLowerCase(), at: start, end });
  };
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      // Not nested on purpose: were ClickHouse to nest comments, more text would be code to this check, not less.
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw refuse(`Unterminated /* comment at offset ${i}.`);
      i = end + 2;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      const end = closingQuote(sql, i);
      if (end === -1) throw refuse(`Unterminated ${ch} quote at offset ${i}.`);
      const inner = sql.slice(i + 1, end - 1).toLowerCase();
      push(ch === "'" ? 'string' : 'quoted', i, end, ch === "'" ? undefined : inner);
      i = end;
    } else if (/[A-Za-z_]/.test(ch)) {
      let end = i + 1;
      while (end < sql.length && /[A-Za-z0-9_]/.test(sql[end] as string)) end += 1;
      push('word', i, end);
      i = end;
    } else if (/[0-9]/.test(ch)) {
      let end = i + 1;
      while (end < sql.length && /[0-9A-Za-z_.]/.test(sql[end] as string)) end += 1;
      push('number', i, end);
      i = end;
    } else if (ch === '#' || ch === '$') {
      throw refuse(
        ch === '#'
          ? `Use -- for comments ('#' at offset ${i}).`
          : `Heredoc strings ('$' at offset ${i}) are not served; use '…' strings.`,
      );
    } else {
      push('punct', i, i + 1);
      i += 1;
    }
  }
  return tokens;
}

/** Index just past the quote that closes the one at `start`: backslash escapes and doubled quotes, as ClickHouse. */
function closingQuote(sql: string, start: number): number {
  const quote = sql[start];
  for (let i = start + 1; i < sql.length; i += 1) {
    const ch = sql[i];
    if (ch === '\\') i += 1;
    else if (ch === quote) {
      if (sql[i + 1] === quote) i += 1;
      else return i + 1;
    }
  }
  return -1;
}
