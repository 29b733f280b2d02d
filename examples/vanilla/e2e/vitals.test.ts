import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { launchBrowser } from '../../../harness/browser.js';
import { eventually } from '../../../harness/eventually.js';
import { type Pipeline, startPipeline } from '../../../harness/pipeline.js';
import { clickRows, type StoredRow } from '../../../harness/rows.js';
import { type ServedSite, serveSite } from '../serve.js';

// The Web Vitals chunk in Debian's Chromium, loaded by a page of its own after the core script tag, through
// the distributed path: script tag → gateway → Kafka → sink → chDB, down to the web-vitals rollup.
let pipeline: Pipeline;
let site: ServedSite;

/** A page with an LCP text block, a layout shift after load and a slow button (fixtures/vitals/index.html). */
const vitalsRoot = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vitals');

beforeAll(async () => {
  pipeline = await startPipeline(inject('kafkaBrokers'));
  site = await serveSite({ root: vitalsRoot, gatewayUrl: pipeline.gatewayUrl, writeKey: pipeline.writeKey });
});

afterAll(async () => {
  await site?.close();
  await pipeline?.stop();
});

/** What a `$web_vital` row's properties hold (sdk/src/vitals.ts, WebVitalProperties). */
interface VitalProperties {
  name: string;
  value: number;
  delta: number;
  id: string;
  rating: string;
  navigationType: string;
}

it('stores one $web_vital row per metric, LCP, INP, CLS, FCP and TTFB, once the visitor leaves the page', async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    await page.goto(site.url);
    await page.waitForFunction(() => 'tidemark' in window && 'tidemarkVitals' in window);
    // The banner's layout shift has happened (100 ms after load) before the click, which would otherwise mark
    // it as expected after input and leave it out of CLS.
    await page.getByText('Storm warning').waitFor();
    // An interaction, so INP has one; it also ends LCP's observation, so LCP is reported now, not at leaving.
    await page.getByRole('button', { name: 'Recalculate' }).click();
    await page.getByText('Done').waitFor();
    // The click's Event Timing entry reaches observers in a task of its own, which a busy machine runs late: until
    // it has, web-vitals has nothing to fold into INP. An observer of ours is called in the same task as
    // web-vitals' (buffered, so an entry already delivered counts too).
    const observed = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          new PerformanceObserver((list) => {
            if (list.getEntries().some((e) => e.name === 'click' || e.name === 'pointerup'))
              resolve('observed');
          }).observe({ type: 'event', buffered: true, durationThreshold: 16 } as PerformanceObserverInit);
          setTimeout(() => resolve('no event timing entry for the click in 10 s'), 10_000);
        }),
    );
    expect(observed).toBe('observed');
    // web-vitals folds the click into INP (and finalizes LCP) in an idle callback. Leaving before that runs loses
    // INP: the report on `visibilitychange` comes before the deferred work in the same event. Idle callbacks run
    // in the order they were requested, so once one requested now has run, so has web-vitals'. After a task
    // longer than a frame (the click), headless Chromium gives no idle period until something asks for a frame
    // (a mouse move, a DOM change, requestAnimationFrame): a visitor's browser keeps painting, this one waits.
    const idle = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          requestAnimationFrame(() => requestIdleCallback(() => resolve('idle')));
          setTimeout(() => resolve('no idle period in 5 s'), 5_000);
        }),
    );
    expect(idle).toBe('idle');
    // Hidden for good: web-vitals reports the final CLS and INP on `visibilitychange`, and the core sends them
    // by beacon in the same event.
    await page.goto('about:blank');

    const metrics = ['CLS', 'FCP', 'INP', 'LCP', 'TTFB'];
    const rows = await eventually(
      async () => {
        const found = await clickRows(pipeline, '$web_vital');
        const names = new Set(found.map((row) => vital(row).name));
        if (metrics.every((name) => names.has(name))) return found;
        // Becomes the timeout's cause: which metrics did arrive.
        throw new Error(`stored so far: ${[...names].sort().join(', ') || 'none'}`);
      },
      { what: 'all five metrics to reach ClickHouse' },
    );
    // One report per metric (reportAllChanges: false); give a second report, if one were sent, time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const final = await clickRows(pipeline, '$web_vital');
    expect(final).toHaveLength(rows.length);
    const byName = new Map(final.map((row) => [vital(row).name, vital(row)]));
    expect([...byName.keys()].sort()).toEqual(metrics);
    expect(final).toHaveLength(metrics.length);

    for (const [name, properties] of byName) {
      expect(properties, name).toEqual({
        name,
        value: expect.any(Number),
        delta: expect.any(Number),
        id: expect.stringMatching(/^v5-\d+-\d+$/),
        rating: expect.stringMatching(/^(good|needs-improvement|poor)$/),
        navigationType: 'navigate',
      });
      // The first and only report of each: the change since the last report is the whole value.
      expect(properties.delta, name).toBe(properties.value);
    }
    // The page's own doings show in the numbers: the banner shifted the text, the click handler ran 120 ms.
    expect(byName.get('CLS')?.value).toBeGreaterThan(0);
    expect(byName.get('INP')?.value).toBeGreaterThanOrEqual(120);
    for (const name of ['FCP', 'LCP', 'TTFB']) expect(byName.get(name)?.value, name).toBeGreaterThan(0);
    // FCP and LCP cannot come before the first byte, nor LCP before the first paint.
    expect(byName.get('FCP')?.value).toBeGreaterThanOrEqual(byName.get('TTFB')?.value ?? 0);
    expect(byName.get('LCP')?.value).toBeGreaterThanOrEqual(byName.get('FCP')?.value ?? 0);
    // Stored as page events of the test page, like any other track call.
    expect(final.every((row) => row.type === 'track' && row.path === '/' && row.url === site.url)).toBe(true);

    // The daily rollup (store/sql/007_web_vitals_daily.sql) reads these properties: one sample per metric.
    const daily = await pipeline.clickhouse.query<{ metric: string; samples: string; p50: number }>(
      `SELECT metric, samples, p50 FROM tidemark.web_vitals_daily
        WHERE project_id = '${pipeline.projectId}' ORDER BY metric`,
    );
    expect(daily.map((row) => [row.metric, Number(row.samples)])).toEqual(metrics.map((name) => [name, 1]));
    expect(daily.find((row) => row.metric === 'LCP')?.p50).toBe(byName.get('LCP')?.value);
  } finally {
    await browser.close();
  }
});

function vital(row: StoredRow): VitalProperties {
  return JSON.parse(row.properties) as VitalProperties;
}
