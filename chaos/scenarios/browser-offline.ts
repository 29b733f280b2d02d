import type { Page } from 'playwright-core';
import { serveSite, vanillaRoot } from '../../examples/vanilla/serve.js';
import { eventually } from '../../harness/eventually.js';
import { queuedInBrowser } from '../../harness/rows.js';
import { runQuery } from '../../queries/src/index.js';
import { type ProcessPipeline, startProcessPipeline } from '../browser/pipeline.js';
import {
  clickProducts,
  createLedger,
  createVisitor,
  type Ledger,
  probeEvent,
  ready,
  trackProbes,
  type Visitor,
} from '../browser/visitor.js';
import type { DeliveryResult, Scenario, ScenarioOptions } from '../report.js';

// Issue 8, "a browser offline across reloads and tab closes": visitors in real Chromium, the real script-tag SDK
// on the vanilla example site, the distributed pipeline as separate processes. Each cycle the visitors use the
// site, lose the network (tracking and clicking on), reload and close tabs while the gateway stays out of reach,
// close the browser and come back (same profile: the next visit), then the network returns. Every event the SDK
// accepted must be stored once.

/** How big a run is. */
interface Plan {
  visitors: number;
  cycles: number;
  /** Probe events per burst; a visitor makes about 9 bursts a cycle. */
  burst: number;
  /** Every `refuseEvery`-th cycle the gateway answers 503 for `refuseMs` once the network is back. */
  refuseEvery: number;
  refuseMs: number;
}

// The SDK keeps at most 1000 events (2 MB of JSON, 7 days) per origin while it cannot send; a visitor's offline
// window here holds about 6 bursts plus a few page views and clicks, well inside that promise.
const plans: Record<'short' | 'full', Plan> = {
  short: { visitors: 2, cycles: 3, burst: 15, refuseEvery: 2, refuseMs: 3_000 },
  full: { visitors: 3, cycles: 8, burst: 40, refuseEvery: 3, refuseMs: 5_000 },
};

/** One offline window, as the scenario observed it. */
export interface OfflineWindow {
  cycle: number;
  /** `/v1/batch` requests the gateway answered while the visitors were offline: 0 if offline really held. */
  gatewayRequests: number;
  /** Events the visitors' IndexedDB queues held as the window ended. */
  queued: number;
  /** Events tracked during the window. */
  held: number;
  /** Of those, events the gateway received before the window ended: 0 if offline really held. */
  receivedEarly: number;
  /** Whether the gateway answered 503 for a while after the network came back. */
  refused: boolean;
  /**
   * From the end of the fault (network back, or the 503s over) to every event tracked so far stored, in ms;
   * Infinity when some never were (within a minute).
   */
  recoveryMs: number;
}

/** The delivery counts, and what each offline window looked like. */
export interface BrowserOfflineResult extends DeliveryResult {
  windows: OfflineWindow[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const browserOffline: Scenario<BrowserOfflineResult> = async (options: ScenarioOptions) => {
  const plan = options.short ? plans.short : plans.full;
  const log = options.log ?? console.log;
  const startedAt = Date.now();
  const pipeline = await startProcessPipeline(options.brokers);
  const visitors: Visitor[] = [];
  const site = await serveSite({
    root: vanillaRoot,
    gatewayUrl: pipeline.gatewayUrl,
    writeKey: pipeline.writeKey,
  });
  try {
    const ledger = createLedger();
    for (let i = 0; i < plan.visitors; i++)
      visitors.push(await createVisitor(`v${i}`, site.url, pipeline.gatewayUrl, ledger));
    log(
      `browser-offline: pipeline up in ${Date.now() - startedAt} ms; ${plan.visitors} visitors, ${plan.cycles} cycles`,
    );

    const batchUrl = `${pipeline.gatewayUrl}/v1/batch`;
    const windows: OfflineWindow[] = [];
    /** When each window began and ended, for the check that nothing it held reached the gateway before its end. */
    const spans: [start: number, end: number][] = [];
    for (let cycle = 0; cycle < plan.cycles; cycle++) {
      await Promise.all(visitors.map((visitor) => useOnline(visitor, ledger, plan, cycle)));

      for (const visitor of visitors) {
        await visitor.context().setOffline(true);
        await visitor.gatewayDown(true);
      }
      // A request the browser sent just before has had the time to be answered.
      await sleep(300);
      const requestsBefore = await pipeline.batchRequests();
      const windowStart = Date.now();
      await Promise.all(visitors.map((visitor) => useOffline(visitor, ledger, plan, cycle)));
      let queued = 0;
      for (const visitor of visitors) queued += await queuedInBrowser(visitor.tabs[0] as Page);
      const gatewayRequests = (await pipeline.batchRequests()) - requestsBefore;
      const windowEnd = Date.now();

      // Back online: the browser fires `online`, and the SDK sends what it kept. Some cycles the gateway turns
      // the first attempts away with 503 and Retry-After (a mock of an overloaded gateway, in the browser).
      const refused = (cycle + 1) % plan.refuseEvery === 0;
      const expected = [...ledger.events.keys()];
      for (const visitor of visitors) {
        await visitor.gatewayDown(false);
        if (refused) await refuse(visitor, batchUrl);
        await visitor.context().setOffline(false);
      }
      if (refused) {
        await sleep(plan.refuseMs);
        for (const visitor of visitors) await visitor.context().unroute(batchUrl);
      }
      const faultEnd = Date.now();
      const unrecovered = await allStored(pipeline, ledger, expected, log);
      // A window whose events never all arrived has no recovery time: its loss is in the counts.
      const recoveryMs = unrecovered ? Number.POSITIVE_INFINITY : Date.now() - faultEnd;
      const held = [...ledger.events.values()].filter((e) => e.at >= windowStart && e.at <= windowEnd).length;
      windows.push({ cycle, gatewayRequests, queued, held, receivedEarly: 0, refused, recoveryMs });
      log(
        `cycle ${cycle + 1}/${plan.cycles}: offline ${windowEnd - windowStart} ms, ${held} events tracked offline, ` +
          `${queued} queued in IndexedDB, ${gatewayRequests} gateway requests meanwhile; ` +
          `${refused ? `503 for ${plan.refuseMs} ms, ` : ''}all stored ${recoveryMs} ms after`,
      );
      spans.push([windowStart, windowEnd]);
    }

    // The end: everything online, every tab flushed, the sink caught up; then a moment for a late duplicate.
    for (const visitor of visitors)
      for (const tab of visitor.tabs)
        await tab.evaluate(() => (window as { tidemark?: { flush(): Promise<void> } }).tidemark?.flush());
    await allStored(pipeline, ledger, [...ledger.events.keys()], log);
    await eventually(async () => ((await pipeline.lag()) === 0 ? true : undefined), {
      what: 'the sink to catch up',
    });
    await sleep(1_500);
    return await count(pipeline, ledger, windows, spans, startedAt, plan);
  } finally {
    for (const visitor of visitors) await visitor.close().catch(() => {});
    await site.close();
    await pipeline.stop();
  }
};

/** A visit with the network up: two tabs in use, one of them closed right after a burst and opened again. */
async function useOnline(visitor: Visitor, ledger: Ledger, plan: Plan, cycle: number) {
  while (visitor.tabs.length < 2) await visitor.open();
  for (const tab of visitor.tabs) {
    await trackProbes(tab, ledger, plan.burst, { visitor: visitor.name, cycle, phase: 'online' });
    await clickProducts(tab, 2);
  }
  // Closed mid-send: the events go by beacon as the page hides, or are left for the next page.
  const closing = visitor.tabs.pop() as Page;
  await trackProbes(closing, ledger, plan.burst, { visitor: visitor.name, cycle, phase: 'online-close' });
  await closing.close({ runBeforeUnload: true });
  await visitor.open();
}

/**
 * The visitor while the gateway is out of reach: first the device is offline; then the network is back but the
 * gateway still cannot be reached (a captive portal, a blocked host), so pages load: a tab is reloaded, another
 * closed right after tracking (its beacon is lost), the browser closed with unsent events and opened again on
 * the same profile. It ends offline again, so that coming back fires `online`.
 */
async function useOffline(visitor: Visitor, ledger: Ledger, plan: Plan, cycle: number) {
  const probe = (tab: Page, phase: string) =>
    trackProbes(tab, ledger, plan.burst, { visitor: visitor.name, cycle, phase });
  for (const tab of visitor.tabs) {
    await probe(tab, 'offline');
    await clickProducts(tab, 2);
  }

  await visitor.context().setOffline(false);
  const [first, second] = visitor.tabs as [Page, Page];
  await first.reload();
  await ready(first);
  await probe(first, 'reloaded');

  await probe(second, 'closed-tab');
  await second.close({ runBeforeUnload: true });
  visitor.tabs.splice(1, 1);

  // The browser is closed a moment after the last click, once the SDK has written its events (a browser that is
  // killed before that is outside what the SDK can promise).
  await probe(first, 'closed-browser');
  const last = ledger.nextSeq - 1;
  await eventually(async () =>
    [...ledger.events.values()].some((e) => e.seq === last && e.committed) ? true : undefined,
  );
  await visitor.revisit();
  for (let i = 0; i < 2; i++) {
    const tab = await visitor.open();
    await probe(tab, 'next-visit');
    await clickProducts(tab, 1);
  }
  await visitor.context().setOffline(true);
}

/** Every batch request of this visitor's pages is answered 503 with Retry-After: 1 until unrouted. */
async function refuse(visitor: Visitor, batchUrl: string) {
  await visitor.context().route(batchUrl, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    await route.fulfill({
      status: 503,
      headers: {
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'Retry-After',
        'retry-after': '1',
        'content-type': 'application/json',
      },
      body: '{"statusCode":503,"error":"Service Unavailable","message":"overloaded"}',
    });
  });
}

/** The distinct event ids stored for the project. */
async function storedIds(pipeline: ProcessPipeline): Promise<Set<string>> {
  const rows = await pipeline.clickhouse.query<{ id: string }>(
    'SELECT DISTINCT toString(event_id) AS id FROM tidemark.events WHERE project_id = {project:String}',
    { project: pipeline.projectId },
  );
  return new Set(rows.map((row) => row.id));
}

/**
 * Waits until every one of `ids` is stored, for at most a minute; says how many are still missing then (and logs
 * a few), so that a loss shows up in the counts rather than as a time-out.
 */
async function allStored(
  pipeline: ProcessPipeline,
  ledger: Ledger,
  ids: string[],
  log: (line: string) => void,
) {
  let missing: string[] = ids;
  await eventually(
    async () => {
      const stored = await storedIds(pipeline);
      missing = ids.filter((id) => !stored.has(id));
      return missing.length === 0 ? true : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'every event to be stored' },
  ).catch(() => {
    const first = missing.slice(0, 5).map((id) => JSON.stringify(ledger.events.get(id)));
    log(`${missing.length} of ${ids.length} events still not stored after 60 s, e.g.\n${first.join('\n')}`);
  });
  return missing.length;
}

/** Compares what the pages created with what ClickHouse holds, and what the shipped queries count. */
async function count(
  pipeline: ProcessPipeline,
  ledger: Ledger,
  windows: OfflineWindow[],
  spans: [start: number, end: number][],
  startedAt: number,
  plan: Plan,
): Promise<BrowserOfflineResult> {
  const project = pipeline.projectId;
  const perId = await pipeline.clickhouse.query<{ id: string; rows: number; received: number }>(
    `SELECT toString(event_id) AS id, count() AS rows, toUnixTimestamp64Milli(min(received_at)) AS received
       FROM tidemark.events FINAL WHERE project_id = {project:String} GROUP BY id`,
    { project },
  );
  const [raw] = await pipeline.clickhouse.query<{ rows: number }>(
    'SELECT count() AS rows FROM tidemark.events WHERE project_id = {project:String}',
    { project },
  );
  // A probe stored under two event ids was minted twice: a double that no event_id dedup can catch.
  const reminted = await pipeline.clickhouse.query<{ seq: number; ids: number }>(
    `SELECT JSONExtractInt(properties, 'seq') AS seq, uniqExact(event_id) AS ids FROM tidemark.events FINAL
      WHERE project_id = {project:String} AND event = {event:String} GROUP BY seq HAVING ids > 1`,
    { project, event: probeEvent },
  );
  const range = { project, from: new Date(startedAt - 60_000), to: new Date(Date.now() + 60_000) };
  const filters = { host: '', country: '', device_type: '' };
  const [overview] = await runQuery<'overview', { pageviews: number }>(pipeline.clickhouse, 'overview', {
    ...range,
    ...filters,
  });
  const custom = await runQuery<'custom_events', { events: number }>(pipeline.clickhouse, 'custom_events', {
    ...range,
    ...filters,
    limit: 1000,
  });

  const stored = new Map(perId.map((row) => [row.id, row]));
  const probed = new Set([...ledger.events.values()].map((e) => e.seq).filter((seq) => seq !== undefined));
  // A probe the page tracked that the SDK never wrote anywhere: lost before it was even stored.
  const neverStored = [...ledger.tracked].filter((seq) => !probed.has(seq));
  const sentIds = [...ledger.events.keys()];
  const sent = sentIds.length + neverStored.length;
  const storedCount = sentIds.filter((id) => stored.has(id)).length;
  const lostIds = sentIds.filter((id) => !stored.has(id));
  const doubled =
    perId.reduce((sum, row) => sum + Number(row.rows) - 1, 0) +
    reminted.reduce((sum, row) => sum + Number(row.ids) - 1, 0);
  const unexpected = perId.filter((row) => !ledger.events.has(row.id)).length;
  const counted = Number(overview?.pageviews ?? 0) + custom.reduce((sum, row) => sum + Number(row.events), 0);

  windows.forEach((window, i) => {
    const [start, end] = spans[i] as [number, number];
    window.receivedEarly = [...ledger.events.values()].filter(
      (e) => e.at >= start && e.at <= end && Number(stored.get(e.id)?.received ?? Infinity) < end,
    ).length;
  });
  const events = [...ledger.events.values()];
  const lostEvents = lostIds.map((id) => ledger.events.get(id));
  return {
    scenario: `browser offline ×${plan.cycles}, ${plan.visitors} visitors (Chromium)`,
    faults: windows.length,
    sent,
    stored: storedCount,
    lost: sent - storedCount,
    doubled,
    counted,
    recoveryMs: Math.max(0, ...windows.map((w) => w.recoveryMs)),
    durationMs: Date.now() - startedAt,
    windows,
    notes: [
      `events: ${events.filter((e) => e.event === probeEvent).length} probes, ${events.filter((e) => e.type === 'page').length} page views, ${events.filter((e) => e.event === 'Product Added').length} clicks`,
      `tracked offline: ${windows.reduce((sum, w) => sum + w.held, 0)}; gateway requests during offline windows: ${windows.reduce((sum, w) => sum + w.gatewayRequests, 0)}; received before their window ended: ${windows.reduce((sum, w) => sum + w.receivedEarly, 0)}`,
      `queued in IndexedDB at each window's end: ${windows.map((w) => w.queued).join(', ')}`,
      `recovery per window (ms): ${windows.map((w) => `${w.recoveryMs}${w.refused ? ' (503s first)' : ''}`).join(', ')}`,
      `events handed to a beacon that was lost: ${events.filter((e) => e.beaconed).length}`,
      `raw rows ${Number(raw?.rows ?? 0)} (resent copies merged by FINAL: ${Number(raw?.rows ?? 0) - perId.length}); rows of no page event: ${unexpected}`,
      ...(neverStored.length
        ? [`probes tracked but never written by the SDK: ${neverStored.slice(0, 10).join(', ')}`]
        : []),
      ...(lostIds.length
        ? [
            `lost (first 10): ${lostEvents
              .slice(0, 10)
              .map((e) => `${e?.id} ${e?.event ?? e?.type} seq=${e?.seq} committed=${e?.committed}`)
              .join('; ')}`,
          ]
        : []),
    ],
  };
}
