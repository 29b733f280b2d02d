import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../app.js';
import { embeddedConfig } from '../embeddedConfig.fixture.js';
import type { LiveEvent } from '../live/broadcaster.js';
import type { Reader } from '../read/reader.js';
import type { Transport } from '../transport/types.js';

// The feed over a real socket (inject() waits for a response's end, and a feed has none), with a transport that
// acknowledges at once: what matters here is what reaches the stream, not where events are stored.
const TOKEN = 'live-test-admin-token-0123456789';
let app: FastifyInstance;
let url: string;

const transport: Transport = {
  deliver: async () => {},
  deadLetter: async () => {},
  ready: async () => {},
  close: async () => {},
};
const reader: Reader = {
  backend: 'chdb',
  query: async () => ({ columns: [], rows: [], rowsRead: 0, elapsedMs: 0 }),
  statement: async () => ({ columns: [], rows: [], rowsRead: 0, elapsedMs: 0 }),
  close: async () => {},
};

const configFor = (extra: Record<string, string> = {}) =>
  embeddedConfig('/nonexistent', { TIDEMARK_ADMIN_TOKEN: TOKEN, ...extra });

beforeAll(async () => {
  app = build(configFor(), { transport, reader });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  // undici (fetch) may have opened a connection it never sent a request on; Node's server counts such a socket
  // as neither idle nor busy and would hold the close until its headers timeout. Nothing is in flight here.
  const closed = app?.close();
  app?.server.closeAllConnections();
  await closed;
});

const auth = { authorization: `Bearer ${TOKEN}` };

let seq = 0;
function send(writeKey: string, events: Record<string, unknown>[]) {
  return fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({
      writeKey,
      sentAt: new Date().toISOString(),
      batch: events.map((e) => {
        seq += 1;
        return {
          anonymousId: 'visitor-1',
          messageId: `0195802a-6b1e-7c3d-9f00-${String(seq).padStart(12, '0')}`,
          timestamp: new Date().toISOString(),
          ...e,
        };
      }),
    }),
  });
}

/** A feed request, and the way to hang up on it as a closing tab does. */
type Feed = { response: Response; hangUp: AbortController };

/**
 * Reads server-sent events until `done` says so, then hangs up; each message as its event name and data.
 * Aborting, not cancelling the body: undici keeps a cancelled response's socket in its pool, which the server
 * then counts as busy.
 */
async function readUntil(
  { response, hangUp }: Feed,
  done: (messages: { event: string; data: string }[]) => boolean,
): Promise<{ event: string; data: string }[]> {
  const reader = (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new TextDecoderStream())
    .getReader();
  const messages: { event: string; data: string }[] = [];
  let buffered = '';
  try {
    while (!done(messages)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffered += value;
      let cut = buffered.indexOf('\n\n');
      while (cut !== -1) {
        const block = buffered.slice(0, cut);
        buffered = buffered.slice(cut + 2);
        const data = block.match(/^data: (.*)$/m)?.[1];
        if (data !== undefined)
          messages.push({ event: block.match(/^event: (.*)$/m)?.[1] ?? 'message', data });
        cut = buffered.indexOf('\n\n');
      }
    }
  } finally {
    hangUp.abort();
    await reader.cancel().catch(() => {});
  }
  return messages;
}

const liveEvents = (messages: { event: string; data: string }[]): LiveEvent[] =>
  messages.filter((m) => m.event === 'events').flatMap((m) => JSON.parse(m.data).events as LiveEvent[]);

async function connected(path = '/v1/live'): Promise<Feed> {
  const hangUp = new AbortController();
  const response = await fetch(`${url}${path}`, { headers: auth, signal: hangUp.signal });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  // The subscription exists once the handler ran, which it has when the headers arrived.
  return { response, hangUp };
}

describe('GET /v1/live', () => {
  it('refuses a request without the admin token, or with a wrong one, before subscribing', async () => {
    const none = await fetch(`${url}/v1/live`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toMatchObject({ code: 'invalid_admin_token' });
    const wrong = await fetch(`${url}/v1/live`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    // The token is a header only: a URL parameter is not a way in.
    const inUrl = await fetch(`${url}/v1/live?token=${TOKEN}`);
    expect(inUrl.status).toBe(401);
  });

  it('is off, like the read API, without TIDEMARK_ADMIN_TOKEN', async () => {
    const off = build(configFor({ TIDEMARK_ADMIN_TOKEN: '' }), { transport });
    try {
      const response = await off.inject({ url: '/v1/live', headers: auth });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'read_api_disabled' });
    } finally {
      await off.close();
    }
  });

  it('streams each accepted event of a batch, and not the refused ones', async () => {
    const feed = await connected();
    const sent = await send('key-shop', [
      {
        type: 'page',
        context: { page: { url: 'https://shop.example/pricing?x=1', path: '/pricing' } },
      },
      { type: 'track', event: 'Signup', context: { page: { url: 'https://shop.example/join' } } },
      { type: 'nonsense' },
    ]);
    expect(await sent.json()).toMatchObject({ accepted: 2, rejected: [{ index: 2 }] });
    const events = liveEvents(await readUntil(feed, (m) => liveEvents(m).length >= 2));
    expect(events).toEqual([
      expect.objectContaining({ project: 'shop', type: 'page', event: '$pageview', path: '/pricing' }),
      expect.objectContaining({ project: 'shop', type: 'track', event: 'Signup', path: '/join' }),
    ]);
    expect(Date.parse(events[0]?.at ?? '')).toBeGreaterThan(Date.now() - 60_000);
    // The person the dashboard's person view opens (no user id here: the anonymous id); nothing else of the
    // visitor, such as the query string or properties.
    expect(events.map((e) => e.person)).toEqual(['visitor-1', 'visitor-1']);
    expect(JSON.stringify(events)).not.toContain('x=1');
  });

  it('streams one project only when asked to', async () => {
    const feed = await connected('/v1/live?project=blog');
    expect(await (await send('key-shop', [{ type: 'track', event: 'Not for blog' }])).json()).toMatchObject({
      accepted: 1,
    });
    expect(await (await send('key-blog', [{ type: 'track', event: 'For blog' }])).json()).toMatchObject({
      accepted: 1,
    });
    const events = liveEvents(await readUntil(feed, (m) => liveEvents(m).length >= 1));
    expect(events.map((e) => [e.project, e.event])).toEqual([['blog', 'For blog']]);
  });

  it('ends open feeds when the gateway closes, instead of holding the close', async () => {
    const closing = build(configFor(), { transport, reader });
    const at = await closing.listen({ host: '127.0.0.1', port: 0 });
    const hangUp = new AbortController();
    const response = await fetch(`${at}/v1/live`, { headers: auth, signal: hangUp.signal });
    expect(response.status).toBe(200);
    const reading = readUntil({ response, hangUp }, () => false);
    await closing.close();
    const messages = await reading;
    expect(messages.at(-1)).toEqual({ event: 'end', data: JSON.stringify({ reason: 'shutdown' }) });
  });
});
