import { GatewayError } from '../errors.js';

/**
 * The statement check of `POST /v1/sql`: one read statement over the analytics database, with a clear 400
 * naming what is wrong otherwise.
 *
 * It is one of two fences, each meant to hold alone. The other is ClickHouse's access control: a server user
 * granted SELECT on `tidemark.*` only, and in embedded mode a chDB whose only user has no grant outside the
 * analytics database and none of the SOURCES grants (`file`, `url`, `remote`, …; store/src/chdbAccess.ts).
 *
 * The check runs twice (reader.ts): on the text as sent, for a message that quotes the user's own words, and on
 * the same statement as ClickHouse's own parser prints it back (`formatQuery`), which is then the text that runs.
 * The printed form has no comments, no escapes in plain names (`` `fi\x6ce` `` prints as `file`), one quoting
 * style and no heredocs, so what is judged here is what the engine runs.
 *
 * It reads tokens, not a grammar, and judges by allowlists where it can: which statements, which databases,
 * which table functions after FROM or JOIN, which settings. Where it cannot tell what ClickHouse would make of
 * the text (a `#` or `$` outside strings, an unterminated quote or comment, a character outside ASCII outside
 * strings and quoted names) it refuses rather than guesses.
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

  // The clause each parenthesis depth is in, so that `FROM a, b(…)` knows b is a table expression.
  const clauses: string[] = [''];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (token.text === '(') clauses.push('');
    else if (token.text === ')') clauses.length > 1 && clauses.pop();
    if (token.kind !== 'word' && token.kind !== 'quoted') continue;
    const name = token.lower;
    const word = token.kind === 'word';
    // ARRAY JOIN takes expressions, not tables.
    const arrayJoin = name === 'join' && prev?.lower === 'array';
    if (word && clauseKeywords.has(name)) clauses[clauses.length - 1] = arrayJoin ? 'array join' : name;
    const clause = clauses[clauses.length - 1];
    const afterArrayJoin = prev?.lower === 'join' && tokens[i - 2]?.lower === 'array';
    const tablePosition =
      prev !== undefined &&
      ((tableIntroducers.has(prev.lower) && prev.kind === 'word' && !afterArrayJoin) ||
        (prev.text === ',' && (clause === 'from' || clause === 'join')) ||
        (first === 'show' && (prev.lower === 'from' || prev.lower === 'in')));

    if (next?.text === '(') {
      if (reachesOutside(name)) {
        throw refuse(
          `${token.text}() reads outside the analytics database (files, URLs, other servers or other databases) and is not served.`,
        );
      }
      // ClickHouse prints a call of a parameterized view (tidemark.session_rows(…)) as one quoted name: served
      // when that name is the analytics database and a plain name, with no escape for ClickHouse to read.
      const analyticsView = !word && tablePosition && /^tidemark\.[a-z_][a-z0-9_]*$/.test(name);
      if (!word && !analyticsView) {
        throw refuse(
          `${token.text}(): a function or table function name in quotes is not served; write it as a plain word.`,
        );
      }
      if (tablePosition && !analyticsView && !harmlessTableFunctions.has(name)) {
        throw refuse(
          `${token.text}() is not a table function this API serves; read the tidemark tables, or generate rows with ${[
            'numbers',
            'values',
            'generateSeries',
          ].join(', ')}.`,
        );
      }
    }
    if (next?.text === '.') {
      // A quoted name is judged by its text only where that text is a plain name: an escape inside it
      // (`sys\x74em`) is read by ClickHouse, not here, so it is refused until the parser prints it plain.
      const plain = word || /^[a-z_][a-z0-9_]*$/.test(name);
      if (!plain || otherDatabases.has(name) || (tablePosition && name !== database)) {
        throw refuse(
          `Only the tidemark database is readable; ${token.text}.${tokens[i + 2]?.text ?? ''} is not.`,
        );
      }
    }
    // SHOW TABLES FROM db, SHOW COLUMNS FROM table FROM db: the name a database stands in is the analytics one.
    if (first === 'show' && (prev?.lower === 'from' || prev?.lower === 'in')) {
      const databasePosition =
        words[1]?.lower === 'tables' ||
        words[1]?.lower === 'databases' ||
        tokens.slice(0, i - 1).some((t) => t.kind === 'word' && (t.lower === 'from' || t.lower === 'in'));
      if ((databasePosition && name !== database) || otherDatabases.has(name)) {
        throw refuse(`Only the tidemark database is readable; ${token.text} is not.`);
      }
    }
    if (!word) continue;
    if (name === 'identifier' && prev?.text === ':') {
      throw refuse(
        'Identifier query parameters ({name:Identifier}) are not served: they name a table the check cannot see.',
      );
    }
    if (name === 'format' && next?.kind === 'word' && !columnFollowers.has(next.lower)) {
      throw refuse('Leave out the FORMAT clause: the API answers JSON ({ columns, rows }).');
    }
    if (name === 'outfile') throw refuse('INTO OUTFILE writes a file and is not served.');
    if (name === 'settings' && next?.text !== '(') checkSettings(tokens, i + 1);
  }
  return sql.slice(0, tokens.at(-1)?.end ?? sql.length).trim();
}

/** The analytics database: the one database statements may name. */
const database = 'tidemark';

/** Words that follow a column named `format` (`SELECT format FROM …`), unlike a format name. */
const columnFollowers = new Set([
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
/** Databases besides `tidemark` that ClickHouse and chDB have, named in refusals wherever they appear. */
const otherDatabases = new Set(['system', 'information_schema', 'default', '_temporary_and_external_tables']);
/** Keywords after which the next name is a table expression. */
const tableIntroducers = new Set(['from', 'join', 'table', 'exists', 'describe', 'desc']);
/** Keywords that start a clause; a comma continues the FROM or JOIN list only while it is the current one. */
const clauseKeywords = new Set([
  'select',
  'from',
  'join',
  'where',
  'prewhere',
  'group',
  'order',
  'having',
  'limit',
  'offset',
  'settings',
  'union',
  'intersect',
  'except',
  'array',
  'on',
  'using',
  'with',
  'window',
  'qualify',
  'final',
  'sample',
]);

/**
 * Table functions that generate rows, parse a literal or wrap a subquery (whose text this check reads like the
 * rest of the statement): the only ones served. Everything else after FROM or JOIN must be a table of the
 * analytics database. gateway/src/read/tableFunctions.test.ts keeps this list honest against the engine.
 */
export const harmlessTableFunctions = new Set([
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'primes',
  'generaterandom',
  'generateseries',
  'generate_series',
  'values',
  'sqlstandardvalues',
  'null',
  'format',
  'view',
  'viewexplain',
  'viewifpermitted',
]);

// Functions, table functions or scalar, that read files, URLs, object stores, other servers or other tables
// by name, wherever they stand. Names are compared lowercased: several are case-insensitive in ClickHouse.
// https://clickhouse.com/docs/sql-reference/table-functions
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
  'eval',
  'hive',
  // Scalar functions that read files, models or tables other than the ones the statement names.
  'catboostevaluate',
  'naivebayesclassifier',
  'modelevaluate',
  'hascolumnintable',
  'getclienthttpheader',
  'showcertificate',
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
  'arrow',
  'mergetree',
  'prometheus',
  'timeseries',
  // `filesystem()` lists directories and reads whole files; filesystemAvailable() and its kin describe disks.
  'filesystem',
  // Dictionaries (dictGet, dictHas, …) and Join tables (joinGet) can read any database or an outside source.
  'dict',
  'joinget',
  // Introspection reads the server's binary and memory maps.
  'addressto',
  'demangle',
];

function reachesOutside(name: string): boolean {
  return outsideExact.has(name) || outsidePrefixes.some((p) => name.startsWith(p));
}

/**
 * The settings a statement may set in its SETTINGS clause: ones that change how a query is computed or shown,
 * never a limit or an access guard. Anything else is refused, so a new limit setting cannot be lifted either.
 */
export const allowedSettings = new Set([
  'final',
  'do_not_merge_across_partitions_select_final',
  'join_use_nulls',
  'join_algorithm',
  'joined_subquery_requires_alias',
  'session_timezone',
  'aggregate_functions_null_for_empty',
  'count_distinct_implementation',
  'group_by_use_nulls',
  'transform_null_in',
  'cast_keep_nullable',
  'prefer_column_name_to_alias',
  'union_default_mode',
  'enable_analyzer',
  'optimize_aggregation_in_order',
  'optimize_read_in_order',
  'use_skip_indexes',
  'use_query_condition_cache',
]);

/** Refuses a SETTINGS clause that names a setting outside the allowlist; the clause ends with its subquery. */
function checkSettings(tokens: Token[], from: number): void {
  let depth = 0;
  for (let i = from; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    if (token.text === '(') depth += 1;
    else if (token.text === ')' && --depth < 0) return;
    if (depth > 0 || tokens[i + 1]?.text !== '=') continue;
    if (token.kind !== 'word' || !allowedSettings.has(token.lower)) {
      throw refuse(
        `SETTINGS ${token.text} is not served: only settings that change how a query is computed are (${[
          ...allowedSettings,
        ]
          .slice(0, 4)
          .join(', ')}, …), never a limit or guard such as readonly, max_* or *_overflow_mode.`,
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
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v') {
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
    } else if (ch > '\x7e' || ch < ' ') {
      // ClickHouse reads bytes past ASCII as parts of names; a look-alike letter or an odd space would make a
      // name this check reads differently.
      throw refuse(
        `Character U+${ch.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')} at offset ${i} is only served inside '…' strings or quoted names.`,
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
