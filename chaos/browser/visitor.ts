import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromiumPath, launchBrowser, type TestBrowser } from '../../harness/browser.js';

/** The track event whose `properties.seq` numbers every call the scenario makes. */
export const probeEvent = 'Chaos Probe';

/** One event the SDK stored in IndexedDB, as the page's probe saw it being written. */
export interface StoredEvent {
  id: string;
  type: string;
  event?: string;
  /** `properties.seq` of a probe event. */
  seq?: number;
  /** `properties.phase` of a probe event: what the visitor was doing when it was tracked. */
  phase?: string;
  /** The event's own `timestamp` (ms): when the page tracked it. */
  at: number;
  /** Its IndexedDB transaction committed (the write outlived whatever the page did next). */
  committed: boolean;
  /** A page handed it to `sendBeacon` at least once (the beacon was lost while the gateway was down). */
  beaconed: boolean;
}

/** Every event the pages of every visitor created, by messageId, and every probe `seq` handed to `track()`. */
export interface Ledger {
  events: Map<string, StoredEvent>;
  tracked: Set<number>;
  nextSeq: number;
}

export const createLedger = (): Ledger => ({ events: new Map(), tracked: new Set(), nextSeq: 0 });

/** What the page reports through its binding. */
type Report =
  | { kind: 'stored'; events: Omit<StoredEvent, 'committed'>[] }
  | { kind: 'committed'; ids: string[] };

function record(ledger: Ledger, report: Report) {
  if (report.kind === 'stored') {
    for (const event of report.events) {
      // The example page has data-vitals. The browser reports Web Vitals when it decides, the last ones as a tab
      // or the browser closes: a write the scenario cannot wait to see committed, as it does for its own events
      // before it closes anything. They are left out of the ledger, so `sent` is what the scenario controls.
      if (event.event === '$web_vital') continue;
      const known = ledger.events.get(event.id);
      if (known) known.beaconed ||= event.beaconed;
      else ledger.events.set(event.id, { ...event, committed: false });
    }
  } else {
    for (const id of report.ids) {
      const known = ledger.events.get(id);
      if (known) known.committed = true;
    }
  }
}

/**
 * Chromium's user agent as a visitor's desktop browser sends it: headless, it says HeadlessChrome, which the
 * gateway flags as a bot and the shipped queries leave out.
 */
function visitorUserAgent(): string {
  const version = /\d+(\.\d+)+/.exec(execFileSync(chromiumPath, ['--version'], { encoding: 'utf8' }))?.[0];
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version} Safari/537.36`;
}

/** The cookie that tells the page's probe the gateway is out of reach; the SDK never reads it. */
const downCookie = 'tidemark-chaos-gateway';

/**
 * Runs in every page before the SDK. It reports every event the SDK writes to its IndexedDB queue (and when that
 * write committed) to the scenario: those are the events the SDK accepted, whatever becomes of the page.
 * While the gateway is "down" (the cookie), it also fails what a page sends as it unloads: a beacon, or a
 * keepalive fetch, outlives the page and escapes Playwright's routing, so they are lost here the way a dead
 * network loses them (a beacon is accepted, a fetch fails).
 */
function probe(downCookie: string) {
  // Looked up at each call: Playwright installs the binding by a script of its own.
  const report = (message: unknown) =>
    (window as unknown as { __tidemarkChaos(report: unknown): void }).__tidemarkChaos(message);
  const down = () => document.cookie.includes(`${downCookie}=down`);
  const sendBeacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, data) => (down() ? true : sendBeacon(url, data));
  const fetch = window.fetch.bind(window);
  window.fetch = (input, init) =>
    down() && String(input).includes('/v1/')
      ? Promise.reject(new TypeError('Failed to fetch'))
      : fetch(input, init);

  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    const request = put.call(this, value, key);
    const stored = value as { json?: unknown; beaconed?: number } | null;
    if (this.name === 'queue' && typeof stored?.json === 'string') {
      const event = JSON.parse(stored.json) as {
        messageId: string;
        type: string;
        event?: string;
        timestamp: string;
        properties?: { seq?: number; phase?: string };
      };
      report({
        kind: 'stored',
        events: [
          {
            id: event.messageId,
            type: event.type,
            event: event.event,
            seq: event.properties?.seq,
            phase: event.properties?.phase,
            at: Date.parse(event.timestamp),
            beaconed: stored.beaconed !== undefined,
          },
        ],
      });
      this.transaction.addEventListener('complete', () =>
        report({ kind: 'committed', ids: [event.messageId] }),
      );
    }
    return request;
  } as IDBObjectStore['put'];
}

/**
 * A visitor: one browser profile (its IndexedDB, its anonymous id) that Chromium opens, closes and opens again
 * for each visit, with a few tabs of the site.
 */
export interface Visitor {
  name: string;
  tabs: Page[];
  /** The current browser's context; a new one after `revisit()`. */
  context(): BrowserContext;
  /** Opens one more tab of the site, once its SDK is loaded. */
  open(): Promise<Page>;
  /** Makes the gateway unreachable for this visitor (`true`), or reachable again. */
  gatewayDown(down: boolean): Promise<void>;
  /** Closes the browser (every tab) and opens it again on the same profile: the visitor's next visit. */
  revisit(): Promise<void>;
  close(): Promise<void>;
}

export async function createVisitor(
  name: string,
  site: string,
  gatewayUrl: string,
  ledger: Ledger,
): Promise<Visitor> {
  const profile = await mkdtemp(join(tmpdir(), `tidemark-visitor-${name}-`));
  const gatewayRoute = `${gatewayUrl}/**`;
  let down = false;
  let browser: TestBrowser | undefined;
  const tabs: Page[] = [];
  const userAgent = visitorUserAgent();

  async function launch() {
    browser = await launchBrowser(profile, { userAgent });
    const { context } = browser;
    await context.exposeBinding('__tidemarkChaos', (_source, report: Report) => record(ledger, report));
    // As source text with a stand-in for `__name`: tsx (pnpm chaos) compiles with esbuild's keepNames, which wraps
    // the probe's inner functions in a helper that only exists in Node.
    await context.addInitScript({
      content: `var __name = (f) => f; (${probe.toString()})(${JSON.stringify(downCookie)});`,
    });
    await applyDown(context);
  }

  async function applyDown(context: BrowserContext) {
    await context.clearCookies({ name: downCookie });
    if (down) {
      await context.addCookies([{ name: downCookie, value: 'down', url: site }]);
      await context.route(gatewayRoute, (route) => route.abort('internetdisconnected'));
    } else await context.unroute(gatewayRoute);
  }

  await launch();
  const context = () => {
    if (!browser) throw new Error(`visitor ${name} has no browser`);
    return browser.context;
  };

  return {
    name,
    tabs,
    context,
    async open() {
      const page = await context().newPage();
      await page.goto(site);
      await ready(page);
      tabs.push(page);
      return page;
    },
    async gatewayDown(value) {
      down = value;
      await applyDown(context());
    },
    async revisit() {
      await browser?.close();
      tabs.length = 0;
      await launch();
    },
    async close() {
      await browser?.close();
      browser = undefined;
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Resolves once the script tag's client replaced the snippet's stub. */
export const ready = (page: Page) =>
  page.waitForFunction(() => {
    const client = (window as { tidemark?: unknown }).tidemark;
    return client && !Array.isArray(client);
  });

/** `count` probe events in the page, numbered in the ledger; they count as tracked once `track()` returned. */
export async function trackProbes(
  page: Page,
  ledger: Ledger,
  count: number,
  properties: Record<string, string | number>,
): Promise<void> {
  const from = ledger.nextSeq;
  ledger.nextSeq += count;
  await page.evaluate(
    ({ event, from, count, properties }) => {
      const client = (window as unknown as { tidemark: { track(event: string, properties: object): void } })
        .tidemark;
      for (let i = 0; i < count; i++) client.track(event, { ...properties, seq: from + i });
    },
    { event: probeEvent, from, count, properties },
  );
  for (let seq = from; seq < from + count; seq++) ledger.tracked.add(seq);
}

/** Clicks the site's product buttons: the page's own code tracks `Product Added`. */
export async function clickProducts(page: Page, clicks: number): Promise<void> {
  const products = ['kayak', 'paddle', 'dry-bag'];
  for (let i = 0; i < clicks; i++) await page.locator(`button[data-product="${products[i % 3]}"]`).click();
}
