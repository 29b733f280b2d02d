import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client.js';
import { BEACON_GRACE } from './queue.js';
import { createMemoryStore } from './store.js';
import type { EventStore, TidemarkEvent, TidemarkOptions } from './types.js';

// The client against doubles of the platform only: an in-memory store through the EventStore interface, and
// `fetch` / `sendBeacon` stand-ins that record what the page would have sent. The client code itself is real.

interface Sent {
  via: 'fetch' | 'beacon';
  url: string;
  keepalive?: boolean;
  /** The body as the client handed it over, unparsed: checked by `afterEach` below. */
  body: unknown;
  /** The body's `dropped` count, absent when none were dropped (parsed when read, by the test). */
  readonly dropped?: number;
  /** The body's events (parsed when read, by the test). */
  readonly events: TidemarkEvent[];
}

/**
 * A request as the page made it. Nothing here can throw: the client catches what its `fetch` and `sendBeacon`
 * throw, so an error raised in a double would be swallowed, and the test would fail later for another reason (or
 * pass). The body is parsed when a test reads `events` or `dropped`, and checked after each test.
 */
function request(via: Sent['via'], url: string, body: unknown, keepalive?: boolean): Sent {
  const parsed = () => JSON.parse(String(body));
  return {
    via,
    url,
    keepalive,
    body,
    get dropped() {
      return parsed().dropped;
    },
    get events() {
      return parsed().batch;
    },
  };
}

/** Every request of every harness of the test under way, checked once it is over. */
let requests: Sent[] = [];

afterEach(() => {
  const made = requests;
  requests = [];
  for (const { body } of made) {
    expect(typeof body, 'a string body, which the browser sends as text/plain').toBe('string');
    expect(JSON.parse(String(body)).writeKey, 'the write key of every body').toBe('wk');
  }
});

function harness(answers: Array<number | Response> = [], options: Partial<TidemarkOptions> = {}) {
  const sent: Sent[] = [];
  const store: EventStore = options.store ?? createMemoryStore();
  let beaconAccepts = true;
  const record = (made: Sent) => {
    sent.push(made);
    requests.push(made);
  };
  const client = createClient({
    writeKey: 'wk',
    host: 'https://t.example.com/',
    flushInterval: 60_000,
    // Page views have their own tests; here they would only add events.
    autoPageviews: false,
    store,
    fetch: async (url, init) => {
      const made = request('fetch', url, init.body, init.keepalive);
      record(made);
      const answer = answers.shift() ?? 200;
      if (answer instanceof Response) return answer;
      if (answer === 0) throw new TypeError('Failed to fetch');
      // The client reads only the status (and `Retry-After`).
      return Response.json({ rejected: [] }, { status: answer });
    },
    sendBeacon: (url, data) => {
      if (!beaconAccepts) return false;
      record(request('beacon', url, data));
      return true;
    },
    ...options,
  });
  const ids = (i: number) => sent[i]?.events.map((event) => event.messageId);
  /** Every event sent, by fetch or beacon, in order. */
  const events = () => sent.flatMap((request) => request.events);
  const storedIds = async () => (await store.entries()).map(([id]) => id).sort();
  /** Waits until the store holds exactly `count` events (its writes run after the answers). */
  const stored = (count: number) =>
    vi.waitFor(async () => expect(await storedIds()).toHaveLength(count), { timeout: 1000, interval: 5 });
  return {
    client,
    sent,
    ids,
    events,
    store,
    storedIds,
    stored,
    refuseBeacons: () => (beaconAccepts = false),
  };
}

/** A hideable page: `document` and the window's events, as much of them as the client listens to. */
function fakePage(navigatorFields: Record<string, unknown> = {}) {
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const window = new EventTarget();
  const navigator = { onLine: true, ...navigatorFields };
  vi.stubGlobal('document', document);
  vi.stubGlobal('navigator', navigator);
  vi.stubGlobal('addEventListener', window.addEventListener.bind(window));
  const setVisibility = (state: 'visible' | 'hidden') => {
    document.visibilityState = state;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  return {
    hide: () => setVisibility('hidden'),
    show: () => setVisibility('visible'),
    unload: () => window.dispatchEvent(new Event('pagehide')),
    offline: () => {
      navigator.onLine = false;
      window.dispatchEvent(new Event('offline'));
    },
    online: () => {
      navigator.onLine = true;
      window.dispatchEvent(new Event('online'));
    },
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('sending', () => {
  it('posts tracked events in one batch with fetch keepalive to host/v1/batch', async () => {
    const { client, sent } = harness();
    client.track('Signed Up', { plan: 'team' });
    client.page('Pricing', { title: 'override' });
    await client.flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ via: 'fetch', url: 'https://t.example.com/v1/batch', keepalive: true });
    const [track, page] = sent[0]?.events ?? [];
    expect(track).toMatchObject({ type: 'track', event: 'Signed Up', properties: { plan: 'team' } });
    expect(page).toMatchObject({ type: 'page', name: 'Pricing', properties: { title: 'override' } });
    expect(track?.anonymousId).toBe(page?.anonymousId);
    expect(track?.context.library.name).toBe('@tidemark/sdk');
    expect(track?.messageId).not.toBe(page?.messageId);
  });

  it('sends as soon as flushAt events wait, without waiting for the interval', async () => {
    const { client, sent } = harness([], { flushAt: 2 });
    client.track('one');
    expect(sent).toHaveLength(0);
    client.track('two');
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]?.events.map((event) => event.event)).toEqual(['one', 'two']);
  });

  it('sends flushInterval ms after an event was tracked', async () => {
    vi.useFakeTimers();
    const { client, sent } = harness([], { flushInterval: 1000 });
    client.track('later');
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(1);
  });

  it('sends the events an earlier page left in the store as soon as the next page loads', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    fakePage();
    const store = createMemoryStore();
    const earlier = harness([503], { store });
    earlier.client.track('left behind');
    await earlier.client.flush();
    await earlier.stored(1);

    const next = harness([], { store });
    await vi.waitFor(() => expect(next.sent).toHaveLength(1));
    expect(next.ids(0)).toEqual(earlier.ids(0));
    await next.stored(0);
  });

  it('builds and stores an event a task after it was tracked, not during the call', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { client, storedIds } = harness();
    client.track('a');
    await Promise.resolve();
    expect(await storedIds()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(await storedIds()).toHaveLength(1);
  });

  it('does nothing, and says so, without a write key', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const fetch = vi.fn();
    const client = createClient({ writeKey: '', fetch });
    client.track('lost');
    await client.flush();
    expect(fetch).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledOnce();
  });

  it('drops an event whose properties cannot be serialized, and keeps the others', async () => {
    const { client, sent } = harness();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    client.track('bad', cyclic);
    client.track('good');
    await client.flush();
    expect(sent[0]?.events.map((event) => event.event)).toEqual(['good']);
  });
});

describe('deleting only what the gateway settled', () => {
  it('deletes events from the store only after a 2xx', async () => {
    const { client, stored } = harness();
    client.track('a');
    client.track('b');
    await stored(2);
    await client.flush();
    await stored(0);
  });

  it('deletes accepted and rejected events on a 2xx: the rejected ones were invalid', async () => {
    const answer = Response.json({ accepted: 1, rejected: [{ index: 1, reason: 'invalid' }] });
    const { client, stored, sent } = harness([answer]);
    client.track('ok');
    client.track('invalid');
    await client.flush();
    await stored(0);
    await client.flush();
    expect(sent).toHaveLength(1);
  });

  it.each([503, 500, 429, 408, 0])('keeps events on %i and resends the same messageIds', async (status) => {
    const { client, sent, ids, stored } = harness([status, 200]);
    client.track('a');
    client.track('b');
    await client.flush();
    await stored(2);
    await client.flush();
    expect(sent).toHaveLength(2);
    expect(ids(1)).toEqual(ids(0));
    await stored(0);
  });

  it('retries by itself after a back-off', async () => {
    vi.useFakeTimers();
    const { client, sent, ids } = harness([503, 503, 200]);
    client.track('a');
    await client.flush();
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1000); // first retry: 0.5–1 s
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(999); // second retry: 1–2 s
    await vi.advanceTimersByTimeAsync(1001);
    expect(sent).toHaveLength(3);
    expect(ids(2)).toEqual(ids(0));
  });

  it('does not send before the Retry-After the gateway asked for, not even on flush()', async () => {
    vi.useFakeTimers();
    const busy = new Response('{}', { status: 503, headers: { 'Retry-After': '30' } });
    const { client, sent } = harness([busy]);
    client.track('a');
    await client.flush();
    await client.flush();
    await vi.advanceTimersByTimeAsync(29_000);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(2);
  });

  it.each([400, 413])('drops events the gateway refused as unusable (%i)', async (status) => {
    const { client, stored, sent } = harness([status]);
    client.track('poison');
    await client.flush();
    await stored(0);
    client.track('next');
    await client.flush();
    expect(sent[1]?.events.map((event) => event.event)).toEqual(['next']);
  });

  it.each([401, 403])('keeps events on %i but does not send them again from this page', async (status) => {
    const { client, stored, sent } = harness([status]);
    client.track('a');
    await client.flush();
    await client.flush();
    expect(sent).toHaveLength(1);
    await stored(1);
  });
});

describe('leaving the page', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });

  it('hands pending events to sendBeacon when the page is hidden, and keeps them stored', async () => {
    const page = fakePage();
    const { client, sent, stored, store } = harness();
    client.track('a');
    client.track('b');
    const hiddenAt = Date.now();
    page.hide();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ via: 'beacon', url: 'https://t.example.com/v1/batch' });
    expect(sent[0]?.events).toHaveLength(2);
    await stored(2);
    // Marked, so that no tab sends them again before BEACON_GRACE.
    expect((await store.entries()).map(([, record]) => record.beaconed)).toEqual([hiddenAt, hiddenAt]);
    // Unloading right after sends nothing twice.
    page.unload();
    expect(sent).toHaveLength(1);
  });

  it('sends on pagehide when visibilitychange did not fire', async () => {
    const page = fakePage();
    const { client, sent } = harness();
    client.track('a');
    page.unload();
    expect(sent.map((s) => s.via)).toEqual(['beacon']);
  });

  it('falls back to fetch keepalive when sendBeacon refuses the body, and then deletes on 2xx', async () => {
    const page = fakePage();
    const { client, sent, stored, refuseBeacons } = harness();
    refuseBeacons();
    // The send the page starts when it loads is over.
    await vi.advanceTimersByTimeAsync(0);
    client.track('a');
    page.hide();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({ via: 'fetch', keepalive: true });
    await stored(0);
  });

  it('does not send beaconed events again when the page becomes visible again, and keeps them stored', async () => {
    const page = fakePage();
    const { client, sent, stored } = harness();
    client.track('a');
    page.hide();
    page.show();
    await vi.advanceTimersByTimeAsync(0);
    await client.flush();
    expect(sent.map((s) => s.via)).toEqual(['beacon']);
    await stored(1);
  });

  it('leaves beaconed events to the next page, which sends them by fetch once BEACON_GRACE has passed', async () => {
    const page = fakePage();
    const store = createMemoryStore();
    const leaving = harness([], { store });
    leaving.client.track('a');
    page.unload();
    expect(leaving.sent.map((s) => s.via)).toEqual(['beacon']);

    const next = harness([], { store });
    await vi.advanceTimersByTimeAsync(BEACON_GRACE - 1);
    await next.client.flush();
    expect(next.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await next.client.flush();
    expect(next.sent).toHaveLength(1);
    expect(next.sent[0]?.via).toBe('fetch');
    expect(next.ids(0)).toEqual(leaving.ids(0));
    await next.stored(0);
  });

  it('hands only its own events to the beacon, not those an earlier page left', async () => {
    const page = fakePage();
    const store = createMemoryStore();
    const earlier = harness([503], { store });
    earlier.client.track('left behind');
    await earlier.client.flush();

    const { client, sent } = harness([503], { store });
    client.track('mine');
    await vi.advanceTimersByTimeAsync(0);
    page.hide();
    // The page's first send (by fetch, answered 503) carried the earlier event; the beacon only its own.
    expect(sent.map((s) => [s.via, s.events.map((event) => event.event)])).toEqual([
      ['fetch', ['left behind']],
      ['beacon', ['mine']],
    ]);
  });

  it('skips the beacon while offline and sends once the browser is back online', async () => {
    const page = fakePage();
    const { client, sent, stored } = harness();
    page.offline();
    client.track('a');
    await client.flush();
    page.hide();
    expect(sent).toHaveLength(0);
    page.online();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]?.via).toBe('fetch');
    await stored(0);
  });
});

/** A `localStorage` double, as much of it as the client uses. */
function fakeLocalStorage() {
  const items = new Map<string, string>();
  vi.stubGlobal('localStorage', {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, String(value)),
    removeItem: (key: string) => void items.delete(key),
  });
  return items;
}

describe('who the visitor is', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });

  it('identify sends an identify event with the traits, and later events carry the userId', async () => {
    const { client, events } = harness();
    client.track('anonymous');
    await client.flush();
    client.identify('u1', { email: 'a@example.com' });
    client.track('known');
    await client.flush();
    const [anonymous, identify, known] = events();
    expect(anonymous?.userId).toBeUndefined();
    expect(identify).toMatchObject({ type: 'identify', userId: 'u1', traits: { email: 'a@example.com' } });
    expect(known).toMatchObject({ type: 'track', event: 'known', userId: 'u1' });
    expect(known?.anonymousId).toBe(anonymous?.anonymousId);
  });

  it('gives an event the user of the moment it was tracked, and an alias its own userId', async () => {
    const { client, events } = harness();
    client.track('anonymous');
    client.identify('u1');
    client.alias('u2');
    await client.flush();
    const [anonymous, , alias] = events();
    expect(anonymous?.userId).toBeUndefined();
    expect(alias).toMatchObject({ type: 'alias', userId: 'u2', previousId: 'u1' });
  });

  it('group sends the groupId and the traits of the group', async () => {
    const { client, events } = harness();
    client.group('acme', { plan: 'team' });
    await client.flush();
    expect(events()).toMatchObject([{ type: 'group', groupId: 'acme', traits: { plan: 'team' } }]);
  });

  it('alias takes previousId as given, else the userId, else the anonymous id', async () => {
    const { client, events } = harness();
    client.alias('u1');
    await client.flush();
    client.identify('u1');
    await client.flush();
    client.alias('u2');
    client.alias('u3', 'legacy-42');
    await client.flush();
    const [anonymous, , identified, explicit] = events();
    expect(anonymous).toMatchObject({ type: 'alias', userId: 'u1', previousId: anonymous?.anonymousId });
    expect(identified).toMatchObject({ type: 'alias', previousId: 'u1' });
    expect(explicit).toMatchObject({ type: 'alias', previousId: 'legacy-42' });
  });

  it('reset gives later events a new anonymousId and session, no userId and no registered properties', async () => {
    const { client, events } = harness();
    client.identify('u1');
    client.register({ plan: 'pro' });
    client.track('before');
    client.reset();
    client.track('after');
    await client.flush();
    const [, before, after] = events();
    expect(before).toMatchObject({ event: 'before', userId: 'u1', properties: { plan: 'pro' } });
    expect(after?.event).toBe('after');
    expect(after?.userId).toBeUndefined();
    expect(after?.properties).toEqual({});
    expect(after?.anonymousId).not.toBe(before?.anonymousId);
    expect(after?.context.sessionId).not.toBe(before?.context.sessionId);
  });

  it("adds registered properties to track and page events, and the caller's own win", async () => {
    const { client, events } = harness();
    client.register({ plan: 'pro', source: 'ad' });
    client.register({ source: 'newsletter' });
    client.track('Upgraded', { plan: 'team' });
    client.page('Pricing');
    await client.flush();
    const [track, page] = events();
    expect(track?.properties).toEqual({ plan: 'team', source: 'newsletter' });
    expect(page?.properties).toMatchObject({ plan: 'pro', source: 'newsletter' });
  });
});

describe('privacy', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });

  it('optOut deletes the stored events and stores or sends nothing more, on this visit and the next', async () => {
    fakeLocalStorage();
    const page = fakePage();
    const store = createMemoryStore();
    const { client, sent, stored } = harness([], { store });
    client.track('a');
    client.track('b');
    await vi.advanceTimersByTimeAsync(0);
    await stored(2);
    client.track('tracked, not built yet');
    client.optOut();
    await stored(0);
    client.track('after');
    await client.flush();
    page.hide();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toHaveLength(0);
    await stored(0);

    const next = harness([], { store });
    next.client.track('next visit');
    await next.client.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(next.sent).toHaveLength(0);
    await next.stored(0);
  });

  it('a later visit deletes what a page that opted out left stored (it was closed before its delete was done)', async () => {
    fakeLocalStorage();
    fakePage();
    const store = createMemoryStore();
    const first = harness([], { store });
    first.client.track('stored before the opt-out');
    await vi.advanceTimersByTimeAsync(0);
    await first.stored(1);
    // The opt-out as a page that was left at once saw it: the choice saved, the delete never run.
    localStorage.setItem('tidemark.consent', '0');

    const next = harness([], { store });
    await next.stored(0);
    await next.client.flush();
    expect([...first.sent, ...next.sent]).toHaveLength(0);
  });

  it('requireConsent stores and sends nothing until optIn, which later visits remember', async () => {
    fakeLocalStorage();
    fakePage();
    const store = createMemoryStore();
    const { client, sent, events, stored } = harness([], { store, requireConsent: true });
    client.track('before consent');
    await client.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(0);
    await stored(0);
    client.optIn();
    client.track('after consent');
    await client.flush();
    expect(events().map((event) => event.event)).toEqual(['after consent']);

    const next = harness([], { store, requireConsent: true });
    next.client.track('next visit');
    await next.client.flush();
    expect(next.events().map((event) => event.event)).toEqual(['next visit']);
  });

  it.each([
    ['Do-Not-Track', { doNotTrack: '1' }],
    ['Global Privacy Control', { globalPrivacyControl: true }],
  ])('respectDoNotTrack: sends and stores nothing when the browser sends %s', async (_, signal) => {
    fakePage(signal);
    const respecting = harness([], { respectDoNotTrack: true });
    respecting.client.track('a');
    await respecting.client.flush();
    await vi.advanceTimersByTimeAsync(0);
    expect(respecting.sent).toHaveLength(0);
    await respecting.stored(0);
    // Without the option, the signal changes nothing.
    const ignoring = harness();
    ignoring.client.track('a');
    await ignoring.client.flush();
    expect(ignoring.sent).toHaveLength(1);
  });

  it('beforeSend can change an event before it is stored: a redacted property never leaves the page', async () => {
    const { client, events, store } = harness([503], {
      beforeSend: (event) => ({ ...event, properties: { ...event.properties, email: '[redacted]' } }),
    });
    client.track('Signed Up', { email: 'a@example.com', plan: 'team' });
    await client.flush();
    expect(events()[0]?.properties).toEqual({ email: '[redacted]', plan: 'team' });
    const stored = JSON.stringify(await store.entries());
    expect(stored).toContain('[redacted]');
    expect(stored).not.toContain('a@example.com');
  });

  it('beforeSend returning null drops the event', async () => {
    const { client, events } = harness([], {
      beforeSend: (event) => (event.event === 'secret' ? null : event),
    });
    client.track('secret');
    client.track('public');
    await client.flush();
    expect(events().map((event) => event.event)).toEqual(['public']);
  });
});

describe('sessions', () => {
  it('keeps the session id while events come within sessionTimeout, and starts a new one after that much silence', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { client, events } = harness([], { sessionTimeout: 1000 });
    client.track('a');
    await vi.advanceTimersByTimeAsync(999);
    client.track('b');
    await vi.advanceTimersByTimeAsync(999);
    client.track('c');
    await vi.advanceTimersByTimeAsync(1000);
    client.track('d');
    await client.flush();
    const [a, b, c, d] = events().map((event) => event.context.sessionId);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect([b, c]).toEqual([a, a]);
    expect(d).not.toBe(a);
  });
});

describe('limits', () => {
  it('reports how many events were dropped over maxQueueEvents in every batch until one was delivered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { client, sent } = harness([503, 200], { maxQueueEvents: 2 });
    client.track('a');
    client.track('b');
    client.track('c');
    await client.flush();
    expect(sent[0]?.dropped).toBe(1);
    expect(sent[0]?.events.map((event) => event.event)).toEqual(['b', 'c']);
    await client.flush();
    expect(sent[1]?.dropped).toBe(1);
    client.track('d');
    await client.flush();
    expect(sent[2]?.dropped).toBeUndefined();
    expect(sent[2]?.events.map((event) => event.event)).toEqual(['d']);
  });
});

/** A `navigator.locks` double: one holder per name at a time, in the order asked, across every client. */
function fakeLocks() {
  const tails = new Map<string, Promise<unknown>>();
  const names: string[] = [];
  return {
    names,
    request(name: string, work: () => Promise<unknown>) {
      names.push(name);
      const run = (tails.get(name) ?? Promise.resolve()).then(() => work());
      tails.set(
        name,
        run.catch(() => {}),
      );
      return run;
    },
  };
}

describe('tabs', () => {
  it('with Web Locks, two tabs sharing the stored events send each event once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const locks = fakeLocks();
    fakePage({ locks });
    const store = createMemoryStore();
    const one = harness([], { store });
    const two = harness([], { store });
    one.client.track('from one');
    two.client.track('from two');
    await Promise.all([one.client.flush(), two.client.flush()]);
    const sentIds = [...one.events(), ...two.events()].map((event) => event.messageId);
    expect(sentIds).toHaveLength(2);
    expect(new Set(sentIds).size).toBe(2);
    expect(new Set(locks.names)).toEqual(new Set(['tidemark:wk']));
    await one.stored(0);
  });

  it('after a 401 this page sends nothing more, by fetch or by beacon, and keeps the events', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const page = fakePage();
    const { client, sent, stored } = harness([401]);
    client.track('a');
    await client.flush();
    client.track('b');
    await client.flush();
    page.hide();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sent).toHaveLength(1);
    await stored(2);
  });
});
