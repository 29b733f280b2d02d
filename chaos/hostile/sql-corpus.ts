import { mapOutsideQuotes } from './sql.js';

/**
 * The hostile SQL corpus: statements that try to get past the read API to the disk, the process's environment,
 * other servers, other databases, the limits, or to write. Each is built from a goal (what it reaches for) and
 * spelled every way ClickHouse reads the same name: case, quotes, escapes inside quotes, comments, look-alike
 * letters. Deterministic: the same target gives the same corpus.
 *
 * Every case must be refused when both fences stand (the statement check and ClickHouse's grants), and nothing
 * it reaches for may show in any answer when either fence stands alone. test/hostile-sql.test.ts runs it.
 */

/** Where the corpus aims: things a leak would show. */
export interface CorpusTarget {
  /** A file whose content must never appear in an answer. */
  markerFile: string;
  /** An HTTP URL on loopback that counts the requests it gets: none may arrive. */
  url: string;
  /** A file a write would create: it must not exist afterwards. */
  outFile: string;
}

export interface CorpusCase {
  sql: string;
  params?: Record<string, unknown>;
  /** What it reaches for, for the report. */
  goal: Goal;
  /**
   * Reaches past chDB's grants: the scalar `file()` and `INTO OUTFILE` need no grant in chDB (ClickHouse's
   * local mode), so against chDB only the statement check refuses these.
   */
  ungranted?: true;
}

export type Goal =
  | 'file'
  | 'environment'
  | 'network'
  | 'other-database'
  | 'write'
  | 'limit'
  | 'format'
  | 'statements';

/**
 * Table functions and functions that read outside the analytics database, as ClickHouse documents them
 * (https://clickhouse.com/docs/sql-reference/table-functions, /dictionaries#dictionary-sources), each with
 * arguments that aim at the target.
 */
function reachingCalls(t: CorpusTarget): [string, string, Goal][] {
  const f = quote(t.markerFile);
  const u = quote(t.url);
  const host = quote(new URL(t.url).host);
  return [
    ['file', `${f}, 'LineAsString'`, 'file'],
    ['file', quote('/proc/self/environ'), 'environment'],
    ['file', `'/proc/self/environ', 'RawBLOB'`, 'environment'],
    ['fileCluster', `'default', ${f}, 'LineAsString'`, 'file'],
    ['filesystem', quote(dirname(t.markerFile)), 'file'],
    ['filesystem', `'/proc/self'`, 'environment'],
    ['url', `${u}, 'LineAsString'`, 'network'],
    ['urlCluster', `'default', ${u}, 'LineAsString'`, 'network'],
    ['remote', `${host}, system.one`, 'network'],
    ['remote', `${host}, 'system', 'users'`, 'network'],
    ['remoteSecure', `${host}, system.one`, 'network'],
    ['cluster', `'default', system.one`, 'other-database'],
    ['clusterAllReplicas', `'default', system.one`, 'other-database'],
    ['s3', `${u}, 'LineAsString'`, 'network'],
    ['s3Cluster', `'default', ${u}, 'LineAsString'`, 'network'],
    ['gcs', `${u}, 'LineAsString'`, 'network'],
    ['oss', `${u}, 'LineAsString'`, 'network'],
    ['cosn', `${u}, 'LineAsString'`, 'network'],
    ['azureBlobStorage', `${u}, 'c', 'b'`, 'network'],
    ['azureBlobStorageCluster', `'default', ${u}, 'c', 'b'`, 'network'],
    ['hdfs', `${u}, 'LineAsString'`, 'network'],
    ['hdfsCluster', `'default', ${u}, 'LineAsString'`, 'network'],
    ['iceberg', u, 'network'],
    ['icebergS3', u, 'network'],
    ['icebergLocal', quote(dirname(t.markerFile)), 'file'],
    ['icebergAzure', u, 'network'],
    ['icebergHDFS', u, 'network'],
    ['deltaLake', u, 'network'],
    ['deltaLakeLocal', quote(dirname(t.markerFile)), 'file'],
    ['hudi', u, 'network'],
    ['paimon', u, 'network'],
    ['mysql', `${host}, 'db', 't', 'u', 'p'`, 'network'],
    ['postgresql', `${host}, 'db', 't', 'u', 'p'`, 'network'],
    ['sqlite', `${f}, 't'`, 'file'],
    ['mongodb', `${host}, 'db', 'c', 'u', 'p', 'x String'`, 'network'],
    ['redis', `${host}, 'k', 'k String'`, 'network'],
    ['odbc', `'DSN=x', 't'`, 'network'],
    ['jdbc', `'jdbc:mysql://x', 't'`, 'network'],
    ['executable', `'cat /proc/self/environ', 'LineAsString', 'x String'`, 'environment'],
    ['executablePool', `'cat /etc/passwd', 'LineAsString', 'x String'`, 'file'],
    ['input', `'x String'`, 'file'],
    ['merge', `'system', '.*'`, 'other-database'],
    ['merge', `'default', '.*'`, 'other-database'],
    ['mergeTreeIndex', `'system', 'query_log'`, 'other-database'],
    ['mergeTreeProjection', `'tidemark', 'events', 'p'`, 'other-database'],
    ['dictionary', `'d'`, 'other-database'],
    ['loop', 'system.one', 'other-database'],
    ['arrowFlight', `${host}, 'x'`, 'network'],
    ['ytsaurus', `${u}, '//x', 't', 'x String'`, 'network'],
    ['hive', `${u}, 'db', 't', 'x String', 'x'`, 'network'],
    ['prometheusQuery', `${u}, 'up'`, 'network'],
    ['timeSeriesData', `'system', 'x'`, 'other-database'],
    ['fuzzJSON', `'x', '{}'`, 'file'],
    ['fuzzQuery', `'x', 'SELECT 1'`, 'file'],
    ['eval', `'cat /etc/passwd'`, 'file'],
    // Scalar functions that read files, tables by name, dictionaries or the request.
    ['catboostEvaluate', `${f}, 1`, 'file'],
    ['dictGet', `'system.d', 'x', 1`, 'other-database'],
    ['dictGetString', `'d', 'x', toUInt64(1)`, 'other-database'],
    ['dictHas', `'d', 1`, 'other-database'],
    ['joinGet', `'system.j', 'x', 1`, 'other-database'],
    ['hasColumnInTable', `'system', 'users', 'name'`, 'other-database'],
    ['getClientHTTPHeader', `'authorization'`, 'environment'],
    ['addressToLine', '1', 'file'],
    ['filesystemAvailable', '', 'file'],
  ];
}

/** The shapes a call can stand in: as a table, a scalar, inside a subquery, a join, a DESCRIBE, an EXPLAIN. */
function placements(call: string): string[] {
  return [
    `SELECT * FROM ${call} LIMIT 5`,
    `SELECT ${call}`,
    `SELECT count() FROM (SELECT * FROM ${call})`,
    `SELECT * FROM tidemark.events AS e JOIN ${call} AS x ON 1 = 1 LIMIT 1`,
    `SELECT * FROM tidemark.events, ${call} LIMIT 1`,
    `WITH x AS (SELECT * FROM ${call}) SELECT * FROM x`,
    `DESCRIBE TABLE ${call}`,
    `EXPLAIN SELECT * FROM ${call}`,
    `SELECT 1 WHERE 1 IN (SELECT * FROM ${call})`,
    `SELECT * FROM view(SELECT * FROM ${call})`,
  ];
}

/** Every way ClickHouse reads `name` as the same identifier, and some that look the same to a person. */
export function spellings(name: string): string[] {
  const out = new Set<string>([
    name,
    name.toUpperCase(),
    name.toLowerCase(),
    mixedCase(name),
    `\`${name}\``,
    `"${name}"`,
  ]);
  // An escape for one letter at a time, and for all of them: \xNN inside backticks and double quotes.
  for (let i = 0; i < name.length; i += 1) {
    const escaped = `${name.slice(0, i)}\\x${hex(name.charCodeAt(i))}${name.slice(i + 1)}`;
    if (i < 3 || i === name.length - 1) {
      out.add(`\`${escaped}\``);
      out.add(`"${escaped}"`);
    }
  }
  out.add(`\`${[...name].map((c) => `\\x${hex(c.charCodeAt(0))}`).join('')}\``);
  // Backslash before a letter that has no escape meaning, and doubled quotes around nothing.
  out.add(`\`\\${name}\``);
  // Look-alikes: Cyrillic and fullwidth letters, a ligature, a zero-width space, a soft hyphen, a combining mark.
  out.add(lookAlike(name));
  out.add(`${name.slice(0, 1)}\u200b${name.slice(1)}`);
  out.add(`${name.slice(0, 1)}\u00ad${name.slice(1)}`);
  out.add(`${name}\u0301`);
  out.add([...name].map((c) => fullwidth(c)).join(''));
  if (name.toLowerCase().startsWith('fi')) out.add(`\ufb01${name.slice(2)}`);
  out.add(`\`${lookAlike(name)}\``);
  return [...out];
}

/** Comments and odd whitespace where spaces were, outside quotes. */
function respellings(sql: string): string[] {
  return ['/**/', '\n--x\n', '/* /* nested */ */ ', '\t', '\u00a0', '\u2028', '\u3000'].map((space) =>
    mapOutsideQuotes(sql, (ch) => (ch === ' ' ? space : ch)),
  );
}

/** The whole corpus. */
export function hostileSqlCorpus(t: CorpusTarget): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const add = (sql: string, goal: Goal, params?: Record<string, unknown>) =>
    cases.push({
      sql,
      goal,
      ...(params ? { params } : {}),
      ...(/^SELECT\s+file\(|\bOUTFILE\b/i.test(sql) ? { ungranted: true as const } : {}),
    });

  for (const [name, args, goal] of reachingCalls(t)) {
    for (const spelled of spellings(name)) add(`SELECT * FROM ${spelled}(${args}) LIMIT 5`, goal);
    for (const sql of placements(`${name}(${args})`)) add(sql, goal);
    for (const sql of respellings(`SELECT * FROM ${name}(${args})`)) add(sql, goal);
  }

  // Other databases, and the system tables that describe the server.
  const systemTables = ['one', 'tables', 'users', 'query_log', 'processes', 'settings', 'server_settings'];
  for (const db of ['system', 'information_schema', 'INFORMATION_SCHEMA', 'default']) {
    for (const spelled of spellings(db)) {
      for (const table of db === 'system' ? systemTables : ['tables']) {
        add(`SELECT * FROM ${spelled}.${table} LIMIT 5`, 'other-database');
      }
    }
    add(`SHOW TABLES FROM ${db}`, 'other-database');
    add(`SHOW TABLES IN \`${db}\``, 'other-database');
    add(`SHOW CREATE TABLE ${db}.tables`, 'other-database');
    add(`EXISTS TABLE ${db}.tables`, 'other-database');
    add(`DESCRIBE TABLE ${db}.tables`, 'other-database');
    add(`SELECT count() FROM tidemark.events WHERE 1 IN (SELECT 1 FROM ${db}.tables)`, 'other-database');
    add(`SELECT 1 FROM tidemark.events UNION ALL SELECT 1 FROM ${db}.tables`, 'other-database');
    add(`SELECT * FROM tidemark.events JOIN ${db}.tables USING (name) LIMIT 1`, 'other-database');
    add(`SELECT 1 IN ${db}.one`, 'other-database');
  }
  for (const sql of respellings('SELECT * FROM system . users')) add(sql, 'other-database');
  // A table named by a parameter the check cannot read.
  add('SELECT * FROM {t:Identifier}', 'other-database', { t: 'system.users' });
  add('SELECT * FROM {db:Identifier}.{t:Identifier}', 'other-database', { db: 'system', t: 'users' });
  add('SELECT count() FROM tidemark.{t:Identifier}', 'other-database', { t: 'x' });

  // Settings that lift a limit or the read-only guard, in every spelling.
  const lifted: [string, string][] = [
    ['readonly', '0'],
    ['max_result_rows', '0'],
    ['result_overflow_mode', "'break'"],
    ['max_execution_time', '0'],
    ['timeout_overflow_mode', "'break'"],
    ['max_rows_to_read', '0'],
    ['read_overflow_mode', "'break'"],
    ['allow_ddl', '1'],
    ['allow_introspection_functions', '1'],
    ['allow_experimental_eval_table_function', '1'],
    ['allow_get_client_http_header', '1'],
    ['max_memory_usage', '0'],
    ['max_threads', '1000'],
    ['log_queries', '0'],
    ['http_make_head_request', '1'],
  ];
  for (const [name, value] of lifted) {
    for (const spelled of spellings(name).slice(0, 12)) {
      add(`SELECT number FROM numbers(100) SETTINGS ${spelled} = ${value}`, 'limit');
    }
    add(`SELECT * FROM (SELECT number FROM numbers(100) SETTINGS ${name} = ${value})`, 'limit');
    add(`EXPLAIN PIPELINE SELECT 1 SETTINGS ${name} = ${value}`, 'limit');
    add(`SET ${name} = ${value}`, 'limit');
  }

  // Writes, DDL, access management and server commands.
  const writes = [
    `INSERT INTO tidemark.events (project_id) VALUES ('x')`,
    `INSERT INTO FUNCTION file(${quote(t.outFile)}, 'TSV') SELECT 1`,
    `INSERT INTO FUNCTION url(${quote(t.url)}, 'TSV') SELECT 1`,
    'ALTER TABLE tidemark.events DELETE WHERE 1',
    'DELETE FROM tidemark.events WHERE 1',
    "UPDATE tidemark.events SET path = 'x' WHERE 1",
    'DROP TABLE tidemark.events',
    'TRUNCATE TABLE tidemark.events',
    'CREATE TABLE tidemark.x (a Int8) ENGINE = Memory',
    `CREATE TABLE tidemark.x (a String) ENGINE = File(LineAsString, ${quote(t.markerFile)})`,
    `CREATE TABLE tidemark.x (a String) ENGINE = URL(${quote(t.url)}, LineAsString)`,
    `CREATE DICTIONARY tidemark.d (a String) PRIMARY KEY a SOURCE(FILE(path ${quote(t.markerFile)} format 'LineAsString')) LAYOUT(FLAT()) LIFETIME(0)`,
    `CREATE DICTIONARY tidemark.d (a String) PRIMARY KEY a SOURCE(HTTP(url ${quote(t.url)} format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)`,
    `CREATE DICTIONARY tidemark.d (a String) PRIMARY KEY a SOURCE(EXECUTABLE(command 'cat /proc/self/environ' format 'TSV')) LAYOUT(FLAT()) LIFETIME(0)`,
    "CREATE DICTIONARY tidemark.d (a String) PRIMARY KEY a SOURCE(CLICKHOUSE(table 'users' db 'system')) LAYOUT(FLAT()) LIFETIME(0)",
    "CREATE USER eve IDENTIFIED BY 'x'",
    'GRANT ALL ON *.* TO default',
    'GRANT SELECT ON system.* TO default',
    'REVOKE SELECT ON tidemark.* FROM default',
    'RENAME TABLE tidemark.events TO tidemark.gone',
    'OPTIMIZE TABLE tidemark.events FINAL',
    'SYSTEM SHUTDOWN',
    'SYSTEM RELOAD CONFIG',
    'KILL QUERY WHERE 1',
    'USE system',
    'DETACH TABLE tidemark.events',
    `BACKUP TABLE tidemark.events TO File(${quote(t.outFile)})`,
    `SELECT 1 INTO OUTFILE ${quote(t.outFile)}`,
    `SELECT 1 INTO OUTFILE ${quote(t.outFile)} TRUNCATE`,
    `SELECT 1 INTO OUTFILE ${quote(t.outFile)} AND STDOUT`,
    'EXPLAIN SYNTAX DROP TABLE tidemark.events',
    'WITH x AS (SELECT 1) INSERT INTO tidemark.events SELECT * FROM x',
    '(INSERT INTO tidemark.events VALUES (1))',
  ];
  for (const sql of writes) {
    add(sql, 'write');
    for (const spelled of respellings(sql).slice(0, 3)) add(spelled, 'write');
    add(mixedCase(sql), 'write');
  }

  // More than one statement, in every way a second one can hide.
  const second = [
    `SELECT * FROM file(${quote(t.markerFile)}, 'LineAsString')`,
    'DROP TABLE tidemark.events',
    'SELECT * FROM system.users',
  ];
  for (const tail of second) {
    add(`SELECT 1; ${tail}`, 'statements');
    add(`SELECT 1 ;${tail}`, 'statements');
    add(`SELECT ';' ; ${tail}`, 'statements');
    add(`SELECT 'it\\'s'; ${tail}`, 'statements');
    add(`SELECT 1 /* ; */ ; ${tail}`, 'statements');
    add(`SELECT 1 -- x\n; ${tail}`, 'statements');
    add(`SELECT \`a;b\` FROM tidemark.events; ${tail}`, 'statements');
    add(`SELECT 1\u037e ${tail}`, 'statements');
    add(`SELECT 1\uff1b ${tail}`, 'statements');
  }

  // FORMAT clauses: the API answers JSON, and some formats write or read files.
  for (const format of ['CSV', 'JSON', 'Native', 'Template', 'CapnProto', 'Protobuf', 'Null']) {
    for (const spelled of [format, `\`${format}\``, format.toLowerCase()]) {
      add(`SELECT * FROM tidemark.events FORMAT ${spelled}`, 'format');
    }
  }
  add(`SELECT 1 FORMAT Template SETTINGS format_template_resultset = ${quote(t.markerFile)}`, 'format');
  add(`SELECT 1 FORMAT CustomSeparated SETTINGS format_schema = ${quote(t.markerFile)}`, 'format');

  // Shapes the check cannot read: heredocs, # comments, unterminated quotes and comments.
  for (const sql of [
    `SELECT $$x$$, * FROM file(${quote(t.markerFile)}, 'LineAsString')`,
    `SELECT $tag$x$tag$`,
    `SELECT 1 # ; SELECT * FROM system.users`,
    "SELECT 'unterminated",
    'SELECT `unterminated',
    'SELECT 1 /* unterminated',
  ]) {
    add(sql, 'statements');
  }
  return cases;
}

function quote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

function dirname(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

function hex(code: number): string {
  return code.toString(16).padStart(2, '0');
}

function mixedCase(text: string): string {
  return [...text].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join('');
}

const cyrillic: Record<string, string> = {
  a: '\u0430',
  c: '\u0441',
  e: '\u0435',
  i: '\u0456',
  o: '\u043e',
  p: '\u0440',
  s: '\u0455',
  x: '\u0445',
  y: '\u0443',
};

function lookAlike(name: string): string {
  const at = [...name].findIndex((c) => cyrillic[c.toLowerCase()] !== undefined);
  if (at === -1) return `${name}\u0301`;
  return name.slice(0, at) + cyrillic[(name[at] as string).toLowerCase()] + name.slice(at + 1);
}

function fullwidth(c: string): string {
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f ? String.fromCharCode(code + 0xfee0) : c;
}
