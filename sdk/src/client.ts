import { type Chunk, chunks, envelope, MAX_BODY_BYTES } from './batch.js';
import { eventContext, pageContext } from './context.js';
import { BEACONED, createQueue, HELD, INFLIGHT, PENDING } from './queue.js';
import { retryDelay } from './retry.js';
import { anonymousId } from './session.js';
import { createIdbStore } from './store.js';
import { createTransport } from './transport.js';
import type { Properties, TidemarkClient, TidemarkEvent, TidemarkOptions } from './types.js';
import { uuidv7 } from './uuid.js';

/**
 * Creates a client. Events are stored when tracked and sent in batches to `host + '/v1/batch'`: with fetch
 * keepalive once `flushAt` events wait or `flushInterval` ms after the first, with `sendBeacon` when the page
 * is hidden or unloaded. An event leaves the store only after the gateway answered its batch with a 2xx
 * (DESIGN §6.1). Several clients with one write key on one page would each send the stored events: create one.
 */
export function createClient(options: TidemarkOptions): TidemarkClient {
  const { writeKey, flushAt = 20, flushInterval = 5000 } = options;
  const log = options.debug ? (...args: unknown[]) => console.log('[tidemark]', ...args) : () => {};
  if (!writeKey) {
    console.warn('[tidemark] no writeKey');
    return { track() {}, page() {}, flush: async () => {} };
  }
  const queue = createQueue(options.store ?? createIdbStore(), writeKey, log);
  const transport = createTransport(`${(options.host ?? '').replace(/\/+$/, '')}/v1/batch`, options, log);
  const offline = () => globalThis.navigator?.onLine === false;

  let timer: ReturnType<typeof setTimeout> | undefined;
  /** When `timer` fires. */
  let due = 0;
  /** Failed attempts in a row: the exponent of the back-off. */
  let failures = 0;
  /** Automatic sends wait until then after a failure; `flush()` does not. */
  let backoffUntil = 0;
  /** The gateway's `Retry-After`: not even `flush()` sends earlier. */
  let retryAfterUntil = 0;
  /** The send loop under way, if any: one at a time keeps batches in order and requests few. */
  let running: Promise<void> | undefined;

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

  function send(force: boolean): Promise<void> {
    running ??= drain(force).finally(() => {
      running = undefined;
    });
    return running;
  }

  /** Sends the pending events, one body after another, until none is left or a request failed. */
  async function drain(force: boolean) {
    await queue.ready;
    for (;;) {
      // Offline, a request can only fail; the `online` event resumes.
      if (offline()) return;
      const chunk = chunks(queue.list(PENDING), writeKey).next().value;
      if (!chunk) return;
      const wait = Math.max(retryAfterUntil, force ? 0 : backoffUntil) - Date.now();
      if (wait > 0) return schedule(wait);
      if (!(await deliver(chunk))) return;
    }
  }

  /** POSTs one body and settles its events; `false` when it must be retried later. */
  async function deliver(chunk: Chunk): Promise<boolean> {
    queue.mark(chunk.ids, INFLIGHT);
    // A body over the keepalive quota would be refused outright with keepalive: send it plainly.
    const [outcome, retryAfterMs] = await transport.post(
      envelope(writeKey, chunk.jsons),
      chunk.bytes <= MAX_BODY_BYTES,
    );
    if (outcome === 'retry') {
      queue.mark(chunk.ids, PENDING);
      const delay = retryDelay(failures++, retryAfterMs);
      backoffUntil = Date.now() + delay;
      retryAfterUntil = Date.now() + retryAfterMs;
      schedule(delay);
      return false;
    }
    failures = 0;
    backoffUntil = 0;
    if (outcome === 'hold') queue.mark(chunk.ids, HELD);
    else queue.remove(chunk.ids);
    return true;
  }

  /**
   * The page is being hidden, maybe for good: timers may never fire again and a plain fetch may be cancelled,
   * so the pending events go by beacon now. The browser sends a beacon after the page is gone but never says
   * whether it arrived, so the events stay stored (see BEACONED).
   */
  function beacon() {
    if (offline()) return;
    for (const chunk of chunks(queue.list(PENDING), writeKey)) {
      if (chunk.bytes <= MAX_BODY_BYTES && transport.beacon(envelope(writeKey, chunk.jsons))) {
        queue.mark(chunk.ids, BEACONED);
      } else {
        // No sendBeacon, or the browser refused the body (its quota is full): fetch keepalive may still get
        // through, and if the page lives on, its answer settles the events like any other.
        void deliver(chunk);
      }
    }
  }

  /** Visible again: what went by beacon may not have arrived; send it again (a duplicate collapses by id). */
  function wake() {
    const beaconed = queue.list(BEACONED);
    if (!beaconed.length) return;
    queue.mark(
      beaconed.map(([id]) => id),
      PENDING,
    );
    schedule(0);
  }

  function flush(): Promise<void> {
    const force = () => send(true);
    return running ? running.then(force) : force();
  }

  let visitor: string | undefined;
  function enqueue(fields: Pick<TidemarkEvent, 'type' | 'event' | 'name' | 'properties'>) {
    try {
      visitor ??= anonymousId();
      const messageId = uuidv7();
      const event: TidemarkEvent = {
        ...fields,
        messageId,
        timestamp: new Date().toISOString(),
        anonymousId: visitor,
        context: eventContext(),
      };
      // Serialized once, now: a cycle in the properties drops this event, not the queue.
      queue.add(messageId, JSON.stringify(event));
    } catch (error) {
      log('dropped', error);
      return;
    }
    if (queue.list(PENDING).length >= flushAt) void send(false);
    else schedule(flushInterval);
  }

  // Events an earlier page left behind go out as soon as they are loaded.
  void queue.ready.then((loaded) => {
    if (loaded) void send(false);
  });

  const { document } = globalThis;
  if (document) {
    // `visibilitychange` is the last event mobile browsers reliably fire before discarding a page; `pagehide`
    // covers the desktop unloads where it does not fire (https://developer.chrome.com/docs/web-platform/page-lifecycle-api).
    document.addEventListener('visibilitychange', () =>
      document.visibilityState === 'hidden' ? beacon() : wake(),
    );
    addEventListener('pagehide', beacon);
    addEventListener('online', () => void flush());
  }

  return {
    track(event, properties?: Properties) {
      enqueue({ type: 'track', event, properties: { ...properties } });
    },
    page(name, properties?: Properties) {
      const { url, path, title, referrer } = pageContext();
      enqueue({ type: 'page', name, properties: { url, path, title, referrer, ...properties } });
    },
    flush,
  };
}
