import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gateway, loadConfig, startGateway } from '@tidemark/gateway';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { watchArrivals } from '../scripts/arrivals.js';

// What `pnpm start` prints while it runs (scripts/arrivals.ts), against an embedded gateway and its chDB: a line
// per new visitor, and for visitors already seen one line per period (a minute under pnpm start; shortened here).
const desktopChrome =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let dir: string;
let gateway: Gateway;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-arrivals-'));
  gateway = await startGateway(
    loadConfig({ TIDEMARK_CHDB_PATH: dir, TIDEMARK_PORT: '0', TIDEMARK_LOG_LEVEL: 'silent' }),
  );
});

afterAll(async () => {
  await gateway?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function send(
  anonymousId: string,
  events: { type: string; event?: string }[],
  userAgent = desktopChrome,
) {
  const response = await fetch(`${gateway.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({
      writeKey: 'demo-write-key',
      batch: events.map((e) => ({
        ...e,
        anonymousId,
        context: { page: { url: 'http://shop/p', path: '/p' } },
      })),
    }),
  });
  expect(response.status).toBe(200);
}

it('reports each new visitor once, bots as bots, and what visitors already seen sent once per period', async () => {
  const { clickhouse } = gateway;
  if (!clickhouse) throw new Error('the embedded gateway has no ClickHouse client');
  // Stored before the watch starts (an earlier run's data directory): seen, never reported as new.
  await send('earlier', [{ type: 'page' }]);
  const lines: string[] = [];
  const watch = watchArrivals(clickhouse, {
    print: (line) => lines.push(line),
    pollMs: 100,
    summaryMs: 3000,
  });
  try {
    await send('ada', [{ type: 'page' }, { type: 'track', event: 'Signed Up' }]);
    await send('crawler', [{ type: 'track', event: 'Crawl' }], 'curl/8.5.0');
    await eventually(async () => (lines.length >= 2 ? true : undefined), {
      what: `two new-visitor lines; printed: ${lines.join(' | ')}`,
    });
    await send('ada', [{ type: 'track', event: 'Again' }]);
    await send('earlier', [{ type: 'page' }, { type: 'page' }]);
    await eventually(async () => (lines.length >= 3 ? true : undefined), {
      what: `the period's line; printed: ${lines.join(' | ')}`,
    });
  } finally {
    await watch.stop();
  }
  const text = lines.map((line) => line.replace(/^\d\d:\d\d:\d\d {2}/, ''));
  expect(text).toEqual([
    'new visitor, Chrome on Linux (desktop), /p: 2 events (1 page view, 1 track)',
    'new visitor, unknown browser (desktop), /p: 1 event (1 track); flagged as a bot (ua:curl): stored, left out of the dashboard',
    '3 events (1 track, 2 page views) from 2 visitors seen before',
  ]);
});
