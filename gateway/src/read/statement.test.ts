import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.js';
import { checkStatement } from './statement.js';

function refusal(sql: string): string {
  try {
    checkStatement(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('invalid_query');
    return (error as GatewayError).message;
  }
  throw new Error(`expected a refusal of ${sql}`);
}

describe('checkStatement', () => {
  it('passes read statements on, without trailing semicolons', () => {
    expect(checkStatement('SELECT 1;;  ')).toBe('SELECT 1');
    expect(checkStatement('  with x AS (SELECT 1) SELECT * FROM x')).toBe(
      'with x AS (SELECT 1) SELECT * FROM x',
    );
    expect(checkStatement('(SELECT 1) UNION ALL (SELECT 2)')).toBe('(SELECT 1) UNION ALL (SELECT 2)');
    for (const sql of [
      'DESC events',
      'SHOW CREATE TABLE events',
      'SHOW COLUMNS FROM events',
      'EXISTS events',
    ]) {
      expect(checkStatement(sql)).toBe(sql);
    }
  });

  it('ignores what strings and comments hold: only code is checked', () => {
    const sql = `SELECT count() FROM events -- ; DROP TABLE events, file('x')
      WHERE path = 'file(''/etc'')' /* ; INSERT */ AND title != "url"`;
    expect(checkStatement(sql)).toBe(sql.trim());
    expect(checkStatement("SELECT 'a\\';b' AS s")).toBe("SELECT 'a\\';b' AS s");
  });

  it('keeps functions and columns that only look like refused names', () => {
    const sql =
      "SELECT URLHierarchy(url), format, formatDateTime(timestamp, '%F'), system_name FROM events SETTINGS join_use_nulls = 1";
    expect(checkStatement(sql)).toBe(sql);
    expect(checkStatement('SELECT format FROM events')).toBe('SELECT format FROM events');
  });

  it('refuses a statement a string would hide from a naive check', () => {
    // Backslash-escaped quote: the string runs on past the first ', as ClickHouse reads it.
    expect(refusal("SELECT 'it\\'s'; DROP TABLE events")).toMatch(/one statement/);
    expect(refusal('SELECT 1 /* never closed')).toMatch(/Unterminated/);
    expect(refusal('SELECT 1 # note')).toMatch(/Use -- for comments/);
  });

  it('refuses table functions in any case and quoting, and other databases', () => {
    for (const sql of [
      "SELECT * FROM FILE('/etc/passwd')",
      "SELECT * FROM `url`('http://x')",
      "SELECT * FROM s3Cluster('c', 'https://x')",
      "SELECT * FROM postgresql('h:5432', 'db', 't', 'u', 'p')",
      "SELECT * FROM merge('system', '.*')",
      "SELECT * FROM icebergS3('https://x')",
    ]) {
      expect(refusal(sql), sql).toMatch(/reads outside the analytics database/);
    }
    expect(refusal('SELECT * FROM INFORMATION_SCHEMA.tables')).toMatch(/Only the tidemark database/);
    expect(refusal('SELECT * FROM "system"."users"')).toMatch(/Only the tidemark database/);
  });

  it("serves the analytics database's parameterized views, in the quoted form ClickHouse prints them", () => {
    const call = "SELECT count() FROM `tidemark.session_rows`(project = 'p', host = '')";
    expect(checkStatement(call)).toBe(call);
    expect(checkStatement("SELECT * FROM tidemark.page_rows(project = 'p')")).toBe(
      "SELECT * FROM tidemark.page_rows(project = 'p')",
    );
    for (const sql of [
      'SELECT * FROM `system.users`(x = 1)',
      "SELECT * FROM `tidemark.fi\\x6ce`('/etc/passwd')",
      'SELECT * FROM `tidemark.session_rows.x`(x = 1)',
      'SELECT `tidemark.session_rows`(1)',
    ]) {
      expect(refusal(sql), sql).toMatch(/in quotes is not served|Only the tidemark database|reads outside/);
    }
  });

  it('refuses SETTINGS that would lift a limit, wherever the clause is', () => {
    for (const setting of [
      'max_rows_to_read',
      'result_overflow_mode',
      'timeout_overflow_mode',
      'allow_ddl',
      'readonly',
    ]) {
      const sql = `SELECT * FROM (SELECT 1 SETTINGS ${setting} = 0) SETTINGS join_use_nulls = 1`;
      expect(refusal(sql), setting).toContain(`SETTINGS ${setting}`);
    }
  });
});
