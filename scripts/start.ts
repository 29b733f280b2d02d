// `pnpm start`: Tidemark in embedded mode — the gateway and the ClickHouse engine (chDB) in this one process, no
// Kafka, no Docker — plus the vanilla example page to click on, and a read-only SQL endpoint on loopback to look
// at the stored rows.
//
// The console is for a person: the banner, then a line per new visitor and a line a minute for the rest
// (arrivals.ts). `pnpm start --verbose`, or TIDEMARK_LOG_LEVEL, turns the gateway's JSON logs on after the
// banner. `pnpm start --demo` (or TIDEMARK_DEMO=1) runs on a store of its own filled with a month of generated
// traffic (demo.ts), and makes an admin token for the run when none is set, so the dashboard has something to show.
// package.json runs this file with `exec node --import tsx`: one process under pnpm, with the loader in
// it (tsx's command line would run it as a child that it force-kills on a repeated signal), and no shell left
// between pnpm and Node, which pnpm would see die of the terminal's SIGINT and report as a failed command.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatTable } from '@tidemark/cli/table';
import { serveSite, vanillaRoot } from '@tidemark/example-vanilla/serve';
import { createReader, hasAdminToken, loadConfig, type Reader, startGateway } from '@tidemark/gateway';
import { watchArrivals } from './arrivals.js';
import { type DemoStore, fillDemo, isDemo, openDemoStore } from './demo.js';

const sqlPort = Number(process.env.TIDEMARK_SQL_PORT ?? 8123);
const sitePort = Number(process.env.TIDEMARK_SITE_PORT ?? 8080);
const verbose = process.argv.includes('--verbose') || process.env.TIDEMARK_LOG_LEVEL !== undefined;

// The demo's environment: its own chDB directory in place of any store the environment names (a ClickHouse server
// included), and an admin token made for this run unless one is set.
const demo: DemoStore | undefined = isDemo(process.argv, process.env)
  ? await openDemoStore(process.env)
  : undefined;
const demoToken =
  demo && process.env.TIDEMARK_ADMIN_TOKEN === undefined ? randomBytes(18).toString('base64url') : undefined;
const env: NodeJS.ProcessEnv = { TIDEMARK_MODE: 'embedded', ...process.env };
if (demo) {
  for (const name of Object.keys(env)) if (/CLICKHOUSE_URL$/.test(name)) delete env[name];
  env.TIDEMARK_CHDB_PATH = demo.chdbPath;
  if (demoToken) env.TIDEMARK_ADMIN_TOKEN = demoToken;
}
// The gateway starts logging errors only, so that nothing (the expected "no write keys configured" warning, the
// start-up lines) comes before the banner; `--verbose` raises the level after it. The level is checked here, once.
const logLevel = loadConfig(env).logLevel;
const config = loadConfig({ ...env, TIDEMARK_LOG_LEVEL: 'error' });
if (config.mode !== 'embedded') {
  throw new Error(
    'pnpm start runs the embedded mode; start gateway/ and sink/ on their own for distributed mode',
  );
}
const gateway = await startGateway(config);
// Embedded mode always opens its ClickHouse in this process; the SQL endpoint below reads through it.
const { clickhouse } = gateway;
if (clickhouse === undefined) {
  await gateway.close();
  throw new Error('the embedded gateway started without its ClickHouse client; nothing to read rows from');
}
if (demo) {
  console.log(`\n  Filling the demo store (${demo.chdbPath}) with a month of generated traffic…`);
  const started = performance.now();
  const filled = await fillDemo(clickhouse, {
    onChunk: (stored) => console.log(`  ${stored.toLocaleString('en-US')} events`),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(
    filled
      ? `  ${filled.events.toLocaleString('en-US')} events in ${filled.sessions.toLocaleString('en-US')} sessions over the last 30 days, ${seconds} s`
      : '  The demo store already holds the project "demo"; kept as it is.',
  );
}
const writeKey = config.projects[0]?.writeKeys[0] ?? 'demo-write-key';
const site = await serveSite({ root: vanillaRoot, gatewayUrl: gateway.url, writeKey, port: sitePort });
// The SQL endpoint takes the admin token when there is one, else a token made for this run and printed below:
// any process on this machine, and any web page its user opens, can reach a loopback port.
const sqlToken = config.read.adminToken ?? randomBytes(18).toString('base64url');
// A token from the environment is never printed: the lines refer to the variable it came from. The demo's, made
// for this run, is printed, as the SQL endpoint's is.
const bearer = demoToken ?? (config.read.adminToken ? '$TIDEMARK_ADMIN_TOKEN' : sqlToken);
const sqlAuth = bearer.startsWith('$')
  ? `-H "Authorization: Bearer ${bearer}"`
  : `-H 'Authorization: Bearer ${bearer}'`;
const sql = await serveSql(sqlPort, sqlToken, createReader(clickhouse, config.read));
const sqlCurl = `curl -s '${sql.url}?format=table' ${sqlAuth} --data-binary`;
const readApiLine = config.read.adminToken
  ? `  Read API (admin token):             curl -s ${gateway.url}/v1/sql ${sqlAuth} -H 'content-type: text/plain' --data-binary 'SELECT count() FROM events'\n` +
    `  SQL console (read API):             npx tidemark sql${gateway.url === 'http://127.0.0.1:8787' ? '' : ` --url ${gateway.url}`}\n` +
    `  Live dashboard (admin token):       ${gateway.url}/dashboard${demoToken ? `  (token for this demo run: ${demoToken})` : ''}\n`
  : '  Read API and dashboard:             off; set TIDEMARK_ADMIN_TOKEN to serve /v1/sql, /v1/queries and /dashboard\n';

console.log(`
  Tidemark is running in embedded mode (gateway + ClickHouse engine in this process).

  Open the example page and click:   ${site.url}
  Gateway (Segment HTTP API):         ${gateway.url}/v1/batch
${config.demoProject ? `  Write key:                          ${writeKey} (project "demo"; TIDEMARK_WRITE_KEYS sets your own)\n` : ''}  Stored rows (read-only SQL):        ${sqlCurl} 'SELECT received_at, type, event, path FROM tidemark.events ORDER BY received_at DESC LIMIT 10'
${readApiLine}
  Headless browsers (Playwright, Puppeteer) and bots are stored but left out of the dashboard and the ready
  queries. To see them:               ${sqlCurl} 'SELECT bot_reason, count() FROM tidemark.events WHERE notEmpty(bot_reason) GROUP BY bot_reason'

  ${demo ? `Demo data lives in ${demo.chdbPath}${process.env.TIDEMARK_DEMO_PATH ? '' : ', removed on exit'}; your own store is not opened` : `Data lives in ${config.clickhouse.url ?? config.clickhouse.chdbPath}`}. Ctrl-C stops.${verbose ? '' : ' --verbose prints the JSON logs.'}
`);
if (verbose) gateway.app.log.level = logLevel;
const arrivals = watchArrivals(clickhouse, { print: (line) => console.log(`  ${line}`) });

/**
 * A loopback-only HTTP endpoint that runs one read-only statement (the request body) and answers JSON lines, or
 * with `?format=table` a text table and its row count (`0 rows` rather than nothing for an empty result).
 * chDB binds its data directory to this process, so the rows can only be read from in here. Query parameters
 * come as `param_<name>` URL parameters, as ClickHouse's HTTP interface takes them, so the files of queries/
 * (which start with a comment header) run here unchanged. Each request needs the token as a Bearer token, and
 * one a browser sends on behalf of a page (it carries an Origin) is refused: a `text/plain` POST from any site
 * needs no CORS preflight. The statement goes through the read API's reader (its check and limits).
 */
async function serveSql(
  port: number,
  token: string,
  reader: Reader,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const refuse = (status: number, message: string) =>
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`${message}\n`);
    if (req.headers.origin !== undefined) {
      refuse(
        403,
        'Requests from web pages are refused: this endpoint is for curl and scripts on this machine.',
      );
      req.resume();
      return;
    }
    if (!hasAdminToken(req, token)) {
      res.setHeader('www-authenticate', 'Bearer realm="tidemark-sql"');
      refuse(401, 'Send the token pnpm start printed: -H "Authorization: Bearer <token>".');
      req.resume();
      return;
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const statement = body || url.searchParams.get('query') || '';
    const params = Object.fromEntries(
      [...url.searchParams]
        .filter(([key]) => key.startsWith('param_'))
        .map(([key, value]) => [key.slice(6), value]),
    );
    try {
      const { columns, rows } = await reader.statement(statement, params);
      if (url.searchParams.get('format') === 'table') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${formatTable({ columns, rows })}${rows.length} ${rows.length === 1 ? 'row' : 'rows'}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(
        rows
          .map((row) => `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, row[i]])))}\n`)
          .join(''),
      );
    } catch (error) {
      refuse(400, (error as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** When the first stop signal came; 0 while running. */
let closing = 0;
async function shutdown(signal: string) {
  if (closing) {
    // A Ctrl-C reaches both pnpm and this process, and pnpm relays it once more: a repeat within a moment is that
    // echo. One later is a person pressing again because the close hangs, and gets an immediate exit.
    if (Date.now() - closing > 2000) {
      console.log(`${signal} again: exiting without waiting`);
      process.exit(130);
    }
    return;
  }
  closing = Date.now();
  console.log(`\n${signal}: closing`);
  await Promise.all([site.close(), sql.close(), arrivals.stop()]);
  await gateway.close();
  await demo?.dispose();
  console.log('Tidemark stopped.');
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
