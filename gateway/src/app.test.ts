import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type ClickHouse, createWriter, type EventRow } from '@tidemark/store';
import { type TempChdb, tempChdb } from '@tidemark/store/tempChdb';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from './app.js';
import { loadConfig } from './config.js';
import { embeddedConfig } from './embeddedConfig.fixture.js';
import { createEmbeddedTransport } from './transport/embedded.js';
import type { GatewayDeadLetter, Transport } from './transport/types.js';

// The real embedded path: the sink's writer over chDB, in this file's own directory (tempChdb).
let chdb: TempChdb;
let dir: string;
let clickhouse: ClickHouse;
let app: FastifyInstance;

const CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const configFor = (extra: Record<string, string> = {}) => embeddedConfig(dir, extra);

beforeAll(async () => {
  chdb = await tempChdb('tidemark-gateway-app-');
  ({ dir, clickhouse } = chdb);
  app = build(configFor(), {
    transport: createEmbeddedTransport({ writer: createWriter({ clickhouse }), clickhouse }),
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await chdb?.close();
});

let seq = 0;
/** A page view as the SDK sends it, with a fresh UUIDv7-shaped messageId. */
function pageEvent(anonymousId = 'anon-1') {
  seq += 1;
  const now = new Date().toISOString();
  return {
    type: 'page',
    messageId: `0195802a-6b1e-7c3d-9f00-${String(seq).padStart(12, '0')}`,
    timestamp: now,
    anonymousId,
    properties: {},
    context: {
      page: { url: 'https://shop.example/cart?utm_source=mail', path: '/cart', referrer: '', title: 'Cart' },
      userAgent: CHROME,
      library: { name: '@tidemark/sdk', version: '0.1.0' },
    },
  };
}

function batchOf(events: unknown[], writeKey = 'key-shop') {
  return { writeKey, sentAt: new Date().toISOString(), batch: events };
}

async function rowsOf(messageIds: string[]): Promise<EventRow[]> {
  return clickhouse.query<EventRow>(
    `SELECT * EXCEPT (_topic, _partition, _offset, _inserted_at) FROM tidemark.events
     WHERE event_id IN {ids:Array(UUID)} ORDER BY event_id`,
    { ids: messageIds },
  );
}

describe('POST /v1/batch', () => {
  it('stores a text/plain batch (what sendBeacon sends) and answers 200 after the insert', async () => {
    const events = [
      pageEvent(),
      { ...pageEvent(), type: 'track', event: 'Added to Cart', properties: { sku: 7 } },
    ];
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': 'ignored/1.0' },
      payload: JSON.stringify(batchOf(events)),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ accepted: 2, rejected: [] });

    const rows = await rowsOf(events.map((e) => e.messageId));
    expect(
      rows.map((r) => [r.project_id, r.type, r.event, r.path, r.utm_source, r.browser, r.properties]),
    ).toEqual([
      ['shop', 'page', '$pageview', '/cart', 'mail', 'Chrome', '{}'],
      ['shop', 'track', 'Added to Cart', '/cart', 'mail', 'Chrome', '{"sku":7}'],
    ]);
  });

  it('stores an event whose text holds half an emoji, with U+FFFD for the lone surrogate', async () => {
    // What a browser sends for a title cut inside an emoji: JSON.stringify escapes the lone half as \ud83d.
    const event = { ...pageEvent(), properties: { cut: 'ok \ud83d' } };
    const body = JSON.stringify(batchOf([event])).replace('"Cart"', '"Cart \\ud83d"');
    expect(body).toContain('Cart \\ud83d');
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'text/plain' },
      payload: body,
    });
    expect(response.json()).toEqual({ accepted: 1, rejected: [] });
    const [row] = await rowsOf([event.messageId]);
    expect(row?.title).toBe('Cart \ufffd');
    expect(JSON.parse(String(row?.properties))).toEqual({ cut: 'ok \ud83d' });
  });

  it('produces exactly the columns of tidemark.events, except the lineage and visitor number the writer adds', async () => {
    // ClickHouse skips unknown JSONEachRow fields and defaults missing ones, so compare the rows as sent.
    const transport = recording();
    const recorder = build(configFor(), { transport });
    await recorder.inject({ method: 'POST', url: '/v1/batch', payload: batchOf([pageEvent()]) });
    await recorder.close();
    const sent = JSON.parse(transport.delivered[0]?.[0]?.value ?? '{}');
    const columns = await clickhouse.query<{ name: string }>('DESCRIBE TABLE tidemark.events');
    expect(Object.keys(sent).sort()).toEqual(
      columns
        .map((c) => c.name)
        .filter(
          (name) => !['_topic', '_partition', '_offset', '_inserted_at', 'visitor_number'].includes(name),
        )
        .sort(),
    );
  });

  it('accepts application/json, and the write key as HTTP Basic user', async () => {
    const event = pageEvent();
    const { writeKey: _, ...body } = batchOf([event]);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from('key-blog:').toString('base64')}` },
      payload: body,
    });
    expect(response.statusCode).toBe(200);
    expect((await rowsOf([event.messageId]))[0]?.project_id).toBe('blog');
  });

  it('accepts a gzip body', async () => {
    const event = pageEvent();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(JSON.stringify(batchOf([event]))),
    });
    expect(response.statusCode).toBe(200);
    expect(await rowsOf([event.messageId])).toHaveLength(1);
  });

  it('keeps the valid events of a batch and lists each rejected one with index and reason', async () => {
    const good = pageEvent();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([{ type: 'track', messageId: 'bad-1', anonymousId: 'a' }, good, 'nonsense']),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      accepted: 1,
      rejected: [
        { index: 0, messageId: 'bad-1', reason: 'missing_event' },
        { index: 2, messageId: null, reason: 'not_an_object' },
      ],
    });
    expect(await rowsOf([good.messageId])).toHaveLength(1);
  });

  it('refuses an event over the per-event limit, measured on the decoded body even when it came gzipped', async () => {
    for (const gzip of [false, true]) {
      const good = pageEvent();
      const large = { ...pageEvent(), properties: { blob: 'x'.repeat(40 * 1024) } };
      const body = JSON.stringify(batchOf([large, good]));
      const response = await app.inject({
        method: 'POST',
        url: '/v1/batch',
        // A gzip body's Content-Length is far below the limit: it must not stand for the decoded size.
        headers: { 'content-type': 'text/plain', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
        payload: gzip ? gzipSync(body) : body,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        accepted: 1,
        rejected: [{ index: 0, messageId: large.messageId, reason: 'too_large' }],
      });
    }
  });

  it('answers 401 to an unknown or missing write key, storing nothing', async () => {
    const event = pageEvent();
    for (const payload of [batchOf([event], 'no-such-key'), { batch: [event] }]) {
      const response = await app.inject({ method: 'POST', url: '/v1/batch', payload });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ code: 'invalid_write_key' });
    }
    expect(await rowsOf([event.messageId])).toEqual([]);
  });

  it.each([
    ['not JSON', 'text/plain', '{"batch": ['],
    ['an empty body', 'text/plain', ''],
    ['a JSON array', 'application/json', '[]'],
    ['no batch', 'application/json', '{"writeKey":"key-shop"}'],
    ['an empty batch', 'text/plain', '{"writeKey":"key-shop","batch":[]}'],
    ['a batch that is an object', 'text/plain', '{"writeKey":"key-shop","batch":{"type":"page"}}'],
  ])('answers 400 to %s', async (_what, contentType, payload) => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': contentType },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'invalid_body' });
  });

  it('answers 400 with the reasons when no event of the batch is valid', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([{ type: 'page' }]),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'no_valid_events',
      accepted: 0,
      rejected: [{ index: 0, messageId: null, reason: 'missing_id' }],
    });
  });

  it('answers 413 too_many_events, naming the cap, to a batch of more events than TIDEMARK_MAX_BATCH_EVENTS', async () => {
    const transport = recording();
    const capped = build(configFor({ TIDEMARK_MAX_BATCH_EVENTS: '3' }), { transport });
    const over = await capped.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent(), pageEvent(), pageEvent()]),
    });
    expect({ status: over.statusCode, body: over.json() }).toEqual({
      status: 413,
      body: {
        code: 'too_many_events',
        message: 'The batch holds 4 events; at most 3 are accepted in one request.',
        maxEvents: 3,
      },
    });
    // Answered before the write key is looked at, so it costs nothing per event whoever sends it.
    const unknownKey = await capped.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([1, 2, 3, 4], 'no-such-key'),
    });
    expect(unknownKey.statusCode).toBe(413);
    expect({ delivered: transport.delivered.length, letters: transport.letters.length }).toEqual({
      delivered: 0,
      letters: 0,
    });
    const atCap = await capped.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent(), pageEvent()]),
    });
    expect(atCap.statusCode).toBe(200);
    await capped.close();
  });

  it('refuses as too_large an event under the limit as sent whose stored properties outgrow it', async () => {
    // 2 400 properties written `9e20` (13 bytes each as sent, 31 once written out as 900000000000000000000):
    // the whole body is under the 32 KB per-event limit, so the event is not measured as sent.
    const numbers = (value: string) =>
      `{${Array.from({ length: 2_400 }, (_, i) => `"k${String(i).padStart(4, '0')}":${value}`).join(',')}}`;
    const event = (id: string, value: string) =>
      `{"type":"track","event":"Grew","anonymousId":"g","messageId":"${id}","properties":${numbers(value)}}`;
    for (const [value, stored] of [
      ['9e20', 'too_large'],
      ['1e-6', 'too_large'],
      ['100', 'stored'],
    ] as const) {
      const id = pageEvent().messageId;
      const payload = `{"writeKey":"key-shop","batch":[${event(id, value)}]}`;
      expect(Buffer.byteLength(payload), value).toBeLessThan(32 * 1024);
      const response = await app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'text/plain' },
        payload,
      });
      if (stored === 'too_large') {
        expect({ status: response.statusCode, body: response.json() }, value).toMatchObject({
          status: 400,
          body: { code: 'no_valid_events', rejected: [{ index: 0, messageId: id, reason: 'too_large' }] },
        });
      } else {
        expect(response.statusCode, value).toBe(200);
        const [row] = await rowsOf([id]);
        expect(Buffer.byteLength(row?.properties ?? '')).toBeLessThanOrEqual(32 * 1024);
        expect(JSON.parse(row?.properties ?? '{}').k2399).toBe(100);
      }
    }
  });

  it('answers 413 to a body over the batch limit', async () => {
    const big = { ...pageEvent(), properties: { blob: 'x'.repeat(600 * 1024) } };
    const response = await app.inject({ method: 'POST', url: '/v1/batch', payload: batchOf([big]) });
    expect(response.statusCode).toBe(413);
  });
});

describe('POST /v1/track and friends', () => {
  it('stores one event whose type comes from the path', async () => {
    const { type: _, ...event } = { ...pageEvent(), event: 'Checkout' };
    const response = await app.inject({
      method: 'POST',
      url: '/v1/track',
      payload: { ...event, writeKey: 'key-shop' },
    });
    expect(response.statusCode).toBe(200);
    expect((await rowsOf([event.messageId]))[0]).toMatchObject({ type: 'track', event: 'Checkout' });
  });
});

describe('CORS', () => {
  it('answers a preflight for application/json from any origin', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/v1/batch',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(String(response.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain('content-type');
  });

  it('lets a page read the answer and its Retry-After header', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { origin: 'https://shop.example', 'content-type': 'text/plain' },
      payload: JSON.stringify(batchOf([pageEvent()])),
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(String(response.headers['access-control-expose-headers'])).toContain('Retry-After');
  });

  it('answers 403 when the origin is not allowed for the write key', async () => {
    const projectsFile = join(dir, 'projects.json');
    await writeFile(
      projectsFile,
      JSON.stringify({
        projects: [{ id: 'shop', writeKeys: ['k'], allowedOrigins: ['https://shop.example'] }],
      }),
    );
    const strict = build(configFor({ TIDEMARK_WRITE_KEYS: '', TIDEMARK_PROJECTS_FILE: projectsFile }), {
      transport: recording(),
    });
    const send = (origin: string) =>
      strict.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { origin },
        payload: batchOf([pageEvent()], 'k'),
      });
    expect((await send('https://evil.example')).statusCode).toBe(403);
    expect((await send('https://shop.example')).statusCode).toBe(200);
    await strict.close();
  });

  it('answers preflights for the global origins and every origin a project allows, and no other', async () => {
    const projectsFile = join(dir, 'projects-cors.json');
    await writeFile(
      projectsFile,
      JSON.stringify({
        projects: [{ id: 'blog', writeKeys: ['kb'], allowedOrigins: ['https://blog.example'] }],
      }),
    );
    const listed = build(
      configFor({
        TIDEMARK_WRITE_KEYS: '',
        TIDEMARK_PROJECTS_FILE: projectsFile,
        TIDEMARK_CORS_ORIGINS: 'https://www.example',
      }),
      { transport: recording() },
    );
    const preflight = async (origin: string) =>
      (
        await listed.inject({
          method: 'OPTIONS',
          url: '/v1/batch',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        })
      ).headers['access-control-allow-origin'];
    expect(await preflight('https://www.example')).toBe('https://www.example');
    expect(await preflight('https://blog.example')).toBe('https://blog.example');
    expect(await preflight('https://evil.example')).toBeUndefined();
    await listed.close();
  });
});

describe('GET /healthz', () => {
  it('says the process is up and in which mode', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', mode: 'embedded' });
  });
});

describe('when the transport fails', () => {
  it('answers 503 with Retry-After and no internals', async () => {
    const failing: Transport = {
      deliver: async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:9092');
      },
      deadLetter: async () => {},
      ready: async () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:9092');
      },
      close: async () => {},
    };
    const down = build(configFor(), { transport: failing });
    const response = await down.inject({ method: 'POST', url: '/v1/batch', payload: batchOf([pageEvent()]) });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toMatchObject({ code: 'transport_unavailable' });
    expect(response.body).not.toContain('ECONNREFUSED');
    const ready = await down.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ code: 'not_ready' });
    expect(ready.headers['retry-after']).toBe('5');
    await down.close();
  });
});

describe('Kafka messages', () => {
  it('carries one JSONEachRow message per visitor, keyed projectId:anonymousId', async () => {
    const transport = recording();
    const recorder = build(configFor(), { transport });
    const events = [pageEvent('v1'), pageEvent('v2'), pageEvent('v1')];
    await recorder.inject({ method: 'POST', url: '/v1/batch', payload: batchOf(events) });
    const [messages] = transport.delivered;
    expect(messages?.map((m) => m.key)).toEqual(['shop:v1', 'shop:v2']);
    const lines = messages?.[0]?.value.split('\n') ?? [];
    expect(lines).toHaveLength(3); // two rows and the trailing newline
    expect(lines.slice(0, 2).map((l) => JSON.parse(l).event_id)).toEqual([
      events[0]?.messageId,
      events[2]?.messageId,
    ]);
    await recorder.close();
  });
});

/** A transport that keeps what it was given: a stand-in for Kafka where only the messages matter. */
function recording(
  opts: { hold?: Promise<void> } = {},
): Transport & { delivered: { key: string; value: string }[][]; letters: GatewayDeadLetter[] } {
  const delivered: { key: string; value: string }[][] = [];
  const letters: GatewayDeadLetter[] = [];
  return {
    delivered,
    letters,
    deliver: async (messages) => {
      await opts.hold;
      delivered.push(messages);
    },
    deadLetter: async (records) => {
      letters.push(...records);
    },
    ready: async () => {},
    close: async () => {},
  };
}

describe('dead letters', () => {
  it('keeps each refused event with its reason beside the accepted ones, in the quarantine table when embedded', async () => {
    const transport = recording();
    const recorder = build(configFor(), { transport });
    const good = pageEvent('dl');
    const noType = { messageId: 'no-type-1', anonymousId: 'dl' };
    const response = await recorder.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([good, noType, 42]),
    });
    expect(response.statusCode).toBe(200);
    expect(transport.letters).toEqual([
      expect.objectContaining({
        stage: 'gateway',
        reason: 'invalid_type',
        projectId: 'shop',
        index: 1,
        messageId: 'no-type-1',
        raw: JSON.stringify(noType),
      }),
      expect.objectContaining({ reason: 'not_an_object', index: 2, messageId: null, raw: '42' }),
    ]);
    await recorder.close();

    // The embedded transport parks them in tidemark.events_quarantine under the topic `gateway`.
    const mixed = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent('dl'), { type: 'track', anonymousId: 'dl', messageId: 'no-event-1' }]),
    });
    expect(mixed.statusCode).toBe(200);
    const parked = await clickhouse.query<{ error: string; row: string }>(
      "SELECT error, row FROM tidemark.events_quarantine WHERE topic = 'gateway' AND row LIKE '%no-event-1%'",
    );
    expect(parked).toEqual([
      {
        error: 'missing_event (project shop, index 1)',
        row: JSON.stringify({ type: 'track', anonymousId: 'dl', messageId: 'no-event-1' }),
      },
    ]);
  });
});

describe('bodies refused whole', () => {
  it('writes no dead letter for a body with no valid event: the 400 lists every reason', async () => {
    const transport = recording();
    const recorder = build(configFor(), { transport });
    const response = await recorder.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([{ messageId: 'whole-1', anonymousId: 'dl' }, 42, {}]),
    });
    expect({ status: response.statusCode, body: response.json() }).toEqual({
      status: 400,
      body: {
        code: 'no_valid_events',
        message: 'No event in the batch is valid.',
        accepted: 0,
        rejected: [
          { index: 0, messageId: 'whole-1', reason: 'invalid_type' },
          { index: 1, messageId: null, reason: 'not_an_object' },
          { index: 2, messageId: null, reason: 'invalid_type' },
        ],
      },
    });
    expect({ delivered: transport.delivered, letters: transport.letters }).toEqual({
      delivered: [],
      letters: [],
    });
    const rejected = await recorder.inject({ method: 'GET', url: '/metrics' });
    expect(rejected.body).toContain('tidemark_gateway_events_rejected_total{reason="invalid_type"} 2');
    await recorder.close();
  });

  it('answers it 400 even when the transport is down, never a 503 that clients would resend', async () => {
    const down: Transport = {
      deliver: async () => {
        throw new Error('broker down');
      },
      deadLetter: async () => {
        throw new Error('broker down');
      },
      ready: async () => {},
      close: async () => {},
    };
    const gateway = build(configFor(), { transport: down });
    const response = await gateway.inject({ method: 'POST', url: '/v1/batch', payload: batchOf([1, 2]) });
    expect(response.statusCode).toBe(400);
    const mixed = await gateway.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), 2]),
    });
    expect(mixed.statusCode).toBe(503);
    await gateway.close();
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past the per-IP limit, before reading the body', async () => {
    const limited = build(configFor({ TIDEMARK_RATE_LIMIT_PER_IP: '3' }), { transport: recording() });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await limited.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'text/plain' },
        payload: 'not even json',
      });
      codes.push(r.statusCode);
      if (r.statusCode === 429) {
        expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
        expect(r.json()).toMatchObject({ code: 'rate_limited' });
      }
    }
    expect(codes).toEqual([400, 400, 400, 429, 429]);
    // Another address has its own budget.
    const other = await limited.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent()]),
      remoteAddress: '10.1.2.3',
    });
    expect(other.statusCode).toBe(200);
    // Health and metrics are never limited.
    expect((await limited.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await limited.close();
  });

  it('limits each write key, with a per-project limit from the projects file', async () => {
    const file = join(dir, 'projects.json');
    await writeFile(
      file,
      JSON.stringify({
        projects: [
          { id: 'shop', writeKeys: ['key-shop'], rateLimitPerMinute: 2 },
          { id: 'blog', writeKeys: ['key-blog'] },
        ],
      }),
    );
    const limited = build(
      loadConfig({
        TIDEMARK_MODE: 'embedded',
        TIDEMARK_LOG_LEVEL: 'silent',
        TIDEMARK_PROJECTS_FILE: file,
        TIDEMARK_RATE_LIMIT_PER_KEY: '3',
      }),
      { transport: recording() },
    );
    const send = async (key: string, ip: string) =>
      (
        await limited.inject({
          method: 'POST',
          url: '/v1/batch',
          payload: batchOf([pageEvent()], key),
          remoteAddress: ip,
        })
      ).statusCode;
    // From many addresses: the key's budget is shared.
    expect([
      await send('key-shop', '10.0.0.1'),
      await send('key-shop', '10.0.0.2'),
      await send('key-shop', '10.0.0.3'),
    ]).toEqual([200, 200, 429]);
    expect([
      await send('key-blog', '10.0.0.4'),
      await send('key-blog', '10.0.0.5'),
      await send('key-blog', '10.0.0.6'),
      await send('key-blog', '10.0.0.7'),
    ]).toEqual([200, 200, 200, 429]);
    await limited.close();
  });
});

describe('load shedding', () => {
  it('answers 503 overloaded while the producer backlog is over its limit, and recovers', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transport = recording({ hold });
    const small = build(configFor({ TIDEMARK_MAX_PENDING_EVENTS: '3' }), { transport });
    const first = small.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent()]),
    });
    // Wait until the first request is inside the transport.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const shed = await small.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent()]),
    });
    expect(shed.statusCode).toBe(503);
    expect(shed.json()).toMatchObject({ code: 'overloaded' });
    expect(shed.headers['retry-after']).toBe('5');
    release();
    expect((await first).statusCode).toBe(200);
    const after = await small.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent()]),
    });
    expect(after.statusCode).toBe(200);
    const metrics = (await small.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('tidemark_gateway_shed_total{cause="backlog"} 1');
    await small.close();
  });
});

describe('delivery deadline', () => {
  it('answers 503 when the transport has not acknowledged in time, and keeps counting the events it still holds', async () => {
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transport = recording({ hold });
    const app = build(configFor({ TIDEMARK_DELIVER_TIMEOUT_MS: '200', TIDEMARK_MAX_PENDING_EVENTS: '3' }), {
      transport,
    });
    const started = Date.now();
    const late = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent()]),
    });
    expect(late.statusCode).toBe(503);
    expect(late.json()).toMatchObject({ code: 'transport_unavailable' });
    expect(Date.now() - started).toBeLessThan(5_000);
    // The transport still holds those two events: the backlog limit of 3 refuses two more.
    const shed = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent()]),
    });
    expect(shed.json()).toMatchObject({ code: 'overloaded' });
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), pageEvent()]),
    });
    expect(after.statusCode).toBe(200);
    await app.close();
  });
});

describe('GET /metrics and /readyz', () => {
  it('counts requests by route and status, events by outcome, and delivery latency', async () => {
    const transport = recording();
    const counted = build(configFor(), { transport });
    await counted.inject({
      method: 'POST',
      url: '/v1/batch',
      payload: batchOf([pageEvent(), { type: 'nope' }]),
    });
    await counted.inject({ method: 'POST', url: '/v1/batch', payload: batchOf([pageEvent()], 'wrong-key') });
    expect((await counted.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
      status: 'ready',
      mode: 'embedded',
    });
    const response = await counted.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toContain('text/plain');
    const text = response.body;
    expect(text).toContain('tidemark_gateway_requests_total{route="/v1/batch",method="POST",status="200"} 1');
    expect(text).toContain('tidemark_gateway_requests_total{route="/v1/batch",method="POST",status="401"} 1');
    expect(text).toContain('tidemark_gateway_events_accepted_total{project="shop"} 1');
    expect(text).toContain('tidemark_gateway_events_rejected_total{reason="invalid_type"} 1');
    expect(text).toMatch(/tidemark_gateway_produce_duration_seconds_count 1\n/);
    expect(text).toContain('tidemark_gateway_requests_in_flight 1'); // this request
    await counted.close();
  });

  it('counts the events a client reports as dropped unsent, ignoring a report it cannot count', async () => {
    let failing = true;
    const transport = recording();
    const flaky: Transport = {
      ...transport,
      deliver: async (messages) => {
        if (failing) throw new Error('broker down');
        await transport.deliver(messages);
      },
    };
    const counted = build(configFor(), { transport: flaky });
    const post = (dropped: unknown, writeKey = 'key-shop', events: unknown[] = [pageEvent()]) =>
      counted.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ ...batchOf(events, writeKey), dropped }),
      });
    // A 503 is retried by the SDK with the same count, so it is counted with the answer that settles it.
    expect((await post(7)).statusCode).toBe(503);
    failing = false;
    expect((await post(7)).statusCode).toBe(200);
    expect((await post(2, 'key-blog')).statusCode).toBe(200);
    // The SDK forgets its count after a 400 too (it drops events the gateway judged unusable).
    expect((await post(3, 'key-shop', [{ type: 'nope' }])).statusCode).toBe(400);
    // Nothing to count, and no reason to refuse the events that came with it.
    for (const unusable of [0, -3, 2.5, '4', null, { n: 1 }, [5]]) {
      expect((await post(unusable)).statusCode).toBe(200);
    }
    const text = (await counted.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('tidemark_gateway_client_dropped_events_total{project="shop"} 10\n');
    expect(text).toContain('tidemark_gateway_client_dropped_events_total{project="blog"} 2\n');
    expect(text).toContain('tidemark_gateway_events_accepted_total{project="shop"} 8\n');
    await counted.close();
  });

  it("describes the API in OpenAPI 3, from the routes' own schemas", async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json() as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    // Each event of a batch is validated against this schema, published as is.
    expect(doc.components.schemas.SegmentEvent?.required).toEqual(['type']);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/batch',
        '/v1/track',
        '/v1/page',
        '/v1/screen',
        '/v1/identify',
        '/v1/group',
        '/v1/alias',
        '/healthz',
        '/readyz',
      ]),
    );
    expect(doc.paths['/v1/batch']?.post).toMatchObject({
      requestBody: { content: { 'application/json': { schema: { required: ['batch'] } } } },
      responses: { 200: expect.anything() },
    });
  });

  it('sends security headers and refuses prototype pollution in JSON bodies', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'none'");
    const polluted = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json' },
      payload:
        '{"writeKey":"key-shop","batch":[{"type":"page","anonymousId":"p","__proto__":{"admin":true}}]}',
    });
    expect(polluted.statusCode).toBe(400);
    expect(polluted.json()).toMatchObject({ code: 'invalid_body' });
  });
});
