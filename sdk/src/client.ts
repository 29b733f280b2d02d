import { captureClicks } from './autocapture/clicks.js';
import { capturePageviews } from './autocapture/pageviews.js';
import { type Chunk, chunks, envelope, MAX_BODY_BYTES } from './batch.js';
import { constantContext, pageContext } from './context.js';
import { createQueue, type Entry } from './queue.js';
import { createVisitor } from './session.js';
import { createIdbStore, createLocalStore, createMemoryStore } from './store.js';
import type {
  EventMap,
  PageContext,
  Properties,
  TidemarkClient,
  TidemarkEvent,
  TidemarkOptions,
} from './types.js';
import { uuidv7 } from './uuid.js';

/** An event as `track()` and friends note it: the caller's fields, the time, the page. Built later (`build`). */
type Noted = [fields: Partial<TidemarkEvent>, at: number, page: PageContext, userId?: string];

/** Milliseconds of building and storing noted events per task: well below the 50 ms of a long task. */
const SLICE_MS = 8;

/**
 * Creates a client. `track()` and friends only note the event (a few microseconds); a task later it is built,
 * passed through `beforeSend`, serialized and stored (IndexedDB → localStorage → memory), then sent in batches to
 * `host + endpoint`: with fetch keepalive once `flushAt` events wait or `flushInterval` ms after the first, with
 * `sendBeacon` when the page is hidden or unloaded. An event leaves the store only after the gateway answered
 * its batch with a 2xx (DESIGN §6.1). The tabs of one site share the stored events; one tab at a time sends them
 * (Web Locks), so no tab sends what another is sending.
 */
export function createClient<Events extends EventMap = EventMap>(
  options: TidemarkOptions,
): TidemarkClient<Events> {
  const {
    writeKey,
    flushAt = 20,
    flushInterval = 5000,
    beforeSend = (event) => event,
    autoPageviews = true,
  } = options;
  const log = options.debug ? (...args: unknown[]) => console.log('[tidemark]', ...args) : () => {};
  if (!writeKey) console.warn('[tidemark] no writeKey');
  const queue = createQueue(
    options.store ? [options.store] : [createIdbStore(), createLocalStore(), createMemoryStore()],
    writeKey,
    {
      maxEvents: options.maxQueueEvents ?? 1000,
      maxBytes: options.maxQueueBytes ?? 2e6,
      maxAge: options.maxQueueAge ?? 6048e5,
    },
    log,
  );
  const url = (options.host ?? '').replace(/\/+$/, '') + (options.endpoint ?? '/v1/batch');
  const post = options.fetch ?? ((target: string, init: RequestInit) => fetch(target, init));
  const visitor = createVisitor(options.cookieless, options.sessionTimeout ?? 18e5);
  const { navigator, document } = globalThis;
  const sendBeacon =
    options.sendBeacon ?? ((target: string, data: string) => navigator.sendBeacon(target, data));
  const offline = () => navigator?.onLine === false;
  const privacySignal =
    options.respectDoNotTrack &&
    (navigator?.doNotTrack === '1' ||
      (navigator as { globalPrivacyControl?: boolean })?.globalPrivacyControl);
  /** Nothing is stored or sent: opted out, or consent required and not given. */
  const silent = () => {
    const consent = visitor.read('consent');
    return !writeKey || consent === '0' || (consent !== '1' && (options.requireConsent || !!privacySignal));
  };
  const context = constantContext();

  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When `timer` fires. */
  let due = 0;
  /** Failed attempts in a row: the exponent of the back-off. */
  let failures = 0;
  /** Automatic sends wait until then after a failure; `flush()` does not. */
  let backoffUntil = 0;
  /** The gateway's `Retry-After`: not even `flush()` sends earlier. */
  let retryAfterUntil = 0;
  /** A 401/403/404: the configuration is wrong, and this page sends nothing more (see `Outcome` in retry.ts). */
  let held = false;
  /** Events deleted unsent because the stored queue was over a limit, reported with the next batch. */
  let dropped = 0;
  /**
   * Events in a request under way, and events this page handed to `sendBeacon`: no beacon carries them (again).
   * A request that failed frees its events, which a beacon then takes.
   */
  const out = new Set<string>();
  /** The send loop under way, if any: one at a time keeps batches in order and requests few. */
  let running: Promise<void> | undefined;
  const noted: Noted[] = [];

  /** Sends (without forcing) in `delay` ms, unless a send is already due sooner. */
  function schedule(delay: number) {
    const at = Date.now() + delay;
    if (timer !== undefined && due <= at) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => {
      timer = undefined;
      void send(false);
    }, delay);
  }

  /** Sends what is stored; after the send under way, if there is one (it may have read the store too early). */
  function send(force: boolean): Promise<void> {
    if (running) return running.then(() => send(force));
    running = exclusive(() => drain(force))
      .catch(log)
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  /**
   * Runs `work` while no other tab of the site runs its own: the Web Locks API, where there is one (all current
   * browsers; Safari from 15.4). Without it tabs may send an event twice, which ClickHouse collapses.
   */
  function exclusive(work: () => Promise<void>): Promise<void> {
    const locks = navigator?.locks;
    return locks ? locks.request(`tidemark:${writeKey}`, work).then(() => {}) : work();
  }

  /**
   * Sends the stored events, one body after another, until none is left or a request failed. Each read of the
   * store is sent whole before the next read, which finds what was stored meanwhile.
   */
  async function drain(force: boolean) {
    for (;;) {
      const [entries, over] = await queue.take();
      dropped += over;
      // Nothing due; events a page beaconed become due once their grace is over, and no track may come to
      // trigger a send then.
      if (!entries.length) {
        if (queue.later()) schedule(queue.later());
        return;
      }
      for (const chunk of chunks(entries, writeKey, dropped)) {
        // Offline, a request can only fail; the `online` event resumes.
        if (held || offline() || silent()) return;
        const wait = Math.max(retryAfterUntil, force ? 0 : backoffUntil) - Date.now();
        if (wait > 0) return schedule(wait);
        if (!(await deliver(chunk))) return;
      }
    }
  }

  /**
   * POSTs one body and settles its events; `false` when it must be retried later. Bodies are strings, so they
   * go as `text/plain`, a CORS-safelisted type: no preflight (DESIGN §2). What the status means:
   * - 2xx: delivered; the events the answer lists as rejected were invalid and are dropped with the rest.
   * - 408, 429, 5xx, or no answer at all (network error, blocked): the same events (same `messageId`s) again,
   *   after an exponential back-off from 1 s, capped at 60 s, with 50–100 % jitter so that pages a failing
   *   gateway bounced do not come back in step, and never before the gateway's `Retry-After` (delay-seconds;
   *   cross-origin, the gateway exposes it).
   * - 400 (no event of the body usable) and 413 (an event over the gateway's limit): the gateway judged them
   *   invalid; the same bytes cannot succeed, and keeping them would block every event behind them. Dropped.
   * - Any other status (401 unknown write key, 403 origin not allowed, 404 wrong host): a configuration
   *   problem, not the events' fault. They stay stored, this page sends nothing more, a later page load does.
   */
  async function deliver(chunk: Chunk): Promise<boolean> {
    for (const id of chunk.ids) out.add(id);
    const reported = dropped;
    let response: Response | undefined;
    try {
      // `omit`: the gateway knows visitors by anonymousId, never by cookie, and allows no credentials. A
      // body over the keepalive quota would be refused outright with keepalive: it goes plainly.
      response = await post(url, {
        method: 'POST',
        body: envelope(writeKey, chunk.jsons, reported),
        keepalive: chunk.bytes <= MAX_BODY_BYTES,
        credentials: 'omit',
      });
    } catch (error) {
      log(error);
    }
    for (const id of chunk.ids) out.delete(id);
    const status = response?.status ?? 0;
    log('status', status);
    if (!status || status === 408 || status === 429 || status > 499) {
      const retryAfterMs = Number(response?.headers.get('Retry-After')) * 1000 || 0;
      const delay = Math.max(retryAfterMs, Math.min(6e4, 1000 * 2 ** failures++) * (0.5 + Math.random() / 2));
      backoffUntil = Date.now() + delay;
      retryAfterUntil = Date.now() + retryAfterMs;
      schedule(delay);
      return false;
    }
    failures = backoffUntil = 0;
    held = status > 299 && status !== 400 && status !== 413;
    if (held) return false;
    dropped -= reported;
    await queue.remove(chunk.ids);
    return true;
  }

  /**
   * The page is being hidden, maybe for good: timers may never fire again and a plain fetch may be cancelled,
   * so this page's unsent events go by beacon now. The browser sends a beacon after the page is gone but never
   * says whether it arrived, so the events stay stored, marked (see BEACON_GRACE). Events other tabs or earlier
   * pages stored wait for the next send of any tab: a beacon cannot wait for the lock.
   */
  function beacon() {
    build(Infinity, true);
    if (offline() || held || silent()) return;
    const sent: Entry[] = [];
    let refused = false;
    for (const chunk of chunks(
      queue.mine().filter(([id]) => !out.has(id)),
      writeKey,
      0,
    )) {
      try {
        refused = !(chunk.bytes <= MAX_BODY_BYTES && sendBeacon(url, envelope(writeKey, chunk.jsons, 0)));
      } catch (error) {
        // No `sendBeacon`; or Chrome threw (rather than returning false) on the URL or in this frame.
        log(error);
        refused = true;
      }
      if (refused) break;
      chunk.ids.forEach((id, i) => {
        out.add(id);
        sent.push([id, chunk.jsons[i] as string]);
      });
    }
    // The marks first: queue operations run in order, so the send below does not carry what went by beacon.
    void queue.markBeaconed(sent);
    // No sendBeacon, or the browser refused a body (its quota is full): fetch keepalive may still get through,
    // and if the page lives on, its answer settles the events like any other.
    if (refused) void send(true);
  }

  function flush(): Promise<void> {
    build(Infinity);
    return send(true);
  }

  /**
   * Builds, filters and stores noted events, for at most `budget` ms; the rest a task later. `hiding`: the page is
   * being hidden, and the events must reach the store in this task (see `Queue.save`).
   */
  function build(budget: number, hiding = false) {
    const start = Date.now();
    const ready: Entry[] = [];
    // Taken by index and cut once: `shift()` per event moved the whole backlog each time.
    let done = 0;
    while (Date.now() - start < budget && done < noted.length) {
      const [fields, at, page, userId] = noted[done++] as Noted;
      try {
        let event: TidemarkEvent | null | undefined | false = {
          // The user when the event happened (an alias names its own); `undefined` is left out of the JSON.
          userId,
          ...fields,
          messageId: uuidv7(),
          timestamp: new Date(at).toISOString(),
          anonymousId: visitor.anonymous(),
          context: { ...context, page, sessionId: visitor.session(at) },
        } as TidemarkEvent;
        event = beforeSend(event);
        // Serialized once, now: a cycle in the properties drops this event, not the queue.
        if (event) ready.push([event.messageId, JSON.stringify(event)]);
      } catch (error) {
        log('dropped', error);
      }
    }
    noted.splice(0, done);
    if (noted.length) setTimeout(build, 0, SLICE_MS);
    if (!ready.length) return;
    log('stored', ready.length);
    void queue.save(ready, hiding);
    if (queue.mineCount() >= flushAt) void send(false);
    else schedule(flushInterval);
  }

  function note(fields: Partial<TidemarkEvent>) {
    if (silent()) return;
    if (noted.push([fields, Date.now(), pageContext(), visitor.read('userId')]) === 1)
      setTimeout(build, 0, SLICE_MS);
  }

  /** Deletes whatever waits unsent: opting out means nothing more leaves this device. */
  function purge() {
    void queue.take(true).then(([entries]) => queue.remove(entries.map(([id]) => id)));
  }

  /** `properties` after the `register()`ed ones. */
  function withRegistered(properties?: Properties): Properties {
    let registered: Properties | undefined;
    try {
      registered = JSON.parse(visitor.read('props') ?? '{}');
    } catch {
      // Unreadable: none.
    }
    return { ...registered, ...properties };
  }

  const client: TidemarkClient<Events> = {
    track(event, properties) {
      note({ type: 'track', event, properties: withRegistered(properties) });
    },
    page(name, properties) {
      const { url, path, title, referrer } = pageContext();
      note({ type: 'page', name, properties: withRegistered({ url, path, title, referrer, ...properties }) });
    },
    identify(userId, traits) {
      visitor.write('userId', String(userId));
      note({ type: 'identify', traits: { ...traits } });
    },
    group(groupId, traits) {
      note({ type: 'group', groupId: String(groupId), traits: { ...traits } });
    },
    alias(userId, previousId) {
      note({
        type: 'alias',
        userId: String(userId),
        previousId: previousId ?? visitor.read('userId') ?? visitor.anonymous(),
      });
    },
    reset() {
      build(Infinity);
      for (const name of ['anonymousId', 'userId', 'session', 'props'] as const) visitor.write(name);
    },
    register(properties) {
      visitor.write('props', JSON.stringify(withRegistered(properties)));
    },
    optOut() {
      noted.length = 0;
      visitor.write('consent', '0');
      purge();
    },
    optIn() {
      visitor.write('consent', '1');
      void send(false);
    },
    flush,
  };

  if (writeKey && document) {
    // Events earlier pages or other tabs left behind go out now; or, opted out, are deleted (the page that
    // opted out may have been left before its delete was done).
    if (visitor.read('consent') === '0') purge();
    else void send(false);
    // `visibilitychange` is the last event mobile browsers reliably fire before discarding a page; `pagehide`
    // covers the desktop unloads where it does not fire (https://developer.chrome.com/docs/web-platform/page-lifecycle-api).
    document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && beacon());
    addEventListener('pagehide', beacon);
    addEventListener('online', () => void flush());
    if (autoPageviews) capturePageviews(() => client.page());
    captureClicks(client, options);
  }
  return client;
}
