import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../harness/browser.js';
import { eventually } from '../harness/eventually.js';
import { accessibilityViolations } from './support/accessibility.js';
import { rowHeightSpread } from './support/rowHeights.js';

// `pnpm start --demo` as a newcomer runs it: a month of generated traffic in a store of the demo's own, the
// dashboard showing every panel working at the first look. The environment names a real store (a chDB directory,
// and a ClickHouse server that is not there): the demo must open neither. The screenshots at desktop and phone
// widths are kept in test-results/ (git-ignored) for whoever reviews the run.
const root = join(import.meta.dirname, '..');
const pnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager as string;
const shots = join(root, 'test-results');
let child: ChildProcess;
let output = '';
let scratch: string;
let realStore: string;
let browser: TestBrowser;
/** The repository's default store (./.data/chdb): as it was before the demo ran (its mtime, or absent). */
const defaultStore = join(root, '.data', 'chdb');
const defaultStoreBefore = existsSync(defaultStore) ? statSync(defaultStore).mtimeMs : 'absent';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tidemark-demo-test-'));
  realStore = join(scratch, 'real-store');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TIDEMARK_CHDB_PATH: realStore,
    // A server nobody listens on: a demo that dialled it would fail to start.
    CLICKHOUSE_URL: 'http://127.0.0.1:9',
    TIDEMARK_PORT: '0',
    TIDEMARK_SITE_PORT: '0',
    TIDEMARK_SQL_PORT: '0',
  };
  delete env.TIDEMARK_ADMIN_TOKEN;
  delete env.TIDEMARK_DEMO_PATH;
  child = spawn('npx', ['-y', pnpm, 'start', '--demo'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await eventually(async () => (output.includes('Ctrl-C stops') ? true : undefined), {
    timeoutMs: 170_000,
    intervalMs: 500,
    what: `pnpm start --demo to print its banner; it printed:\n${output}`,
  });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid) process.kill(-child.pid, 'SIGINT');
    await exited;
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** What the banner printed after `label`. */
function printed(pattern: RegExp): string {
  const value = output.match(pattern)?.[1];
  if (!value) throw new Error(`pnpm start --demo did not print ${pattern}; it printed:\n${output}`);
  return value;
}
const token = () => printed(/token for this demo run: ([\w-]+)/);
const gatewayUrl = () => printed(/Gateway \(Segment HTTP API\):\s+(http:\/\/[\d.:]+)/);
const demoDir = () => printed(/Demo data lives in (\S+?),? /);

async function sql(statement: string): Promise<string[][]> {
  const response = await fetch(`${gatewayUrl()}/v1/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token()}`, 'content-type': 'text/plain' },
    body: statement,
  });
  expect(response.status, statement).toBe(200);
  return ((await response.json()) as { rows: string[][] }).rows;
}

it('fills a store of its own with a month of events, and opens neither the real directory nor the server', async () => {
  const [[events, days, first, last, visitors] = []] = await sql(
    `SELECT count(), uniqExact(toDate(timestamp)), toUnixTimestamp(min(timestamp)), toUnixTimestamp(max(timestamp)),
            uniqExact(anonymous_id)
     FROM events WHERE project_id = 'demo'`,
  );
  expect(Number(events)).toBeGreaterThanOrEqual(300_000);
  const now = Date.now() / 1000;
  // Thirty days back to about now: the first sessions start 30 days ago, the last within the last hour or so.
  expect(now - Number(first)).toBeGreaterThan(29 * 86_400);
  expect(now - Number(first)).toBeLessThan(31 * 86_400);
  expect(now - Number(last)).toBeLessThan(2 * 3600);
  expect(Number(days)).toBeGreaterThanOrEqual(30);
  expect(Number(visitors)).toBeGreaterThan(1000);
  expect(demoDir().startsWith(tmpdir())).toBe(true);
  expect(existsSync(demoDir())).toBe(true);
  expect(existsSync(realStore)).toBe(false);
  expect(existsSync(defaultStore) ? statSync(defaultStore).mtimeMs : 'absent').toBe(defaultStoreBefore);
});

/** Saves the page (or one element of it) as test-results/demo-<name>-<width>.png, and checks it with axe-core there. */
async function shoot(page: Page, name: string, selector?: string) {
  await mkdir(shots, { recursive: true });
  for (const [width, height, label] of [
    [1280, 800, 'desktop'],
    [390, 844, 'phone'],
  ] as const) {
    await page.setViewportSize({ width, height });
    // The chart is drawn to its width: wait for the redraw the resize brings.
    await expect
      .poll(() =>
        page.evaluate(() => {
          const chart = document.getElementById('chart');
          const svg = chart?.querySelector('svg');
          return svg
            ? Math.abs(svg.viewBox.baseVal.width - Math.max(280, chart?.clientWidth ?? 0)) <= 1
            : false;
        }),
      )
      .toBe(true);
    // Nothing wider than the screen: a phone must not scroll sideways to read a panel.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(overflow, `${name} at ${width} px`).toBeLessThanOrEqual(width);
    // The header leaves the screen to the numbers: on a phone, the controls two to a row (one per line took 265 px).
    const header = await page.locator('header.bar').evaluate((e) => e.getBoundingClientRect().height);
    console.log(`demo ${name} header at ${width} px: ${Math.round(header)} px tall`);
    if (label === 'phone') expect(header, `${name} header at ${width} px`).toBeLessThanOrEqual(180);
    // The SQL console shows its whole statement, however the width wraps it, up to its maximum height.
    const box = await page.locator('#sql').evaluate((e) => ({
      hidden: e.scrollHeight - e.clientHeight,
      capped: e.getBoundingClientRect().height >= Number.parseFloat(getComputedStyle(e).maxHeight) - 1,
    }));
    expect(box.hidden <= 1 || box.capped, `${name} SQL console at ${width} px`).toBe(true);
    const path = join(shots, `demo-${name}-${label}.png`);
    if (selector) await page.locator(selector).screenshot({ path });
    else await page.screenshot({ path, fullPage: true });
    expect(statSync(path).size).toBeGreaterThan(10_000);
    // With a month of real-looking rows (every Web Vitals rating's colour, long paths), at this width.
    expect(await accessibilityViolations(page), `${name} at ${width} px`).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Script errors and console errors of the pages opened, each test's checked at its end. */
let problems: string[] = [];

/** A page of the browser that records its script and console errors in `problems`. */
async function newPage(): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return page;
}

/** Rows of a table on the page, the "no data" line not counted. */
const rows = (page: Page, id: string) => page.locator(`#${id} tbody tr:not(.empty)`).count();

const whole = (v: unknown) => Number(v).toLocaleString('en-US', { maximumFractionDigits: 0 });
const share = (v: unknown) => `${(Number(v) * 100).toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;
/** Each tabbed panel's tabs: the tab's name, its table (the ready query's name) and its rows as cells. */
const tables: [string | undefined, string, (r: Record<string, unknown>) => string[]][] = [
  ['Top pages', 'top_pages', (r) => [`${r.host}${r.path}`, whole(r.pageviews), whole(r.visitors)]],
  ['Entry pages', 'entry_pages', (r) => [`${r.host}${r.path}`, whole(r.entries), share(r.bounce_rate)]],
  ['Exit pages', 'exit_pages', (r) => [`${r.host}${r.path}`, whole(r.exits), share(r.exit_rate)]],
  [
    'Referrers',
    'referrers',
    (r) => [String(r.referrer_host || '(direct)'), whole(r.sessions), whole(r.visitors)],
  ],
  [
    'UTM campaigns',
    'utm_campaigns',
    (r) => [
      [r.utm_source, r.utm_medium, r.utm_campaign].map((v) => v || '–').join(' / '),
      whole(r.sessions),
      whole(r.visitors),
    ],
  ],
  [
    'Devices',
    'devices',
    (r) => [String(r.device_type || '(unknown)'), whole(r.visitors), whole(r.pageviews)],
  ],
  ['Browsers', 'browsers', (r) => [String(r.browser || '(unknown)'), whole(r.visitors), whole(r.pageviews)]],
  ['OS', 'operating_systems', (r) => [String(r.os || '(unknown)'), whole(r.visitors), whole(r.pageviews)]],
  [undefined, 'countries', (r) => [String(r.country || '(unknown)'), whole(r.visitors), whole(r.pageviews)]],
  [undefined, 'custom_events', (r) => [String(r.event), whole(r.events), whole(r.visitors)]],
  [
    undefined,
    'web_vitals',
    (r) => [
      String(r.metric),
      `${r.host}${r.path}`,
      r.metric === 'CLS'
        ? Number(r.p75).toLocaleString('en-US', { maximumFractionDigits: 3 })
        : `${whole(r.p75)} ms`,
      whole(r.samples),
    ],
  ],
];

/**
 * Shows each tab in turn and waits until its table holds what the ready query answers for the page's period, its
 * `country` filter and its session `filter` (fetched directly, not through the page), then the overview's counters
 * likewise.
 */
async function everyPanelAsItsQuery(page: Page, country: string, filter = '') {
  const period = {
    from: (await page.locator('#period').getAttribute('data-from')) as string,
    to: (await page.locator('#period').getAttribute('data-to')) as string,
  };
  const params = { project: 'demo', ...period, host: '', country, device_type: '', filter };
  const ready = async (name: string, extra: Record<string, string> = {}) => {
    const response = await fetch(
      `${gatewayUrl()}/v1/queries/${name}?${new URLSearchParams({ ...params, ...extra })}`,
      {
        headers: { authorization: `Bearer ${token()}` },
      },
    );
    expect(response.status, name).toBe(200);
    return ((await response.json()) as { rows: Record<string, unknown>[] }).rows;
  };
  for (const [tab, id, cells] of tables) {
    if (tab) await page.getByRole('tab', { name: tab, exact: true }).click();
    const expected = (await ready(id, { limit: '10', ...(id === 'web_vitals' && { metric: '' }) })).map(
      cells,
    );
    expect(expected.length, `${id} ${country} ${filter}`).toBeGreaterThan(0);
    await expect
      .poll(
        () =>
          page
            .locator(`#${id} tbody tr`)
            .evaluateAll((rows) =>
              rows.map((row) => Array.from((row as HTMLTableRowElement).cells, (c) => c.textContent ?? '')),
            ),
        { timeout: 30_000, message: `${id} ${country} ${filter}` },
      )
      .toEqual(expected);
  }
  const [overview] = await ready('overview');
  for (const key of ['visitors', 'people', 'pageviews', 'sessions', 'bounce_rate'] as const) {
    expect(await page.locator(`#${key}`).getAttribute('data-value'), `${key} ${country} ${filter}`).toBe(
      String(overview?.[key]),
    );
  }
}

it('shows every panel working at the first look, on a desktop and a phone', {
  timeout: 180_000,
}, async () => {
  problems = [];
  const page = await newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${gatewayUrl()}/dashboard?range=30d&tz=UTC`);
  await page.getByLabel('Admin token').fill(token());
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await expect.poll(() => page.locator('#project').inputValue(), { timeout: 30_000 }).toBe('demo');
  await expect.poll(() => rows(page, 'top_pages'), { timeout: 60_000 }).toBeGreaterThan(0);
  for (const id of ['visitors', 'people', 'pageviews', 'sessions']) {
    expect(Number(await page.locator(`#${id}`).getAttribute('data-value')), id).toBeGreaterThan(0);
  }
  // Some people use two devices: fewer people than visitors.
  expect(Number(await page.locator('#people').getAttribute('data-value'))).toBeLessThan(
    Number(await page.locator('#visitors').getAttribute('data-value')),
  );
  expect(await page.locator('#first-run').isHidden()).toBe(true);
  for (const id of ['referrers', 'devices', 'countries', 'custom_events', 'web_vitals']) {
    expect(await rows(page, id), id).toBeGreaterThan(0);
  }
  // Thirty days of bars, most of them with visitors.
  const bars = await page.locator('#chart .hit title').allTextContents();
  expect(bars.length).toBeGreaterThanOrEqual(30);
  expect(bars.filter((t) => !t.includes(': 0 visitors')).length).toBeGreaterThanOrEqual(29);
  await shoot(page, 'overview');
  // Every tab of every panel shows its ready query's rows for the same range, as the page formats them.
  await everyPanelAsItsQuery(page, '');
  // A filtered view: one country.
  await page.locator('#countries button.filter', { hasText: 'DE' }).click();
  await expect
    .poll(() => page.locator('#filters li').allTextContents())
    .toEqual([expect.stringMatching(/^Country: DE/)]);
  await expect
    .poll(
      async () => (await page.locator('#countries tbody tr').allTextContents()).map((t) => t.slice(0, 2)),
      {
        timeout: 30_000,
      },
    )
    .toEqual(['DE']);
  // The filter reached every panel: each equals its ready query with country=DE.
  await everyPanelAsItsQuery(page, 'DE');
  // And a session filter on top: the visits that came from the first referrer listed. It travels in the queries'
  // `filter` parameter and in the page's URL under its own name.
  await page.getByRole('tab', { name: 'Referrers', exact: true }).click();
  const referrer = page.locator('#referrers button.filter').first();
  const host = (await referrer.textContent()) as string;
  await referrer.click();
  await expect
    .poll(() => page.locator('#filters li').allTextContents())
    .toEqual([expect.stringMatching(/^Country: DE/), expect.stringMatching(`^Referrer: ${host}`)]);
  expect(new URL(page.url()).searchParams.get('referrer')).toBe(host);
  await everyPanelAsItsQuery(page, 'DE', new URLSearchParams({ referrer: host }).toString());
  await shoot(page, 'filtered');

  // The funnel and retention, on demand: home, pricing, a signup, counted by person.
  await page.locator('#funnel-details summary').click();
  await page.getByRole('button', { name: 'Add a step' }).click();
  const steps = page.locator('#steps input');
  await steps.nth(0).fill('/');
  await steps.nth(1).fill('/pricing');
  await steps.nth(2).fill('Signup Started');
  await page.getByRole('button', { name: 'Show the funnel' }).click();
  await expect.poll(() => rows(page, 'funnel'), { timeout: 60_000 }).toBe(3);
  const counts = (await page.locator('#funnel tbody tr td:nth-child(2)').allTextContents()).map((t) =>
    Number(t.replaceAll(',', '')),
  );
  expect(counts[0]).toBeGreaterThan(counts[2] ?? 0);
  expect(counts[2]).toBeGreaterThan(0);
  await shoot(page, 'funnel', '#funnel-details');
  await page.locator('#retention-details summary').click();
  await page.getByRole('button', { name: 'Show retention' }).click();
  await expect.poll(() => rows(page, 'retention'), { timeout: 60_000 }).toBeGreaterThanOrEqual(4);
  // At a phone's width the cohort grid scrolls sideways: each row one line high, no share broken over two.
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await rowHeightSpread(page, '#retention')).toBeLessThanOrEqual(1);
  await shoot(page, 'retention', '#retention-details');
  expect(problems).toEqual([]);
  await page.close();
});

it('breaks a custom event down by a property, and filters every panel by a clicked value', {
  timeout: 240_000,
}, async () => {
  problems = [];
  const page = await newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${gatewayUrl()}/dashboard?project=demo&range=30d&tz=UTC`);
  await page.getByLabel('Admin token').fill(token());
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await expect.poll(() => rows(page, 'custom_events'), { timeout: 60_000 }).toBeGreaterThan(0);
  // Nothing picked: the panel runs no query and says what to do.
  expect(await page.locator('#event_properties tbody').textContent()).toBe(
    'Pick an event to see its properties’ values',
  );
  /** The period the page shows now (whole hours: it moves when an hour starts). */
  const shownPeriod = async () => ({
    from: (await page.locator('#period').getAttribute('data-from')) as string,
    to: (await page.locator('#period').getAttribute('data-to')) as string,
  });
  const ready = async (name: string, params: Record<string, string>) => {
    const query = new URLSearchParams({ project: 'demo', ...(await shownPeriod()), ...params });
    const response = await fetch(`${gatewayUrl()}/v1/queries/${name}?${query}`, {
      headers: { authorization: `Bearer ${token()}` },
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { rows: Record<string, unknown>[] }).rows;
  };
  const properties = (filter: string) =>
    ready('event_properties', { filter, event: 'Product Viewed', limit: '10' });
  const allVisitors = async () => String((await ready('overview', {}))[0]?.visitors);
  /** The rows of one property as the panel shows them. */
  const shown = (rows: Record<string, unknown>[], property: string) =>
    rows
      .filter((r) => r.property === property)
      .map((r) => [String(r.value), whole(r.events), whole(r.visitors)]);
  const cells = () =>
    page
      .locator('#event_properties tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => Array.from((tr as HTMLTableRowElement).cells, (c) => c.textContent)),
      );

  await page.getByLabel('Event', { exact: true }).selectOption('Product Viewed');
  const all = await properties('');
  // The properties seen, the first (category) shown: each the ready query's rows, formatted as the page does.
  await expect
    .poll(() => page.locator('#property-key option').allTextContents(), { timeout: 30_000 })
    .toEqual(['category', 'price', 'product_id']);
  expect([...new Set(all.map((r) => r.property))]).toEqual(['category', 'price', 'product_id']);
  expect(shown(all, 'category').length).toBeGreaterThan(1);
  await expect.poll(cells, { timeout: 30_000 }).toEqual(shown(all, 'category'));
  await page.getByLabel('Property', { exact: true }).selectOption('product_id');
  await expect.poll(cells).toEqual(shown(all, 'product_id'));
  await page.getByLabel('Property', { exact: true }).selectOption('category');
  await expect.poll(cells).toEqual(shown(all, 'category'));

  // A value is a filter: the visits that viewed a product of that category. Both keys show as chips and go into the
  // URL, the page says the answers now come from raw events, and every panel equals its ready query so filtered.
  const value = String(all.find((r) => r.property === 'category')?.value);
  await page.locator('#event_properties').getByRole('button', { name: value, exact: true }).click();
  await expect
    .poll(() => page.locator('#filters li').allTextContents())
    .toEqual([
      expect.stringMatching(/^Event: Product Viewed/),
      expect.stringMatching(`^Property: category=${value}`),
    ]);
  const url = new URL(page.url()).searchParams;
  expect([url.get('event'), url.get('property')]).toEqual(['Product Viewed', `category=${value}`]);
  expect(await page.locator('#raw-note').isVisible()).toBe(true);
  const filter = new URLSearchParams({ event: 'Product Viewed', property: `category=${value}` }).toString();
  await everyPanelAsItsQuery(page, '', filter);
  const kept = await properties(filter);
  await expect.poll(cells, { timeout: 30_000 }).toEqual(shown(kept, 'category'));
  // The visitors kept, counted here in SQL of the test's own: those with a visit that viewed a product of that
  // category. Fewer than all of them.
  const period = await shownPeriod();
  const range = `project_id = 'demo' AND timestamp >= '${period.from}' AND timestamp < '${period.to}' AND bot_reason = ''`;
  const [[keptVisitors] = []] = await sql(
    `SELECT uniqExact(anonymous_id) FROM events WHERE ${range} AND session_id != '' AND session_id IN (
       SELECT session_id FROM events WHERE ${range} AND type = 'track' AND event = 'Product Viewed'
         AND JSONExtractString(properties, 'category') = '${value}')`,
  );
  expect(Number(keptVisitors)).toBeGreaterThan(0);
  expect(Number(keptVisitors)).toBeLessThan(Number(await allVisitors()));
  expect(await page.locator('#visitors').getAttribute('data-value')).toBe(keptVisitors);
  await shoot(page, 'properties', '#properties-panel');

  // The URL restores the view: both filters, and the note.
  await page.reload();
  await expect
    .poll(() => page.locator('#filters li').allTextContents(), { timeout: 30_000 })
    .toEqual([
      expect.stringMatching(/^Event: Product Viewed/),
      expect.stringMatching(`^Property: category=${value}`),
    ]);
  expect(await page.locator('#raw-note').isVisible()).toBe(true);
  // Removing them brings every visitor back, and the note goes.
  await page.getByRole('button', { name: `Remove the filter Property category=${value}` }).click();
  await page.getByRole('button', { name: 'Remove the filter Event Product Viewed' }).click();
  // The reloaded page shows its chips at once, its period once the first refresh is drawn.
  await expect
    .poll(() => page.locator('#period').getAttribute('data-from'), { timeout: 30_000 })
    .not.toBeNull();
  const visitors = await allVisitors();
  await expect
    .poll(() => page.locator('#visitors').getAttribute('data-value'), { timeout: 30_000 })
    .toBe(visitors);
  expect(await page.locator('#raw-note').isHidden()).toBe(true);
  expect(problems).toEqual([]);
  await page.close();
});

it('removes its store on Ctrl-C', async () => {
  const dir = demoDir();
  const closed = new Promise((resolve) => child.once('close', resolve));
  if (child.pid) process.kill(-child.pid, 'SIGINT');
  await closed;
  expect(output).toContain('Tidemark stopped.');
  expect(existsSync(dir)).toBe(false);
  expect(existsSync(realStore)).toBe(false);
});
