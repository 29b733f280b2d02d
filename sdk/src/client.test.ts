import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client.js';
import { createMemoryStore } from './store.js';
import type { EventStore, TidemarkEvent, TidemarkOptions } from './types.js';

// The client against doubles of the platform only: an in-memory store through the EventStore interface, and
// `fetch` / `sendBeacon` stand-ins that record what the page would have sent. The client code itself is real.

interface Sent {
  via: 'fetch' | 'beacon';
  url: string;
  keepalive?: boolean;
  events: TidemarkEvent[];
}

function harness(answers: Array<number | Response> = [], options: Partial<TidemarkOptions> = {}) {
  const sent: Sent[] = [];
  const store: EventStore = options.store ?? createMemoryStore();
  let beaconAccepts = true;
  const client = createClient({
    writeKey: 'wk',
    host: 'https://t.example.com/',
    flushInterval: 60_000,
    store,
    fetch: async (url, init) => {
      const body = JSON.parse(String(init.body));
      expect(body.writeKey).toBe('wk');
      expect(typeof init.body).toBe('string'); // so the browser sends it as text/plain
      sent.push({ via: 'fetch', url, keepalive: init.keepalive, events: body.batch });
      const answer = answers.shift() ?? 200;
      if (answer instanceof Response) return answer;
      if (answer === 0) throw new TypeError('Failed to fetch');
      return Response.json({ accepted: body.batch.length, rejected: [] }, { status: answer });
    },
    sendBeacon: (url, data) => {
      if (!beaconAccepts) return false;
      sent.push({ via: 'beacon', url, events: JSON.parse(data).batch });
      return true;
    },
    ...options,
  });
  const ids = (i: number) => sent[i]?.events.map((event) => event.messageId);
  const storedIds = async () => (await store.entries()).map(([id]) => id).sort();
  /** Waits until the store holds exactly `count` events (its writes run after the answers). */
  const stored = (count: number) =>
    vi.waitFor(async () => expect(await storedIds()).toHaveLength(count), { timeout: 1000, interval: 5 });
  return { client, sent, ids, storedIds, stored, refuseBeacons: () => (beaconAccepts = false) };
}

/** A hideable page: `document` and the window's events, as much of them as the client listens to. */
function fakePage() {
  const document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const window = new EventTarget();
  const navigator = { onLine: true };
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

  it('sends the events an earlier page left in the store as soon as they are loaded', async () => {
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
    const { client, sent, stored } = harness();
    client.track('a');
    client.track('b');
    page.hide();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ via: 'beacon', url: 'https://t.example.com/v1/batch' });
    expect(sent[0]?.events).toHaveLength(2);
    await stored(2);
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
    client.track('a');
    page.hide();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toMatchObject({ via: 'fetch', keepalive: true });
    await stored(0);
  });

  it('resends beaconed events with fetch when the page becomes visible again', async () => {
    const page = fakePage();
    const { client, sent, ids, stored } = harness();
    client.track('a');
    page.hide();
    page.show();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((s) => s.via)).toEqual(['beacon', 'fetch']);
    expect(ids(1)).toEqual(ids(0));
    await stored(0);
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
