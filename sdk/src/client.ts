import { captureClicks } from './autocapture/clicks.js';
import { loadInteractions } from './autocapture/loadInteractions.js';
import { capturePageviews } from './autocapture/pageviews.js';
import { constantContext, pageContext } from './context.js';
import { onHidden } from './onHidden.js';
import { createQueue, type Entry } from './queue.js';
import { createSender } from './sender.js';
import { createVisitor } from './session.js';
import { createIdbStore, createLocalStore, createMemoryStore } from './store.js';
import { createTabLock } from './tabLock.js';
import { createTransport } from './transport.js';
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

/** While a call queued by the pre-load snippet is replayed: when the page made it. */
let calledAt: number | undefined;

/**
 * Runs `call`, a call the page made to the pre-load snippet at `at` (ms since the epoch), so that the event it
 * notes carries that time rather than the replay's. Snippets older than the time stamp queue none: `at` is then
 * undefined and the event gets the time of the replay.
 */
export function replayCall(at: number | undefined, call: () => void): void {
  calledAt = at;
  try {
    call();
  } finally {
    calledAt = undefined;
  }
}

/**
 * Creates a client. `track()` and friends only note the event (a few microseconds); a task later it is built,
 * passed through `beforeSend`, serialized and stored (IndexedDB → localStorage → memory), then sent in batches to
 * `host + endpoint`: with fetch keepalive once `flushAt` events wait or `flushInterval` ms after the first, with
 * `sendBeacon` when the page is hidden or unloaded. An event leaves the store only after the gateway answered
 * its batch with a 2xx. The tabs of one site share the stored events; one tab at a time sends them
 * (Web Locks), so no tab sends what another is sending.
 *
 * This file builds events and holds the API; the rest is composed in: the store (queue.ts, store.ts), sending
 * and settling (sender.ts) through fetch and beacon (transport.ts), when (flushScheduler.ts), how often after a
 * failure (backoff.ts), one tab at a time (tabLock.ts), and the page's last moment (onHidden.ts).
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
  const visitor = createVisitor(options.cookieless, options.sessionTimeout ?? 18e5);
  const { navigator, document } = globalThis;
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
  const { send, schedule, beacon } = createSender(
    queue,
    writeKey,
    createTransport(
      (options.host ?? '').replace(/\/+$/, '') + (options.endpoint ?? '/v1/batch'),
      writeKey,
      options.fetch ?? ((target, init) => fetch(target, init)),
      options.sendBeacon ?? ((target, data) => navigator.sendBeacon(target, data)),
      log,
    ),
    createTabLock(`tidemark:${writeKey}`, navigator?.locks),
    () => offline() || silent(),
    log,
  );
  const noted: Noted[] = [];

  function flush(): Promise<void> {
    build(Infinity);
    return send(true);
  }

  /**
   * Builds, filters and stores noted events, for at most `budget` ms; the rest a task later. `hiding`: the page is
   * being hidden, and the events must reach the store in this task (see `Queue.save`).
   */
  function build(budget: number, hiding?: boolean) {
    const start = Date.now();
    const ready: Entry[] = [];
    // Taken by index and cut once: `shift()` per event moved the whole backlog each time.
    let done = 0;
    while (Date.now() - start < budget && done < noted.length) {
      const [fields, at, page, userId] = noted[done++] as Noted;
      try {
        const event = beforeSend({
          // The user when the event happened (an alias names its own); `undefined` is left out of the JSON.
          userId,
          ...fields,
          messageId: uuidv7(),
          timestamp: new Date(at).toISOString(),
          anonymousId: visitor.anonymous(),
          context: { ...context, page, sessionId: visitor.session(at) },
        } as TidemarkEvent);
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
    if (noted.push([fields, calledAt ?? Date.now(), pageContext(), visitor.read('userId')]) === 1)
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
      // A page event's properties: the page context without `search`, which `url` holds.
      const { search, ...page } = pageContext();
      note({ type: 'page', name, properties: withRegistered({ ...page, ...properties }) });
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
    // What this page noted reaches the store in this task, and goes by beacon: the page may be gone next.
    onHidden(() => {
      build(Infinity, true);
      beacon();
    });
    addEventListener('online', flush);
    if (autoPageviews) capturePageviews(() => client.page());
    captureClicks(client, options);
    if (options.autocapture) loadInteractions(client, options);
  }
  return client;
}
