import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.js';
import { eventually } from '../harness/eventually.js';

// The README's first command, as a user runs it (`npx -y pnpm@<pinned> start`, after the install the test command
// already did), then a click in Chromium.
const root = join(import.meta.dirname, '..');
const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager as string;
let child: ChildProcess;
let output = '';
let dataDir: string;
let browser: TestBrowser;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-embedded-'));
  child = spawn('npx', ['-y', pnpm, 'start'], {
    cwd: root,
    env: {
      ...process.env,
      TIDEMARK_CHDB_PATH: dataDir,
      // Free ports, so the test never collides with a Tidemark someone left running.
      TIDEMARK_PORT: '0',
      TIDEMARK_SITE_PORT: '0',
      TIDEMARK_SQL_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so Ctrl-C can be sent the way a terminal sends it: to pnpm and all it started.
    detached: true,
  });
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await eventually(async () => (output.includes('Ctrl-C stops') ? true : undefined), {
    timeoutMs: 120_000,
    what: `pnpm start to print its URLs; it printed:\n${output}`,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    interrupt();
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

function interrupt() {
  if (child.pid) process.kill(-child.pid, 'SIGINT');
}

/** The header the printed SQL line sends: the token made for this run. */
function sqlAuth(): Record<string, string> {
  const token = output.match(/-H 'Authorization: Bearer (\S+)'/)?.[1];
  if (!token) throw new Error(`pnpm start did not print the SQL endpoint's token; it printed:\n${output}`);
  return { authorization: `Bearer ${token}` };
}

/** The URL printed after `label` (for a curl line, without its query string). */
function printed(label: string): string {
  const match = output.match(new RegExp(`${label}\\s+(?:curl -s )?'?(http://[^\\s'?]+)`));
  if (!match?.[1]) throw new Error(`pnpm start did not print "${label}"; it printed:\n${output}`);
  return match[1];
}

it('stores a click from the example page and shows it through the printed SQL endpoint', async () => {
  const pageUrl = printed('Open the example page and click:');
  const sqlUrl = printed('Stored rows \\(read-only SQL\\):');

  const page = await browser.context.newPage();
  await page.goto(pageUrl);
  await page.getByRole('button', { name: 'Sign up for the newsletter' }).click();

  const rows = await eventually(
    async () => {
      const response = await fetch(sqlUrl, {
        method: 'POST',
        headers: sqlAuth(),
        body: "SELECT type, event, path, properties FROM tidemark.events WHERE event = 'Newsletter Signup'",
      });
      const lines = (await response.text()).trim().split('\n').filter(Boolean);
      return lines.length > 0 ? lines.map((line) => JSON.parse(line)) : undefined;
    },
    { what: 'the click to show up through the SQL endpoint' },
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ type: 'track', event: 'Newsletter Signup', path: '/' });
  expect(JSON.parse(rows[0].properties)).toEqual({ click: 1 });

  const refused = await fetch(sqlUrl, { method: 'POST', headers: sqlAuth(), body: 'DROP DATABASE tidemark' });
  expect(refused.status).toBe(400);
  // Loopback is no reason to read the machine's files: chDB would answer file() under readonly settings.
  const outside = await fetch(sqlUrl, {
    method: 'POST',
    headers: sqlAuth(),
    body: "SELECT * FROM file('/etc/passwd', 'LineAsString')",
  });
  expect(outside.status).toBe(400);
  expect(await outside.text()).toMatch(/file/);
});

it('answers the SQL endpoint only with the printed token, and never to a web page', async () => {
  const sqlUrl = printed('Stored rows \\(read-only SQL\\):');
  const body = 'SELECT count() FROM tidemark.events';
  const without = await fetch(sqlUrl, { method: 'POST', body });
  expect(without.status).toBe(401);
  const wrong = await fetch(sqlUrl, { method: 'POST', headers: { authorization: 'Bearer nope' }, body });
  expect(wrong.status).toBe(401);
  // What a page on any site can send without a CORS preflight: a text/plain POST, with its Origin.
  const fromPage = await fetch(sqlUrl, {
    method: 'POST',
    headers: { ...sqlAuth(), origin: 'https://example.com', 'content-type': 'text/plain' },
    body,
  });
  expect(fromPage.status).toBe(403);
  const served = await fetch(sqlUrl, { method: 'POST', headers: sqlAuth(), body });
  expect(served.status).toBe(200);
});

it('runs a file of queries/ through the printed SQL endpoint, parameters as param_<name>', async () => {
  // session_duration.sql answers one row per duration range even without sessions (headless Chromium's
  // events are flagged as a bot's and left out), so the rows prove the file and its parameters ran.
  const url = new URL(printed('Stored rows \\(read-only SQL\\):'));
  const params = { project: 'any', from: '2026-01-01 00:00:00', to: '2100-01-01 00:00:00' };
  for (const [name, value] of Object.entries({
    ...params,
    host: '',
    country: '',
    device_type: '',
    filter: '',
  })) {
    url.searchParams.set(`param_${name}`, value);
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: sqlAuth(),
    body: readFileSync(join(root, 'queries', 'session_duration.sql'), 'utf8'),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const rows = text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(rows.map((r) => r.range)).toEqual(['0-10s', '10-30s', '30-60s', '1-3m', '3-10m', '10-30m', '30m+']);
});

it('prints the banner first, no JSON logs, and uses the SDK build as it is when it is current', () => {
  const banner = output.indexOf('Tidemark is running');
  expect(banner, output).toBeGreaterThan(0);
  // pnpm's own lines (the script it runs) come first; nothing of the gateway's does.
  expect(output.slice(0, banner)).not.toMatch(/"level"|no write keys|created dist|Building the SDK/);
  expect(output).not.toMatch(/^\{"level"/m);
  expect(output).toContain('Write key:                          demo-write-key');
  expect(output).toMatch(/bots are stored but left out of the dashboard/);
});

it('says in one line that a new visitor arrived, and that a headless one is stored as a bot', async () => {
  // The click of the first test came from headless Chromium.
  const line = await eventually(async () => output.match(/^ {2}\d\d:\d\d:\d\d {2}new visitor, .*$/m)?.[0], {
    what: `a line about the new visitor; pnpm start printed:\n${output}`,
  });
  expect(line).toMatch(/Chrome.*: \d+ events? \(.*\); flagged as a bot \(ua:headless\)/);
  // The query the banner gives for bots shows it.
  const query = output.match(/To see them:\s+curl -s '(http:\/\/\S+)' .* --data-binary '([^']+)'/);
  expect(query, output).not.toBeNull();
  const response = await fetch(query?.[1] ?? '', { method: 'POST', headers: sqlAuth(), body: query?.[2] });
  const table = await response.text();
  expect(response.status, table).toBe(200);
  expect(table).toMatch(/^ua:headless\s+│\s+\d+$/m);
  expect(table).toMatch(/\n1 row\n$/);
});

it('answers a table with "0 rows" for an empty result when asked for the printed format', async () => {
  const url = new URL(printed('Stored rows \\(read-only SQL\\):'));
  url.searchParams.set('format', 'table');
  const response = await fetch(url, {
    method: 'POST',
    headers: sqlAuth(),
    body: "SELECT type, event FROM tidemark.events WHERE event = 'never sent'",
  });
  expect(response.status).toBe(200);
  expect(await response.text()).toBe('type │ event\n─────┼──────\n0 rows\n');
});

it('stops cleanly on Ctrl-C', async () => {
  // 'close' waits for every process holding the output pipes, so Tidemark itself has ended, not only npx.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  interrupt();
  const { code, signal } = await closed;
  // npm re-raises the SIGINT it forwarded once its child has exited, as a shell expects of an interrupted job.
  expect(code === 0 || signal === 'SIGINT').toBe(true);
  expect(output).toContain('SIGINT: closing');
  expect(output).toContain('Tidemark stopped.');
  expect(output).not.toMatch(/error/i);
  // pnpm's words for a script that exited non-zero or by a signal.
  expect(output).not.toMatch(/ELIFECYCLE|Command failed/);
});

it('prints the JSON logs after the banner with --verbose, and stops cleanly on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-embedded-verbose-'));
  let text = '';
  const verbose = spawn('npx', ['-y', pnpm, 'start', '--verbose'], {
    cwd: root,
    env: {
      ...process.env,
      TIDEMARK_CHDB_PATH: dir,
      TIDEMARK_PORT: '0',
      TIDEMARK_SITE_PORT: '0',
      TIDEMARK_SQL_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  verbose.stdout?.on('data', (chunk) => {
    text += chunk;
  });
  verbose.stderr?.on('data', (chunk) => {
    text += chunk;
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    verbose.once('close', (code, signal) => resolve({ code, signal })),
  );
  try {
    await eventually(async () => (text.includes('Ctrl-C stops') ? true : undefined), {
      timeoutMs: 120_000,
      what: `pnpm start --verbose to print its banner; it printed:\n${text}`,
    });
    const gateway = text.match(/Gateway \(Segment HTTP API\):\s+(http:\/\/\S+)/)?.[1] ?? '';
    const sent = await fetch(gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        writeKey: 'demo-write-key',
        batch: [{ type: 'track', event: 'Verbose', anonymousId: 'v1' }],
      }),
    });
    expect(sent.status).toBe(200);
    await eventually(async () => (/"msg":"request completed"/.test(text) ? true : undefined), {
      what: `a JSON log line for the request; it printed:\n${text}`,
    });
    expect(text.indexOf('{"level"')).toBeGreaterThan(text.indexOf('Ctrl-C stops'));
  } finally {
    if (verbose.pid) process.kill(-verbose.pid, 'SIGTERM');
  }
  const { code, signal } = await closed;
  await rm(dir, { recursive: true, force: true });
  // npx re-raises the signal it forwarded once pnpm has exited; pnpm itself reports no failure.
  expect(code === 0 || signal === 'SIGTERM', `code ${code}, signal ${signal}`).toBe(true);
  expect(text).toContain('SIGTERM: closing');
  expect(text).toContain('Tidemark stopped.');
  expect(text).not.toMatch(/ELIFECYCLE|Command failed/);
});
