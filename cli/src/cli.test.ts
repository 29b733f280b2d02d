import { createServer } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestTidemark, type TestTidemark } from './gateway.fixture.js';
import { runCli } from './spawn.fixture.js';

// The CLI as users run it: a child process talking HTTP to a real embedded gateway (chDB in this test's own
// process and directory) that holds the ready queries' test dataset.

let tidemark: TestTidemark;
let env: Record<string, string>;

beforeAll(async () => {
  tidemark = await startTestTidemark();
  env = { TIDEMARK_URL: tidemark.url, TIDEMARK_ADMIN_TOKEN: ADMIN_TOKEN };
});

afterAll(async () => {
  await tidemark?.close();
});

it('runs one statement and prints an aligned table, with the row count and time on stderr', {
  timeout: 30_000,
}, async () => {
  const run = await runCli(
    [
      'sql',
      "SELECT path, uniqExact(anonymous_id) AS visitors FROM events FINAL WHERE project_id = 'shop' " +
        "AND event = '$pageview' AND bot_reason = '' GROUP BY path ORDER BY visitors DESC, path LIMIT 3",
    ],
    env,
  );
  expect(run).toMatchObject({
    code: 0,
    stdout:
      'path     │ visitors\n─────────┼─────────\n/        │        8\n/pricing │        5\n/blog    │        2\n',
  });
  expect(run.stderr).toMatch(/^3 rows in \d+\.\d ms\n$/);
});

it('runs a ready query with its parameters, relative times and an array parameter', {
  timeout: 30_000,
}, async () => {
  const run = await runCli(
    [
      'query',
      'funnel',
      '--project',
      'shop',
      '--from',
      '20d',
      '--to=today',
      '--steps',
      '/pricing',
      '--steps',
      'Signup Started',
      '--window',
      '3600',
      '--format',
      'csv',
    ],
    { ...env, TIDEMARK_NOW: '2026-03-22T18:00:00Z' },
  );
  expect(run.stderr).toBe('');
  expect(run).toMatchObject({
    code: 0,
    stdout:
      'step,name,visitors,conversion,step_conversion\r\n1,/pricing,5,1,1\r\n2,Signup Started,3,0.6,0.6\r\n',
  });
});

it('prints JSON with 64-bit integers as strings', { timeout: 30_000 }, async () => {
  const run = await runCli(['sql', 'SELECT toUInt64(18446744073709551615) AS big', '--format', 'json'], env);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual([{ big: '18446744073709551615' }]);
});

it("reports the API's error code and message and exits 1 for a refused statement", {
  timeout: 30_000,
}, async () => {
  const refused = await runCli(['sql', 'DROP TABLE events'], env);
  expect(refused.code).toBe(1);
  expect(refused.stdout).toBe('');
  expect(refused.stderr).toMatch(/^tidemark: invalid_query \(HTTP 400\): .*DROP/);

  const failed = await runCli(['sql', 'SELECT nope FROM events'], env);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toMatch(
    /^tidemark: query_failed \(HTTP 400\): .*\[ClickHouse UNKNOWN_IDENTIFIER, code 47\]/,
  );

  const param = await runCli(['query', 'top_pages', '--project', 'shop'], env);
  expect(param.code).toBe(1);
  expect(param.stderr).toMatch(/^tidemark: invalid_param \(HTTP 400\): /);
});

it('exits 2 with a hint for a wrong token, a missing token, a closed port and a bad command line', {
  timeout: 30_000,
}, async () => {
  const wrong = await runCli(['sql', 'SELECT 1'], { ...env, TIDEMARK_ADMIN_TOKEN: 'not-the-admin-token' });
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/^tidemark: invalid_admin_token \(HTTP 401\)/);

  const missing = await runCli(['sql', 'SELECT 1'], { TIDEMARK_URL: tidemark.url });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/^tidemark: no admin token: set TIDEMARK_ADMIN_TOKEN/);

  const closed = await runCli(['sql', 'SELECT 1'], {
    ...env,
    TIDEMARK_URL: `http://127.0.0.1:${await closedPort()}`,
  });
  expect(closed.code).toBe(2);
  expect(closed.stderr).toContain('ECONNREFUSED');
  expect(closed.stderr).toContain('Is Tidemark running?');

  const usage = await runCli(['sql', 'SELECT 1', '--format', 'xml'], env);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/^tidemark: --format takes one of table, json, csv/);
  expect(usage.stderr).toContain('Usage:');
});

it('runs statements fed to the prompt, across lines, until \\q, and keeps going after an error', {
  timeout: 30_000,
}, async () => {
  const input = [
    "SELECT count() AS pageviews FROM events FINAL WHERE project_id = 'shop'",
    "  AND event = '$pageview' AND bot_reason = '';",
    '',
    'SELEC 1;',
    '\\format csv',
    'SELECT 1 AS one, 2 AS two;',
    '\\q',
    'SELECT 3;',
  ].join('\n');
  const run = await runCli(['sql'], env, `${input}\n`);
  // No prompt or banner when stdin is not a terminal: only the results.
  expect(run.stdout).toBe('pageviews\n─────────\n       24\none,two\r\n1,2\r\n');
  expect(run.stderr).toMatch(/^1 row in [\d.]+ ms\ntidemark: invalid_query \(HTTP 400\): .*SELEC\.\n$/);
  // A statement failed on the way: a script should know.
  expect(run.code).toBe(1);
});

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

it('lists the ready queries with the parameters each needs, the common filters said once', {
  timeout: 30_000,
}, async () => {
  const run = await runCli(['queries'], env);
  expect(run.code).toBe(0);
  const lines = run.stdout.split('\n');
  expect(lines[0]).toMatch(/^name +│ parameters$/);
  expect(lines).toContain('funnel             │ --project --from --to --steps --window [--count_by person]');
  // Cut to the table's cell width, as a terminal would show it.
  expect(lines).toContainEqual(
    expect.stringMatching(/^retention {10}│ --project --from --to --interval \[--count_by person\] /),
  );
  expect(run.stderr).toBe(
    'Every query but person_events also takes --host, --country, --device_type, --filter; left out, they do not filter.\n',
  );
});

it('prints the usage on --help (exit 0) and without a command (stderr, exit 2)', {
  timeout: 30_000,
}, async () => {
  const help = await runCli(['--help'], {});
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage:\n {2}tidemark sql "SELECT …"/);
  const none = await runCli([], {});
  expect(none.code).toBe(2);
  expect(none.stdout).toBe('');
  expect(none.stderr).toMatch(/^tidemark: which command\?\n\nUsage:/);
});
