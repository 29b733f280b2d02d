import { join } from 'node:path';
import { type ServedSite, serveSite } from '@tidemark/example-vanilla/serve';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../../../harness/browser.js';
import { eventually } from '../../../harness/eventually.js';
import { type Pipeline, startPipeline } from '../../../harness/pipeline.js';
import { clickRows, queuedInBrowser } from '../../../harness/rows.js';

// The production build of the React example (`vite build`, run by `pnpm build`), served by the project's
// example server, clicked in Chromium, through gateway → Kafka → sink → chDB. The last test loads the
// development build (`dist-dev`), the one where StrictMode really runs every effect twice.
let pipeline: Pipeline;
let site: ServedSite;
let browser: TestBrowser;

beforeAll(async () => {
  pipeline = await startPipeline(inject('kafkaBrokers'));
  site = await serveSite({
    root: join(import.meta.dirname, '..', 'dist'),
    gatewayUrl: pipeline.gatewayUrl,
    writeKey: pipeline.writeKey,
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await pipeline?.stop();
});

it('stores a click made through useTidemark() as one row', async () => {
  const page = await browser.context.newPage();
  await page.goto(site.url);
  await page.locator('button[data-plan="team"]').click();
  await expect.poll(() => page.getByRole('status').textContent()).toBe('You picked Team.');

  const [row] = await eventually(
    async () => {
      const rows = await clickRows(pipeline, 'Plan Selected');
      return rows.length > 0 ? rows : undefined;
    },
    { what: 'the React click to reach ClickHouse' },
  );
  expect(row).toMatchObject({ type: 'track', event: 'Plan Selected', url: site.url, path: '/' });
  expect(JSON.parse(row?.properties ?? '{}')).toEqual({ plan: 'team', price: 49 });

  // The automatic page view, exactly one per load: one client under StrictMode, one view per URL.
  const views = await eventually(async () => {
    const rows = await clickRows(pipeline, '$pageview');
    return rows.length > 0 ? rows : undefined;
  });
  expect(views).toHaveLength(1);
  expect(views[0]?.anonymous_id).toBe(row?.anonymous_id);

  await eventually(async () => ((await queuedInBrowser(page)) === 0 ? true : undefined), {
    what: 'the browser queue to drain',
  });
  expect(await clickRows(pipeline, 'Plan Selected')).toHaveLength(1);
});

it('sends one page view per client-side navigation, and none for a link to the page it is on', async () => {
  const page = await browser.context.newPage();
  await page.goto(site.url);
  await page.getByRole('link', { name: 'FAQ' }).click();
  await expect.poll(() => page.getByRole('heading').textContent()).toBe('Questions');
  // The app pushes the URL it is on again, as naive routers do: same URL, no page view, also on the way back.
  await page.getByRole('link', { name: 'FAQ' }).click();
  await page.goBack();
  await page.goBack();
  await expect.poll(() => page.getByRole('heading').textContent()).toBe('Pick a plan');

  const faq = await eventually(async () => {
    const rows = (await clickRows(pipeline, '$pageview')).filter((row) => row.path === '/faq');
    return rows.length > 0 ? rows : undefined;
  });
  // Time for a second, wrong, view of the same navigation to arrive.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect((await clickRows(pipeline, '$pageview')).filter((row) => row.path === '/faq')).toHaveLength(1);
  expect(faq[0]?.url).toBe(new URL('/faq', site.url).href);
  // The load of the first test, and this test's load and return to the plans.
  expect((await clickRows(pipeline, '$pageview')).filter((row) => row.path === '/')).toHaveLength(3);
});

it('initializes one client under StrictMode in a development build, where React mounts every effect twice', async () => {
  const dev = await serveSite({
    root: join(import.meta.dirname, '..', 'dist-dev'),
    gatewayUrl: pipeline.gatewayUrl,
    writeKey: pipeline.writeKey,
  });
  const page = await browser.context.newPage();
  try {
    // React's development build, or this test would prove nothing: StrictMode double-invokes only there.
    const development = page.waitForEvent('console', (message) => message.text().includes('React DevTools'));
    await page.goto(dev.url);
    await development;
    await page.locator('button[data-plan="scale"]').click();
    await eventually(async () => ((await queuedInBrowser(page)) === 0 ? true : undefined), {
      what: 'the browser queue to drain',
    });
    const ofDev = async (event: string) =>
      (await clickRows(pipeline, event)).filter((row) => row.url.startsWith(dev.url));
    await eventually(async () => ((await ofDev('Plan Selected')).length > 0 ? true : undefined), {
      what: 'the click of the development build to reach ClickHouse',
    });
    // One client: one page view for the load and one row for the click, not two of each.
    expect(await ofDev('$pageview')).toHaveLength(1);
    expect(await ofDev('Plan Selected')).toHaveLength(1);
  } finally {
    await page.close();
    await dev.close();
  }
});
