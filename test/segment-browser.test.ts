import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import type { AnalyticsBrowser as Browserish } from '@segment/analytics-next';
import { build, createEmbeddedTransport, loadConfig } from '@tidemark/gateway';
import { type ClickHouse, createClickHouse, createWriter, migrate } from '@tidemark/store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.js';
import { eventually } from '../harness/eventually.js';
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from './support/recordingProxy.js';
import { eventsOf, expectEveryFieldStored, segmentRows } from './support/segmentFields.js';

// Segment's browser library, analytics.js (@segment/analytics-next from npm, its own UMD build), in Chromium on a
// page of another origin, pointed at Tidemark the way a site switches: `cdnURL` names the gateway, which serves
// the settings that make the gateway its API host. A recording proxy in front keeps what the browser sent and can
// fail a request the way a gateway under trouble would.
const writeKey = 'browser-key';
const umd = join(
  dirname(createRequire(import.meta.url).resolve('@segment/analytics-next/package.json')),
  'dist',
  'umd',
);
let dir: string;
let clickhouse: ClickHouse;
let gateway: ReturnType<typeof build>;
let proxy: RecordingProxy;
let site: Server;
let siteUrl: string;
let browser: TestBrowser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-segment-browser-'));
  clickhouse = createClickHouse({ chdbPath: join(dir, 'chdb') });
  await migrate(clickhouse);
  const config = loadConfig({
    TIDEMARK_MODE: 'embedded',
    TIDEMARK_CHDB_PATH: join(dir, 'chdb'),
    TIDEMARK_LOG_LEVEL: 'silent',
    TIDEMARK_WRITE_KEYS: `${writeKey}:browser`,
  });
  gateway = build(config, {
    transport: createEmbeddedTransport({ writer: createWriter({ clickhouse }), clickhouse }),
  });
  proxy = await startRecordingProxy(await gateway.listen({ port: 0, host: '127.0.0.1' }));
  // The site: a page that loads analytics.js, and the library's files. `localhost`, not the gateway's 127.0.0.1:
  // another origin, so every event needs CORS as on a real site.
  site = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith('/umd/')) {
      const file = normalize(join(umd, path.slice('/umd/'.length)));
      if (!file.startsWith(umd)) return void res.writeHead(403).end();
      try {
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
      } catch {
        res.writeHead(404).end();
      }
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<!doctype html><title>Shop</title><script src="/umd/index.js"></script><body>shop</body>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://localhost:${(site.address() as AddressInfo).port}`;
  browser = await launchBrowser(undefined, {
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
  await proxy?.close();
  await gateway?.close();
  await clickhouse?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the UMD build puts on `window`. */
type Umd = { AnalyticsNext: { AnalyticsBrowser: typeof Browserish } };

const PATH_TYPES: Record<string, string> = {
  t: 'track',
  p: 'page',
  i: 'identify',
  g: 'group',
  a: 'alias',
  s: 'screen',
};

/** What the browser POSTed (and the proxy forwarded) carrying `marker`, with each event's stored row compared. */
async function expectStoredOnce(marker: string, minEvents: number) {
  const forwarded = () =>
    proxy.requests.filter((r) => r.method === 'POST' && !r.failed && r.body.includes(marker));
  const sent = await eventually(
    async () => {
      const events = forwarded().flatMap((r: RecordedRequest) => {
        const letter = r.path.split('/').at(-1) ?? '';
        const { envelope, events } = eventsOf(r.body, PATH_TYPES[letter]);
        return events.map((event) => ({ event, envelope, request: r }));
      });
      return events.length >= minEvents ? events : undefined;
    },
    { timeoutMs: 30_000, what: `analytics.js to send ${minEvents} events carrying ${marker}` },
  );
  const ids = [...new Set(sent.map(({ event }) => String(event.messageId)))];
  const rows = await eventually(
    async () => {
      const found = await segmentRows(clickhouse, ids);
      return found.size === ids.length ? found : undefined;
    },
    { timeoutMs: 10_000, what: `rows for ${ids.join(', ')}` },
  );
  for (const { event, envelope } of sent) {
    expectEveryFieldStored(event, envelope, rows.get(String(event.messageId)), 'analytics-next');
  }
  const [counts] = await clickhouse.query<{ rows: string }>(
    'SELECT count() AS rows FROM tidemark.events WHERE message_id IN {ids:Array(String)}',
    { ids },
  );
  expect(Number(counts?.rows), 'each event stored once').toBe(ids.length);
  return { sent, rows };
}

it('stores track, page and identify from analytics.js once, every field, and its retry after a 503', async () => {
  const marker = `ajs-${Date.now()}`;
  // The first attempt of the track call fails; analytics.js retries it with the same messageId and X-Retry-Count,
  // which the CORS preflight has to allow or the browser blocks the retry.
  proxy.failNext((r) => r.path.endsWith('/v1/t') && r.body.includes(marker), 1, 503);
  const page = await browser.context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${siteUrl}/docs?utm_source=newsletter`);
  await page.evaluate(
    async ({ writeKey, cdnURL, marker }) => {
      const { AnalyticsBrowser } = (window as unknown as Umd).AnalyticsNext;
      const [analytics] = await AnalyticsBrowser.load({ writeKey, cdnURL });
      await analytics.identify(`user-${marker}`, { email: 'ada@example.com', plan: 'pro' });
      await analytics.page('Docs', 'Getting Started', { marker });
      // Not awaited: its first delivery fails and the retry comes later.
      void analytics.track('Order Completed', { marker, total: 42.5, items: [{ sku: 'a' }] });
    },
    { writeKey, cdnURL: proxy.url, marker },
  );
  const { sent, rows } = await expectStoredOnce(marker, 3);
  const types = [...rows.values()].map((r) => r.type).sort();
  expect(types).toEqual(['identify', 'page', 'track']);
  const track = [...rows.values()].find((r) => r.type === 'track');
  const attempts = proxy.requests.filter(
    (r) => r.method === 'POST' && r.body.includes(track?.message_id ?? '?'),
  );
  expect(attempts.map((r) => [r.failed === true, r.headers['x-retry-count'] !== undefined])).toEqual([
    [true, false],
    [false, true],
  ]);
  const pageRow = [...rows.values()].find((r) => r.type === 'page');
  expect(JSON.parse(pageRow?.properties ?? '{}')).toMatchObject({
    category: 'Docs',
    name: 'Getting Started',
  });
  expect(sent.every(({ request }) => String(request.headers.authorization).startsWith('Basic '))).toBe(true);
  // It loaded its settings from the gateway and found nothing to complain about.
  expect(proxy.requests.some((r) => r.path === `/v1/projects/${writeKey}/settings`)).toBe(true);
  expect(consoleErrors.filter((e) => !e.includes('503'))).toEqual([]);
  await page.close();
});

it('stores the batches analytics.js sends with keepalive when the page is hidden', async () => {
  const marker = `ajs-batch-${Date.now()}`;
  const page = await browser.context.newPage();
  await page.goto(`${siteUrl}/cart`);
  await page.evaluate(
    async ({ writeKey, cdnURL, marker }) => {
      const { AnalyticsBrowser } = (window as unknown as Umd).AnalyticsNext;
      const [analytics] = await AnalyticsBrowser.load(
        { writeKey, cdnURL },
        // Batches of up to 50, sent after a minute: only leaving the page sends these three.
        {
          integrations: {
            'Segment.io': {
              deliveryStrategy: { strategy: 'batching', config: { size: 50, timeout: 60_000 } },
            },
          },
        },
      );
      for (const step of [1, 2, 3]) void analytics.track('Checkout Step', { marker, step });
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
    { writeKey, cdnURL: proxy.url, marker },
  );
  expect(proxy.requests.filter((r) => r.body.includes(marker))).toEqual([]);
  // Leaving the page fires pagehide: analytics.js flushes its buffer with keepalive to /v1/b.
  await page.goto('about:blank');
  const { sent } = await expectStoredOnce(marker, 3);
  expect(new Set(sent.map(({ request }) => request.path))).toEqual(new Set(['/v1/b']));
  await page.close();
});
