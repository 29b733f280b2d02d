import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { launchBrowser } from '../../../harness/browser.js';
import { eventually } from '../../../harness/eventually.js';
import { type Pipeline, startPipeline } from '../../../harness/pipeline.js';
import { clickRows, queuedInBrowser } from '../../../harness/rows.js';
import { type ServedSite, serveSite, vanillaRoot } from '../serve.js';

// The vanilla example, served by the project, in Debian's Chromium, through the distributed path:
// script tag → gateway → Kafka → sink → chDB.
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

it('stores a click on the page as one row with the fields the page sent', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await page.locator('button[data-product="paddle"]').click();

    const [row] = await eventually(async () => nonEmpty(await clickRows(pipeline, 'Product Added')), {
      what: 'the click to reach ClickHouse',
    });
    expect(row).toMatchObject({
      type: 'track',
      event: 'Product Added',
      url: site.url,
      path: '/',
      title: 'Tidemark — vanilla example',
      project_id: pipeline.projectId,
    });
    expect(JSON.parse(row?.properties ?? '{}')).toEqual({ product: 'paddle', price: 129, click: 1 });
    expect(row?.user_agent_browser).toMatch(/Chrom/);
    expect(row?.anonymous_id).not.toBe('');
    // UUIDv7: version nibble 7.
    expect(row?.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    // The page view sent on load arrived too, from the same visitor.
    const pageViews = await eventually(async () => nonEmpty(await clickRows(pipeline, '$pageview')));
    expect(pageViews.map((view) => view.anonymous_id)).toContain(row?.anonymous_id);

    // Acknowledged events leave IndexedDB, and nothing is stored twice.
    await eventually(async () => ((await queuedInBrowser(page)) === 0 ? true : undefined), {
      what: 'the browser queue to drain',
    });
    expect(await clickRows(pipeline, 'Product Added')).toHaveLength(1);
  } finally {
    await browser.close();
  }
});

it('loads its favicon and the Web Vitals chunk, and no request of the page fails', async () => {
  const browser = await launchBrowser();
  const failed: string[] = [];
  const served: string[] = [];
  browser.context.on('requestfailed', (request) => failed.push(request.url()));
  browser.context.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    else served.push(new URL(response.url()).pathname);
  });
  try {
    const page = await browser.context.newPage();
    await page.goto(site.url);
    // data-vitals: the core adds the chunk once the page is idle, and the chunk sets this flag.
    await page.waitForFunction(() => 'tidemarkVitals' in window);
    await eventually(async () => (served.includes('/favicon.svg') ? true : undefined), {
      what: `the favicon to be requested; served: ${served.join(', ')}`,
    });
    // Taken before leaving: leaving cancels a request under way, which its beacon then carries.
    const failedOnPage = [...failed];
    // A hidden page reports FCP and TTFB at least; they arrive as $web_vital rows.
    await page.goto('about:blank');
    await eventually(async () => nonEmpty(await clickRows(pipeline, '$web_vital')), {
      what: 'a $web_vital row from the example page',
    });
    expect(failedOnPage).toEqual([]);
  } finally {
    await browser.close();
  }
});

it('keeps clicks made offline across a reload and stores each exactly once when back online', async () => {
  const browser = await launchBrowser();
  const { context } = browser;
  const gatewayRoute = `${pipeline.gatewayUrl}/**`;
  try {
    const page = await context.newPage();
    // The first test's page view is in the table already: wait for this page's own.
    const earlierViews = (await clickRows(pipeline, '$pageview')).length;
    await page.goto(site.url);
    // The page view is stored, then acknowledged: only then is the queue empty for the right reason (before the
    // SDK stored anything, it is empty too).
    await eventually(
      async () => ((await clickRows(pipeline, '$pageview')).length > earlierViews ? true : undefined),
      { what: 'the page view to reach ClickHouse' },
    );
    await eventually(async () => ((await queuedInBrowser(page, '$web_vital')) === 0 ? true : undefined), {
      what: 'the page view to leave the browser queue',
    });

    // Counts below leave out the page's Web Vitals (data-vitals): the browser decides when they come.
    await context.setOffline(true);
    await page.locator('button[data-product="kayak"]').click();
    await page.locator('button[data-product="dry-bag"]').click();
    await eventually(async () => ((await queuedInBrowser(page, '$web_vital')) === 2 ? true : undefined), {
      what: 'both offline clicks to be stored in IndexedDB',
    });

    // Reload while the gateway is still out of reach: the page itself loads, every request to the gateway fails
    // the way a dead network fails. A beacon sent while a page unloads escapes Playwright's routing, so the
    // beacons of this phase are lost the way a beacon on a dead network is: accepted by the browser, never
    // delivered.
    const loseBeacons = () => {
      navigator.sendBeacon = () => true;
    };
    await page.evaluate(loseBeacons);
    await context.addInitScript(loseBeacons);
    await context.route(gatewayRoute, (route) => route.abort('internetdisconnected'));
    await context.setOffline(false);
    await page.reload();
    await page.waitForLoadState('load');
    // The reloaded page found both clicks in IndexedDB and queued its own page view beside them.
    await eventually(async () => ((await queuedInBrowser(page, '$web_vital')) === 3 ? true : undefined), {
      what: 'the reloaded page to hold both offline clicks and its page view',
    });
    expect(await clickRows(pipeline, 'Product Added', ['kayak', 'dry-bag'])).toHaveLength(0);

    // Back online: the browser fires `online` and the SDK sends what it kept.
    await context.setOffline(true);
    await context.unroute(gatewayRoute);
    await context.setOffline(false);
    await eventually(async () => ((await queuedInBrowser(page, '$web_vital')) === 0 ? true : undefined), {
      what: 'the queue to drain once online',
    });

    const rows = await eventually(async () => {
      const found = await clickRows(pipeline, 'Product Added', ['kayak', 'dry-bag']);
      return found.length >= 2 ? found : undefined;
    });
    // Give a duplicate, if any were sent, the time to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const final = await clickRows(pipeline, 'Product Added', ['kayak', 'dry-bag']);
    expect(final).toHaveLength(2);
    expect(new Set(final.map((row) => row.event_id)).size).toBe(2);
    expect(rows.map((row) => JSON.parse(row.properties).product).sort()).toEqual(['dry-bag', 'kayak']);
  } finally {
    await browser.close();
  }
});

it('delivers a click made just before leaving the page by beacon, after the page is gone', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    // Count the beacons the page hands to the browser where a later page of the same origin can read them:
    // the browser sends a beacon after the page is gone, out of the reach of test hooks on the page.
    await browser.context.addInitScript(() => {
      const send = navigator.sendBeacon.bind(navigator);
      navigator.sendBeacon = (url, data) => {
        const queued = send(url, data);
        if (queued && String(data).includes('Newsletter Signup'))
          localStorage.setItem('test:beacon', 'queued');
        return queued;
      };
    });
    await page.goto(site.url);
    await page.waitForFunction(() => 'tidemark' in window);
    expect(await clickRows(pipeline, 'Newsletter Signup')).toHaveLength(0);
    // The page flushes a second after the first event; leaving sooner than that leaves only `pagehide`.
    await page.getByRole('button', { name: 'Sign up for the newsletter' }).click();
    await page.goto('about:blank');

    const rows = await eventually(async () => nonEmpty(await clickRows(pipeline, 'Newsletter Signup')), {
      what: 'the beaconed click to reach ClickHouse',
    });
    expect(rows).toHaveLength(1);
    // Read on a page of the site without the SDK on it, so no stored event is sent again.
    await page.goto(new URL('style.css', site.url).href);
    expect(await page.evaluate(() => localStorage.getItem('test:beacon'))).toBe('queued');
  } finally {
    await browser.close();
  }
});

function nonEmpty<T>(rows: T[]): T[] | undefined {
  return rows.length > 0 ? rows : undefined;
}
