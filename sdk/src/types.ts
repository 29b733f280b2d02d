/**
 * Free-form data attached to an event. It travels as JSON, so values should be JSON-serializable:
 * functions and `undefined` are dropped, `Date`s become ISO strings, and an event whose properties
 * cannot be serialized at all (a cycle) is discarded at `track()` time rather than poisoning the queue.
 */
export type Properties = Record<string, unknown>;

/**
 * The kinds of event this SDK sends (a subset of the Segment spec). Later releases add
 * `'identify' | 'group' | 'alias'`.
 */
export type EventType = 'track' | 'page';

/** Where the event happened, read from `location` and `document` when it was tracked. */
export interface PageContext {
  /** `location.href`: the full URL, query string included. */
  url: string;
  /** `location.pathname`. */
  path: string;
  /** `document.referrer`; `''` when there is none. */
  referrer: string;
  /** `document.title`. */
  title: string;
  /** `location.search`, with its leading `?`; `''` when there is none. */
  search: string;
}

/** Facts about the browser sent with every event; the gateway derives browser, OS, device, host… from them. */
export interface EventContext {
  /** The page the event belongs to. */
  page: PageContext;
  /** `navigator.userAgent`. */
  userAgent: string;
  /** `navigator.language`, a BCP 47 tag such as `'en-GB'`. */
  locale: string;
  /** The IANA time zone of the browser, such as `'Europe/Paris'`. */
  timezone: string;
  /** The size of the screen in CSS pixels (`screen.width` × `screen.height`). */
  screen: { width: number; height: number };
  /** Which SDK produced the event. */
  library: { name: string; version: string };
}

/** One event as it is sent to the gateway (Segment HTTP Tracking API shape, DESIGN §2). */
export interface TidemarkEvent {
  /** What kind of event this is. */
  type: EventType;
  /**
   * A UUIDv7 minted when the event was tracked. It is the event's identity from the browser to
   * ClickHouse (`event_id`): a resend carries the same id, so duplicates collapse.
   */
  messageId: string;
  /** When the event was tracked, by the browser's clock (ISO 8601, UTC). */
  timestamp: string;
  /** The visitor's id, kept in `localStorage` so it survives reloads. */
  anonymousId: string;
  /** The event name; `track` events only (`'Product Added'`). */
  event?: string;
  /** The page name given to `page(name)`; absent when none was given. */
  name?: string;
  /**
   * The caller's properties. For `page` events they start with `url`, `path`, `title` and `referrer`,
   * which the caller's own properties may override.
   */
  properties: Properties;
  /** Browser facts captured with the event. */
  context: EventContext;
}

/** One persisted event: what the queue writes to its store under the event's `messageId`. */
export interface StoredEvent {
  /** The write key of the client that tracked it: another client on the same origin leaves it alone. */
  writeKey: string;
  /**
   * The event serialized once, when tracked. Keeping the text (not the object) means a reloaded
   * event is sent byte for byte as it would have been, and nothing hits structured-clone limits.
   */
  json: string;
}

/**
 * Where the queue persists events (idb-keyval style: the store is swappable). The default is IndexedDB
 * (`createIdbStore()`); `createMemoryStore()` keeps them for this page only and suits tests and SSR.
 * Every method may reject: the queue then carries on from memory.
 */
export interface EventStore {
  /** Writes (or overwrites) one record. */
  set(key: string, value: StoredEvent): Promise<void>;
  /** Removes the records with these keys; unknown keys are ignored. */
  delMany(keys: string[]): Promise<void>;
  /** Every record in the store, as `[key, value]` pairs. */
  entries(): Promise<[string, StoredEvent][]>;
}

/** Options of `init()`, `createClient()` and `<TidemarkProvider>`. */
export interface TidemarkOptions {
  /** The project's write key. Without one the client does nothing (and says so on the console). */
  writeKey: string;
  /**
   * The gateway's origin, optionally with a path prefix: `'https://t.example.com'`. Events go to
   * `host + '/v1/batch'`. Default `''`: the page's own origin (a first-party proxy).
   */
  host?: string;
  /** Send as soon as this many events wait. Default `20`. */
  flushAt?: number;
  /** Send events at most this many milliseconds after they were tracked. Default `5000`. */
  flushInterval?: number;
  /** Log what the SDK does (and every swallowed error) with `console.log`. Default `false`. */
  debug?: boolean;
  /** Where events are persisted until the gateway acknowledged them. Default: IndexedDB. */
  store?: EventStore;
  /** The `fetch` to send with. Default: the global `fetch` (tests inject a double). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** The `sendBeacon` used when the page is hidden. Default: `navigator.sendBeacon`. */
  sendBeacon?: (url: string, data: string) => boolean;
}

/** A Tidemark client. No method throws: failures are swallowed (and logged with `debug`). */
export interface TidemarkClient {
  /** Records that the visitor did something (`track('Product Added', { sku: 'kayak' })`). */
  track(event: string, properties?: Properties): void;
  /** Records a page view of the current `location`; `name` is optional (`page('Pricing')`). */
  page(name?: string, properties?: Properties): void;
  /**
   * Sends every waiting event now and resolves when the gateway answered (it never rejects). Skips a
   * retry back-off, but not a `Retry-After` the gateway asked for, and sends nothing while offline.
   */
  flush(): Promise<void>;
}
