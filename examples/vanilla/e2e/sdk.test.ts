import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TidemarkClient } from '@tidemark/sdk';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { launchBrowser } from '../../../harness/browser.js';
import { eventually } from '../../../harness/eventually.js';
import { type Pipeline, startPipeline } from '../../../harness/pipeline.js';
import { queuedInBrowser } from '../../../harness/rows.js';
import { type ServedSite, serveSite, vanillaRoot } from '../serve.js';

declare global {
  interface Window {
    /** The script tag's client, as the pages under test have it. */
    tidemark?: TidemarkClient;
  }
}

// What the SDK promises a site, one behaviour per test, in Debian's Chromium against the real pipeline
// (gateway → Kafka → sink → chDB). Each test has its own browser profile, so its IndexedDB starts empty.
let pipeline: Pipeline;
let site: ServedSite;

beforeAll(async () => {
  pipeline = await startPipeline(inject('kafkaBrokers'));
  site = await serveSite({ root: vanillaRoot, gatewayUrl: pipeline.gatewayUrl, writeKey: pipeline.writeKey });
});

afterAll(async () => {
  await site?.close();
  await pipeline?.stop();
});

/** A test browser whose batch requests to the gateway are recorded: the messageIds each one carried. */
async function recordingBrowser() {
  const browser = await launchBrowser();
  const batches: string[][] = [];
  browser.context.on('request', (request) => {
    if (request.url().endsWith('/v1/batch') && request.method() === 'POST') {
      batches.push(
        JSON.parse(request.postData() ?? '{}').batch?.map((event: { messageId: string }) => event.messageId),
      );
    }
  });
  return { ...browser, batches };
}

/** Rows of any events of this test's project, by name, with the columns the tests below look at. */
function rowsOf(event: string) {
  return pipeline.clickhouse.query<{
    event_id: string;
    path: string;
    url: string;
    user_id: string;
    properties: string;
  }>(
    `SELECT toString(event_id) AS event_id, path, url, user_id, properties FROM tidemark.events
      WHERE project_id = '${pipeline.projectId}' AND event = '${event}' ORDER BY timestamp, event_id`,
  );
}

/** Waits until `count` rows of `event` whose properties contain `marker` are stored, then a moment for extras. */
async function arrived(event: string, count: number, marker = '') {
  const matching = async () => (await rowsOf(event)).filter((row) => row.properties.includes(marker));
  await eventually(async () => ((await matching()).length >= count ? true : undefined), {
    what: `${count} × ${event} ${marker}`,
  });
  // Give a duplicate, if one were sent, the time to arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return matching();
}

async function trackClicks(page: Page, marker: string, count: number) {
  await page.evaluate(
    ({ marker, count }) => {
      for (let i = 0; i < count; i++) window.tidemark?.track('Tab Click', { marker, i });
    },
    { marker, count },
  );
}

/** Serves `html` as the index page of a site of its own, for `use`, and removes it after. */
async function withPage(html: string, use: (url: string) => Promise<void>) {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-page-'));
  await writeFile(join(root, 'index.html'), html);
  const one = await serveSite({ root, gatewayUrl: pipeline.gatewayUrl, writeKey: pipeline.writeKey });
  try {
    await use(one.url);
  } finally {
    await one.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** The pre-load snippet, pointed at the site that serves it. */
async function snippet(): Promise<string> {
  return (await readFile(new URL('../../../sdk/snippet/snippet.html', import.meta.url), 'utf8'))
    .replace('"https://t.example.com"', '"__TIDEMARK_HOST__"')
    .replace('"YOUR_WRITE_KEY"', '"__TIDEMARK_WRITE_KEY__"');
}

const ready = (page: Page) => page.waitForFunction(() => window.tidemark && !Array.isArray(window.tidemark));

it('sends one page view per URL change of a single-page app, never two for one change', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(new URL('?spa=1', site.url).href);
    await ready(page);
    await page.getByRole('link', { name: 'About' }).click(); // pushState /about
    await page.getByRole('link', { name: 'About' }).click(); // same URL: the app does not push
    await page.evaluate(() => history.replaceState(history.state, '', location.href)); // same URL again
    await page.goBack(); // popstate → /?spa=1
    await page.evaluate(() => {
      location.hash = 'team'; // hashchange
    });
    await page.waitForTimeout(200);
    await page.evaluate(() => window.tidemark?.flush());

    const views = (await arrived('$pageview', 4)).filter(
      (view) => view.url.includes('spa=1') || view.path === '/about',
    );
    expect(views.map((view) => view.url.replace(site.url, '/'))).toEqual([
      '/?spa=1',
      '/about',
      '/?spa=1',
      '/?spa=1#team',
    ]);
    // The title the router set for the view, not the one before it.
    const about = await pipeline.clickhouse.query<{ title: string }>(
      `SELECT title FROM tidemark.events WHERE project_id = '${pipeline.projectId}' AND type = 'page' AND path = '/about'`,
    );
    expect(about.map((row) => row.title)).toEqual(['About — Tidemark shop']);
  } finally {
    await browser.close();
  }
});

it('sends a data-tidemark-event click with its attributes, and an outbound click without breaking target=_blank', async () => {
  const browser = await launchBrowser();
  try {
    // The other site, as this closed network cannot reach it.
    await browser.context.route('https://example.org/**', (route) =>
      route.fulfill({ contentType: 'text/html', body: '<title>Kayak guide</title>' }),
    );
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await ready(page);
    await page.getByRole('button', { name: 'Talk to sales' }).click();
    const popup = page.waitForEvent('popup');
    await page.getByRole('link', { name: /Kayak guide/ }).click();
    // The link still opened its new tab, at its own URL.
    const guide = await popup;
    await guide.waitForLoadState();
    expect(guide.url()).toBe('https://example.org/kayak-guide');
    await page.evaluate(() => window.tidemark?.flush());

    const [sales] = await arrived('Contact Sales', 1);
    expect(JSON.parse(sales?.properties ?? '{}')).toEqual({ topic: 'bulk' });
    const [outbound] = await arrived('$outbound', 1);
    expect(JSON.parse(outbound?.properties ?? '{}')).toMatchObject({
      tag: 'a',
      href: 'https://example.org/kayak-guide',
      text: 'Kayak guide (another site)',
    });
  } finally {
    await browser.close();
  }
});

it('loses nothing and doubles nothing when the gateway answers 503 before 200', async () => {
  const browser = await recordingBrowser();
  try {
    let refused = 0;
    await browser.context.route(`${pipeline.gatewayUrl}/v1/batch`, async (route) => {
      if (route.request().method() === 'POST' && refused++ === 0) {
        await route.fulfill({
          status: 503,
          headers: {
            'access-control-allow-origin': '*',
            'access-control-expose-headers': 'Retry-After',
            'retry-after': '1',
            'content-type': 'application/json',
          },
          body: '{"statusCode":503,"error":"overloaded"}',
        });
      } else await route.continue();
    });
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await ready(page);
    await trackClicks(page, 'retry-503', 3);
    await page.evaluate(() => window.tidemark?.flush());

    const rows = await arrived('Tab Click', 3, 'retry-503');
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((row) => row.event_id)).size).toBe(3);
    expect(refused).toBeGreaterThanOrEqual(2);
    // The retry carried the refused events again, with the same messageIds.
    const [first, second] = browser.batches;
    expect(second).toEqual(expect.arrayContaining(first ?? []));
  } finally {
    await browser.close();
  }
});

it('lets one tab at a time send the queue two tabs share: no event is sent twice', async () => {
  const browser = await recordingBrowser();
  try {
    const [one, two] = [await browser.context.newPage(), await browser.context.newPage()];
    await Promise.all([one.goto(site.url), two.goto(site.url)]);
    await Promise.all([ready(one), ready(two)]);
    for (let round = 0; round < 5; round++) {
      await Promise.all([trackClicks(one, 'two-tabs', 4), trackClicks(two, 'two-tabs', 4)]);
      await Promise.all([
        one.evaluate(() => window.tidemark?.flush()),
        two.evaluate(() => window.tidemark?.flush()),
      ]);
    }

    const rows = await arrived('Tab Click', 40, 'two-tabs');
    expect(rows).toHaveLength(40);
    const sent = browser.batches.flat();
    expect(sent.length).toBe(new Set(sent).size);
  } finally {
    await browser.close();
  }
});

it('delivers a click made right before the tab is closed', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await ready(page);
    await trackClicks(page, 'closed-tab', 1);
    await page.close({ runBeforeUnload: true });
    expect(await arrived('Tab Click', 1, 'closed-tab')).toHaveLength(1);
  } finally {
    await browser.close();
  }
});

it('sends what a tab closed while the gateway was unreachable left behind on the next visit', async () => {
  // The next visit is a new browser on the same profile: what the closed tab stored must survive its browser
  // too, and nothing of the first browser (its routes, a keepalive request still in flight) can reach it.
  const profile = await mkdtemp(join(tmpdir(), 'tidemark-left-behind-'));
  try {
    const first = await launchBrowser(profile);
    try {
      await first.context.route(`${pipeline.gatewayUrl}/**`, (route) => route.abort('internetdisconnected'));
      const lost = await first.context.newPage();
      await lost.goto(site.url);
      await ready(lost);
      // A beacon, or a keepalive fetch (a retry whose timer fires as the page closes), outlives the page and
      // escapes routing: lose them in the page, the way a dead network does.
      await lost.evaluate(() => {
        navigator.sendBeacon = () => true;
        window.fetch = () => Promise.reject(new TypeError('Failed to fetch'));
      });
      await trackClicks(lost, 'left-behind', 2);
      await eventually(async () => ((await queuedInBrowser(lost)) >= 3 ? true : undefined));
      await lost.close({ runBeforeUnload: true });
    } finally {
      await first.close();
    }
    expect((await rowsOf('Tab Click')).filter((row) => row.properties.includes('left-behind'))).toHaveLength(
      0,
    );

    const second = await launchBrowser(profile);
    try {
      const next = await second.context.newPage();
      await next.goto(site.url);
      expect(await arrived('Tab Click', 2, 'left-behind')).toHaveLength(2);
    } finally {
      await second.close();
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
});

for (const [what, block] of [
  ['IndexedDB', 'indexedDB'],
  ['IndexedDB and localStorage', 'indexedDB,localStorage'],
] as const) {
  it(`delivers events when ${what} cannot be used`, async () => {
    const browser = await launchBrowser();
    try {
      await browser.context.addInitScript((names: string) => {
        for (const name of names.split(',')) {
          Object.defineProperty(window, name, {
            get() {
              throw new DOMException('The user denied permission to access the database.', 'SecurityError');
            },
          });
        }
      }, block);
      const page = await browser.context.newPage();
      const errors: Error[] = [];
      page.on('pageerror', (error) => errors.push(error));
      await page.goto(site.url);
      await ready(page);
      const marker = `no-${block}`;
      await trackClicks(page, marker, 2);
      await page.evaluate(() => window.tidemark?.flush());
      expect(await arrived('Tab Click', 2, marker)).toHaveLength(2);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
}

it('sends and stores nothing once the visitor opted out, across reloads, until they opt in', async () => {
  const browser = await recordingBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await ready(page);
    await page.evaluate(() => window.tidemark?.optOut());
    const before = browser.batches.length;
    await trackClicks(page, 'opted-out', 3);
    await page.reload();
    await ready(page);
    await trackClicks(page, 'opted-out', 3);
    await page.evaluate(() => window.tidemark?.flush());
    await page.waitForTimeout(1500);
    expect(browser.batches.length).toBe(before);
    expect(await queuedInBrowser(page)).toBe(0);

    await page.evaluate(() => window.tidemark?.optIn());
    await trackClicks(page, 'opted-in', 1);
    await page.evaluate(() => window.tidemark?.flush());
    expect(await arrived('Tab Click', 1, 'opted-in')).toHaveLength(1);
    expect((await rowsOf('Tab Click')).filter((row) => row.properties.includes('opted-out'))).toHaveLength(0);
  } finally {
    await browser.close();
  }
});

it('replays the calls made to the pre-load snippet in order, before the first page view', async () => {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-snippet-'));
  await writeFile(
    join(root, 'index.html'),
    `<!doctype html><html><head><title>Snippet</title>${await snippet()}
     <script>
       tidemark.identify('user-7', { plan: 'team' });
       tidemark.track('Snippet Call', { order: 1 });
       tidemark.track('Snippet Call', { order: 2 });
     </script></head><body>Snippet page</body></html>`,
  );
  const snippetSite = await serveSite({ root, gatewayUrl: pipeline.gatewayUrl, writeKey: pipeline.writeKey });
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(snippetSite.url);
    await ready(page);
    await page.evaluate(() => window.tidemark?.flush());

    const calls = await arrived('Snippet Call', 2);
    expect(calls.map((row) => JSON.parse(row.properties).order)).toEqual([1, 2]);
    expect(calls.map((row) => row.user_id)).toEqual(['user-7', 'user-7']);
    const [view] = (await arrived('$pageview', 1)).filter((row) => row.url === snippetSite.url);
    expect(view?.user_id).toBe('user-7');
  } finally {
    await browser.close();
    await snippetSite.close();
    await rm(root, { recursive: true, force: true });
  }
});

it('stores a call made to the pre-load snippet with the time of the call, not of its replay', async () => {
  const html = `<!doctype html><html><head><title>Snippet clock</title>${await snippet()}
     <script>
       window.calledAt = Date.now();
       tidemark.track('Early Call', { marker: 'snippet-clock' });
       window.returnedAt = Date.now();
     </script></head><body>Snippet clock</body></html>`;
  await withPage(html, async (url) => {
    const browser = await launchBrowser();
    try {
      // The SDK arrives 1.5 s after the call, as on a slow network.
      await browser.context.route('**/tidemark.min.js', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await route.continue();
      });
      const page = await browser.context.newPage();
      await page.goto(url);
      await ready(page);
      const replayedAt = await page.evaluate(() => Date.now());
      const { calledAt, returnedAt } = await page.evaluate(() => {
        const { calledAt, returnedAt } = window as unknown as { calledAt: number; returnedAt: number };
        return { calledAt, returnedAt };
      });
      expect(replayedAt - returnedAt).toBeGreaterThan(1000);
      await page.evaluate(() => window.tidemark?.flush());

      await arrived('Early Call', 1, 'snippet-clock');
      const [row] = await pipeline.clickhouse.query<{ client_ms: string }>(
        `SELECT toUnixTimestamp64Milli(client_ts) AS client_ms FROM tidemark.events
          WHERE project_id = '${pipeline.projectId}' AND event = 'Early Call'`,
      );
      // The browser's own clock on both sides: the time stored is the call's, read between the two clock reads
      // around it (the millisecond may turn inside the call), not the replay's 1.5 s later.
      expect(Number(row?.client_ms)).toBeGreaterThanOrEqual(calledAt);
      expect(Number(row?.client_ms)).toBeLessThanOrEqual(returnedAt);
    } finally {
      await browser.close();
    }
  });
});

it('loads autocapture only where the tag turns it on, and then sends $click and $hover', async () => {
  const browser = await launchBrowser();
  const requested: string[] = [];
  browser.context.on('request', (request) => requested.push(new URL(request.url()).pathname));
  try {
    // The example page has no data-autocapture: its visitors download no autocapture code.
    const plain = await browser.context.newPage();
    await plain.goto(site.url);
    await ready(plain);
    await plain.getByRole('button', { name: 'Sign up for the newsletter' }).click();
    await plain.evaluate(() => window.tidemark?.flush());
    expect(requested).toContain('/tidemark.min.js');
    expect(requested).not.toContain('/tidemark.autocapture.min.js');

    const html = `<!doctype html><html><head><title>Autocapture</title>
      <script defer src="/tidemark.min.js" data-host="__TIDEMARK_HOST__" data-write-key="__TIDEMARK_WRITE_KEY__"
        data-flush-interval="300" data-autocapture data-hover-capture></script></head>
      <body>
        <p><button type="button" id="buy" class="primary">Buy autocapture-kayak</button></p>
        <p><button type="button" data-tidemark-event="Named Click" data-tidemark-marker="autocapture-named">
          Named autocapture-named</button></p>
        <p><a href="/docs">Read autocapture-docs</a></p>
        <p>Plain text autocapture-text</p>
      </body></html>`;
    await withPage(html, async (url) => {
      const page = await browser.context.newPage();
      await page.goto(url);
      await ready(page);
      await page.waitForFunction(() => 'tidemarkAutocapture' in window);
      await page.getByRole('button', { name: 'Buy autocapture-kayak' }).click();
      await page.getByRole('button', { name: /Named autocapture-named/ }).click();
      await page.getByText('Plain text autocapture-text').click();
      await page.getByRole('link', { name: 'Read autocapture-docs' }).hover();
      await page.waitForTimeout(800);
      await page.evaluate(() => window.tidemark?.flush());
    });
    expect(requested).toContain('/tidemark.autocapture.min.js');

    const clicks = await arrived('$click', 1, 'autocapture-');
    expect(clicks.map((row) => JSON.parse(row.properties))).toEqual([
      { tag: 'button', text: 'Buy autocapture-kayak', selector: 'button#buy' },
    ]);
    // The named element is sent under its name alone, by the core.
    const named = await arrived('Named Click', 1, 'autocapture-named');
    expect(JSON.parse(named[0]?.properties ?? '{}')).toEqual({ marker: 'autocapture-named' });
    const [hover] = await arrived('$hover', 1, 'autocapture-docs');
    expect(JSON.parse(hover?.properties ?? '{}')).toMatchObject({ tag: 'a', text: 'Read autocapture-docs' });
  } finally {
    await browser.close();
  }
});

it('imports autocapture from the npm package only for a client that turns it on', async () => {
  // The npm build as an app would load it unbundled: ES modules, idb-keyval through an import map.
  const root = await mkdtemp(join(tmpdir(), 'tidemark-npm-'));
  const sdkDir = fileURLToPath(new URL('../../../sdk/', import.meta.url));
  await cp(join(sdkDir, 'dist'), join(root, 'sdk'), { recursive: true });
  const idbKeyval = createRequire(join(sdkDir, 'package.json')).resolve('idb-keyval');
  await cp(join(dirname(idbKeyval), 'index.js'), join(root, 'idb-keyval.js'));
  await writeFile(
    join(root, 'index.html'),
    `<!doctype html><html><head><title>npm</title>
     <script type="importmap">{ "imports": { "idb-keyval": "/idb-keyval.js" } }</script>
     <script type="module">
       import { createClient } from '/sdk/index.js';
       window.tidemark = createClient({
         writeKey: '__TIDEMARK_WRITE_KEY__', host: '__TIDEMARK_HOST__', flushInterval: 300,
         autocapture: location.search === '?autocapture',
       });
     </script></head>
     <body><button type="button">Order npm-autocapture</button></body></html>`,
  );
  const npmSite = await serveSite({ root, gatewayUrl: pipeline.gatewayUrl, writeKey: pipeline.writeKey });
  const browser = await launchBrowser();
  const requested: string[] = [];
  browser.context.on('request', (request) => requested.push(new URL(request.url()).pathname));
  try {
    const plain = await browser.context.newPage();
    await plain.goto(npmSite.url);
    await ready(plain);
    await plain.getByRole('button', { name: 'Order npm-autocapture' }).click();
    await plain.evaluate(() => window.tidemark?.flush());
    expect(requested).toContain('/sdk/index.js');
    expect(requested).not.toContain('/sdk/chunks/interactions.js');

    const page = await browser.context.newPage();
    await page.goto(`${npmSite.url}?autocapture`);
    await ready(page);
    await eventually(async () => (requested.includes('/sdk/chunks/interactions.js') ? true : undefined), {
      what: `the autocapture module to be imported; requested: ${requested.join(', ')}`,
    });
    await page.getByRole('button', { name: 'Order npm-autocapture' }).click();
    await page.evaluate(() => window.tidemark?.flush());

    // One $click: the page without autocapture sent none.
    const clicks = await arrived('$click', 1, 'npm-autocapture');
    expect(clicks.map((row) => JSON.parse(row.properties))).toEqual([
      { tag: 'button', text: 'Order npm-autocapture', selector: 'html > body > button' },
    ]);
  } finally {
    await browser.close();
    await npmSite.close();
    await rm(root, { recursive: true, force: true });
  }
});
