import type { Random } from './random.js';

/** A statement for `POST /v1/sql` and the answer it must get. */
export interface SqlCase {
  sql: string;
  /** The error code of the refusal, or 200 for a statement the API serves. */
  expect: 'invalid_query' | 'query_failed' | 'result_too_large' | 'query_timeout' | 200;
  /** For a served statement: its first cell as a string, when it is known. */
  first?: string;
}

// Statements that write or manage the server: the check refuses anything that does not start as a read.
const writes = [
  "INSERT INTO tidemark.events (project_id) VALUES ('x')",
  'INSERT INTO events SELECT * FROM events',
  "INSERT INTO FUNCTION file('/tmp/x.tsv') SELECT 1",
  'ALTER TABLE events DELETE WHERE 1',
  "ALTER TABLE events UPDATE path = 'x' WHERE 1",
  'ALTER USER default IDENTIFIED BY ?',
  'DELETE FROM events WHERE 1',
  "UPDATE events SET path = 'x' WHERE 1",
  'DROP TABLE events',
  'DROP DATABASE tidemark',
  'TRUNCATE TABLE events',
  'CREATE TABLE x (a Int8) ENGINE = Memory',
  "CREATE USER eve IDENTIFIED BY 'x'",
  'CREATE DICTIONARY d (a UInt8) PRIMARY KEY a SOURCE(FILE(path "/etc/passwd" format "TSV")) LAYOUT(FLAT()) LIFETIME(0)',
  'GRANT ALL ON *.* TO default',
  'RENAME TABLE events TO gone',
  'EXCHANGE TABLES events AND gone',
  'OPTIMIZE TABLE events FINAL',
  'SYSTEM SHUTDOWN',
  'SYSTEM DROP DNS CACHE',
  'KILL QUERY WHERE 1',
  'SET readonly = 0',
  'USE system',
  'DETACH TABLE events',
  'ATTACH TABLE events',
  "BACKUP TABLE events TO File('x')",
  'UNDROP TABLE events',
  'WATCH events',
  'EXPLAIN SYNTAX DROP TABLE events',
  '(INSERT INTO events VALUES (1))',
];

// Reads that reach outside the analytics database, second statements, tricks to hide code from the check, and
// settings that would lift a limit or the read-only guard.
const injections = [
  'SELECT 1; DROP TABLE events',
  'SELECT 1 ; INSERT INTO events SELECT * FROM events',
  'SELECT 1 /* ; */ ; DROP TABLE events',
  "SELECT ';' ; TRUNCATE TABLE events",
  "SELECT * FROM file('/etc/passwd', 'LineAsString')",
  "SELECT file('/etc/passwd')",
  "SELECT name, content FROM filesystem('/proc/self/environ')",
  "SELECT * FROM FileSystem('/etc')",
  "SELECT * FROM url('http://127.0.0.1:9/', 'LineAsString', 'x String')",
  "SELECT * FROM remote('127.0.0.1', system.one)",
  "SELECT * FROM remoteSecure('127.0.0.1', 'system', 'users')",
  "SELECT * FROM cluster('default', 'system', 'users')",
  "SELECT * FROM s3('http://127.0.0.1:9/x.csv', 'CSV', 'a String')",
  "SELECT * FROM executable('cat /etc/passwd', 'TSV', 'x String')",
  "SELECT * FROM mysql('127.0.0.1:9', 'db', 't', 'u', 'p')",
  "SELECT * FROM postgresql('127.0.0.1:9', 'db', 't', 'u', 'p')",
  "SELECT * FROM sqlite('/etc/passwd', 't')",
  "SELECT * FROM merge('system', '.*')",
  "SELECT * FROM mergeTreeIndex('tidemark', 'events')",
  "SELECT * FROM input('x String')",
  "SELECT * FROM hdfs('hdfs://127.0.0.1:9/x', 'TSV', 'a String')",
  "SELECT * FROM dictionary('d')",
  "SELECT * FROM jdbc('jdbc:x', 't')",
  "SELECT * FROM azureBlobStorage('x')",
  "SELECT * FROM icebergLocal('/etc')",
  'SELECT * FROM system.tables',
  'SELECT * FROM SYSTEM.USERS',
  'SELECT * FROM `system`.`users`',
  'SELECT * FROM "system"."query_log"',
  'SELECT * FROM system . tables',
  'SELECT * FROM system/**/.tables',
  'SELECT * FROM information_schema.tables',
  'SELECT * FROM INFORMATION_SCHEMA.COLUMNS',
  'SELECT * FROM default.x',
  'SELECT count() FROM events UNION ALL SELECT count() FROM system.parts',
  'SELECT * FROM view(SELECT * FROM system.users)',
  'EXISTS TABLE system.users',
  'SHOW TABLES FROM system',
  'SHOW CREATE TABLE system.users',
  'SHOW PROCESSLIST',
  'SHOW USERS',
  'SHOW GRANTS',
  "SHOW SETTINGS LIKE '%'",
  'SHOW ACCESS',
  "SELECT * FROM events INTO OUTFILE '/tmp/x'",
  'SELECT * FROM events FORMAT CSV',
  'SELECT * FROM events SETTINGS readonly = 0',
  'SELECT * FROM events SETTINGS max_execution_time = 0',
  "SELECT * FROM events SETTINGS max_result_rows = 0, result_overflow_mode = 'break'",
  'SELECT * FROM events SETTINGS allow_ddl = 1',
  'SELECT * FROM numbers(10) SETTINGS allow_experimental_eval_table_function = 1',
  'SELECT 1 # comment',
  'SELECT $$x$$',
  "SELECT 'unterminated",
  'SELECT 1 /* unterminated',
  'SELECT "unterminated',
  '',
  '   ',
  ';',
  'EXPLAIN DROP TABLE events',
];

// Statements that reach the engine: ClickHouse refuses them, or they run and answer as any read does. The first
// passes the check as sent and is refused once ClickHouse's parser has printed it (`INSERT INTO events WITH …`);
// the look-alike letter is refused as sent.
const engine: SqlCase[] = [
  { sql: 'WITH x AS (SELECT 1) INSERT INTO events SELECT * FROM x', expect: 'invalid_query' },
  { sql: 'SELECT * FROM no_such_table', expect: 'query_failed' },
  { sql: 'SELECT * FROM ѕystem.tables', expect: 'invalid_query' },
  { sql: 'SELECT throwIf(1)', expect: 'query_failed' },
  { sql: "SELECT * FROM generateRandom('a String') LIMIT 20000", expect: 'result_too_large' },
  { sql: "SELECT getSetting('readonly')", expect: 200, first: '2' },
  { sql: 'SELECT currentDatabase()', expect: 200, first: 'tidemark' },
  { sql: 'SELECT count() FROM tidemark.events WHERE 1 = 0 -- ; DROP TABLE events', expect: 200, first: '0' },
  { sql: 'SELECT * FROM format(JSONEachRow, \'{"a":1}\')', expect: 200 },
];

/**
 * `sql` with each character outside quotes (strings and quoted names) replaced by what `outside` makes of it;
 * inside quotes the text stays as it is.
 */
export function mapOutsideQuotes(sql: string, outside: (ch: string) => string): string {
  let out = '';
  let quote: string | undefined;
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = undefined;
      out += ch;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      quote = ch;
      out += ch;
    } else out += outside(ch);
  }
  return out;
}

/**
 * Random spellings of one statement that mean the same to ClickHouse: keyword case, and comments or newlines
 * where spaces were (never inside strings: only spaces outside quotes are replaced).
 */
function respell(sql: string, random: Random): string {
  // A statement that has comments already is left as written: a `/**/` put inside one would change where it ends.
  if (/\/\*|--|#/.test(sql)) return sql;
  return mapOutsideQuotes(sql, (ch) => {
    if (ch === ' ' && random.chance(0.3))
      return random.pick([' /* x */ ', '\n', '\t', '  ', ' --\n', '/**/']);
    return random.chance(0.3) ? (random.chance(0.5) ? ch.toUpperCase() : ch.toLowerCase()) : ch;
  });
}

/** A write statement, respelled: refused by the statement check. */
export function writeCase(random: Random): SqlCase {
  return { sql: respell(random.pick(writes), random), expect: 'invalid_query' };
}

/** An injection or an escape attempt; a few that reach the engine. */
export function injectionCase(random: Random): SqlCase {
  if (random.chance(0.1)) return random.pick(engine);
  const sql = random.pick(injections);
  // Case changes inside identifiers would change what is named (`SYSTEM` is refused; `filesystem` too).
  return { sql: random.chance(0.5) ? respell(sql, random) : sql, expect: 'invalid_query' };
}

/** Parameter values an attacker would try; bound as values, they can only ever match nothing. */
export const hostileValues = [
  "' OR 1=1 --",
  "x'); DROP TABLE events; --",
  "\\' OR \\'1\\'=\\'1",
  '{project:String}',
  '\u0000',
  "'; SELECT * FROM system.users; --",
  '%',
  '*',
  'a'.repeat(5000),
];
