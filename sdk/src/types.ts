/**
 * Free-form data attached to an event. It travels as JSON, so values should be JSON-serializable:
 * functions and `undefined` are dropped, `Date`s become ISO strings, and an event whose properties
 * cannot be serialized at all (a cycle) is discarded rather than poisoning the queue.
 */
export type Properties = Record<string, unknown>;

/**
 * Your own event names and their properties, to type `track()`:
 * `createClient<{ 'Plan Selected': { plan: 'team' | 'pro' } }>(…)` makes `track('Plan Selectd')` and
 * `track('Plan Selected', { plan: 1 })` compile errors. The default accepts any name and any properties.
 */
export type EventMap = Record<string, Properties>;

/** The kinds of event the SDK sends (the Segment spec's names). */
export type EventType = 'track' | 'page' | 'identify' | 'group' | 'alias';

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
  /** The visit: a new id after `sessionTimeout` ms without an event, or after `reset()`. */
  sessionId: string;
}

/** One event as it is sent to the gateway (the Segment HTTP Tracking API's shape). */
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
  /** The visitor's id, kept in `localStorage` (memory only when `cookieless`) so it survives reloads. */
  anonymousId: string;
  /** The id given to `identify()`, until `reset()`. */
  userId?: string;
  /** The event name; `track` events only (`'Product Added'`). */
  event?: string;
  /** The page name given to `page(name)`; absent when none was given. */
  name?: string;
  /** `group` events: the account or organisation. */
  groupId?: string;
  /** `alias` events: the id the visitor was known by before. */
  previousId?: string;
  /**
   * The caller's properties after the `register()`ed ones. For `page` events they start with `url`, `path`,
   * `title` and `referrer`, which the caller's own properties may override.
   */
  properties?: Properties;
  /** `identify` and `group` events: facts about the user or the group. */
  traits?: Properties;
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
  /**
   * When a page handed it to `sendBeacon` (ms since the epoch). The browser never says whether a beacon
   * arrived, so the event stays stored, but no tab sends it again for a few seconds (see `BEACON_GRACE`).
   */
  beaconed?: number;
}

/**
 * Where the queue persists events (idb-keyval style: the store is swappable). The SDK tries IndexedDB
 * (`createIdbStore()`), then `localStorage` (`createLocalStore()`), then memory (`createMemoryStore()`), moving
 * on when one rejects. Every method may reject.
 */
export interface EventStore {
  /** Writes (or overwrites) records. */
  setMany(entries: [key: string, value: StoredEvent][]): Promise<void>;
  /** Removes the records with these keys; unknown keys are ignored. */
  delMany(keys: string[]): Promise<void>;
  /** Every record in the store, as `[key, value]` pairs. */
  entries(): Promise<[string, StoredEvent][]>;
}

/** An event about to be stored, as `beforeSend` sees it. */
export type BeforeSend = (event: TidemarkEvent) => TidemarkEvent | null | undefined | false;

/** Options of `init()`, `createClient()` and `<TidemarkProvider>`. */
export interface TidemarkOptions {
  /** The project's write key. Without one the client does nothing (and says so on the console). */
  writeKey: string;
  /**
   * The gateway's origin, optionally with a path prefix: `'https://t.example.com'`. Default `''`: the page's
   * own origin (a first-party proxy).
   */
  host?: string;
  /**
   * The path events are posted to, after `host`. Default `'/v1/batch'`. A first-party path of your own
   * (`'/t/e'`) that your server forwards to the gateway is not on ad-block lists.
   */
  endpoint?: string;
  /** Send as soon as this many events wait. Default `20`. */
  flushAt?: number;
  /** Send events at most this many milliseconds after they were tracked. Default `5000`. */
  flushInterval?: number;
  /** Most events kept while they cannot be sent; the oldest go first. Default `1000`. */
  maxQueueEvents?: number;
  /** Most characters of event JSON kept while they cannot be sent; the oldest go first. Default `2_000_000`. */
  maxQueueBytes?: number;
  /** Events older than this many milliseconds are not sent any more. Default 7 days. */
  maxQueueAge?: number;
  /** A new session starts after this many milliseconds without an event. Default 30 minutes. */
  sessionTimeout?: number;
  /**
   * Keep no identifier on the device: the anonymous id and the session live as long as the page. Events
   * waiting to be sent are still stored.
   */
  cookieless?: boolean;
  /**
   * Consent mode: nothing is stored or sent until `optIn()` (remembered for later visits). `optOut()`
   * always works, whatever this says.
   */
  requireConsent?: boolean;
  /** Treat visitors whose browser sends Do-Not-Track or Global Privacy Control as opted out. Default `false`. */
  respectDoNotTrack?: boolean;
  /**
   * Page views sent automatically: on load, on `pushState`/`replaceState`/`popstate`/`hashchange` that change
   * the URL, and when the page is restored from the back/forward cache. Default `true`.
   */
  autoPageviews?: boolean;
  /**
   * Clicks sent automatically as `$click` events (element text, a CSS selector, `data-*` attributes).
   * Elements with `data-tidemark-event="Name"` are always sent as `Name`, whatever this says. Default `false`.
   */
  autocapture?: boolean;
  /** With `autocapture`, also send `$hover` when the pointer rests 500 ms on a link or button. Default `false`. */
  hoverCapture?: boolean;
  /** Clicks on links to other sites sent as `$outbound` with their `href`. Default `true`. */
  outboundLinks?: boolean;
  /** Sees every event before it is stored: return it (changed or not) to keep it, or `null` to drop it. */
  beforeSend?: BeforeSend;
  /** Log what the SDK does (and every swallowed error) with `console.log`. Default `false`. */
  debug?: boolean;
  /** Where events wait until the gateway acknowledged them. Default: IndexedDB → localStorage → memory. */
  store?: EventStore;
  /** The `fetch` to send with. Default: the global `fetch` (tests inject a double). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** The `sendBeacon` used when the page is hidden. Default: `navigator.sendBeacon`. */
  sendBeacon?: (url: string, data: string) => boolean;
}

/** A Tidemark client. No method throws: failures are swallowed (and logged with `debug`). */
export interface TidemarkClient<Events extends EventMap = EventMap> {
  /** Records that the visitor did something (`track('Product Added', { sku: 'kayak' })`). */
  track<Name extends keyof Events & string>(event: Name, properties?: Events[Name]): void;
  /** Records a page view of the current `location`; `name` is optional (`page('Pricing')`). */
  page(name?: string, properties?: Properties): void;
  /** Names the visitor: later events carry `userId`; `traits` describe the user. */
  identify(userId: string, traits?: Properties): void;
  /** Associates the visitor with an account or organisation. */
  group(groupId: string, traits?: Properties): void;
  /** Tells the gateway that `userId` and `previousId` (default: the current user or anonymous id) are one person. */
  alias(userId: string, previousId?: string): void;
  /** Forgets the user: a new anonymous id and session, no user id, no registered properties. For log-outs. */
  reset(): void;
  /** Properties added to every later `track` and `page` event, kept across visits (`register({ plan: 'pro' })`). */
  register(properties: Properties): void;
  /** Stops tracking on this device, remembered across visits: events waiting to be sent are deleted. */
  optOut(): void;
  /** Allows tracking again (and gives consent under `requireConsent`). */
  optIn(): void;
  /**
   * Sends every waiting event now and resolves when the gateway answered (it never rejects). Skips a
   * retry back-off, but not a `Retry-After` the gateway asked for, and sends nothing while offline.
   */
  flush(): Promise<void>;
}
