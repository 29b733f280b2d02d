import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { type ClickHouse, createClickHouse, createWriter, migrate } from '@tidemark/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from './app.js';
import { loadConfig } from './config.js';
import { createEmbeddedTransport } from './transport/embedded.js';

// The Segment HTTP API as Segment-compatible clients really use it (issue 19), through the real embedded path:
// the writer over chDB, one fresh data directory for this file's process.
let dir: string;
let clickhouse: ClickHouse;
let app: FastifyInstance;
const basic = `Basic ${Buffer.from('key-shop:').toString('base64')}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-segment-api-'));
  clickhouse = createClickHouse({ chdbPath: dir });
  await migrate(clickhouse);
  const config = loadConfig({
    TIDEMARK_MODE: 'embedded',
    TIDEMARK_CHDB_PATH: dir,
    TIDEMARK_LOG_LEVEL: 'silent',
    TIDEMARK_WRITE_KEYS: 'key-shop:shop',
    TIDEMARK_PATH_PREFIX: '/t',
  });
  app = build(config, {
    transport: createEmbeddedTransport({ writer: createWriter({ clickhouse }), clickhouse }),
  });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await clickhouse?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let seq = 0;
function messageId(): string {
  seq += 1;
  return `segment-api-${seq}`;
}

type Stored = Record<string, string>;
async function stored(id: string): Promise<Stored | undefined> {
  const [row] = await clickhouse.query<Stored>(
    `SELECT type, event, message_id, anonymous_id, user_id, url, path, locale, library, properties, traits,
            context, integrations, extra, toString(client_ts) AS client_ts
     FROM tidemark.events WHERE message_id = {id:String}`,
    { id },
  );
  return row;
}

describe('content types and encodings', () => {
  const body = (id: string) =>
    JSON.stringify({ batch: [{ type: 'track', event: 'Encoded', anonymousId: 'a1', messageId: id }] });
  it.each([
    [
      'JSON as application/x-www-form-urlencoded (RudderStack)',
      { 'content-type': 'application/x-www-form-urlencoded' },
      (s: string) => gzipSync(s),
      'gzip',
    ],
    ['JSON without a Content-Type', {}, (s: string) => Buffer.from(s), undefined],
    ['a deflate body', { 'content-type': 'application/json' }, (s: string) => deflateSync(s), 'deflate'],
    ['a gzip body', { 'content-type': 'text/plain' }, (s: string) => gzipSync(s), 'gzip'],
  ])('stores %s', async (_what, headers, encode, encoding) => {
    const id = messageId();
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      headers: { authorization: basic, ...headers, ...(encoding ? { 'content-encoding': encoding } : {}) },
      payload: encode(body(id)),
    });
    expect(response.json()).toEqual({ accepted: 1, rejected: [] });
    expect((await stored(id))?.event).toBe('Encoded');
  });

  it.each([
    [
      'a content type it cannot read',
      { 'content-type': 'multipart/form-data; boundary=x' },
      /multipart\/form-data/,
    ],
    ['an encoding it cannot read', { 'content-type': 'application/json', 'content-encoding': 'br' }, /"br"/],
  ])('answers 415 with what is accepted to %s', async (_what, headers, named) => {
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      headers,
      payload: body(messageId()),
    });
    expect(response.statusCode).toBe(415);
    expect(response.json().code).toBe('unsupported_media_type');
    expect(response.json().message).toMatch(named);
  });

  it('answers 400 to a body that claims deflate and is not', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' },
      payload: body(messageId()),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/deflate/);
  });
});

describe('what a Segment client sends, kept', () => {
  it('keeps integers beyond 2^53 to the digit, in properties, context and a numeric userId', async () => {
    const id = messageId();
    const payload = `{"writeKey":"key-shop","batch":[{"type":"track","event":"Big","userId":1234567890123456789,
      "messageId":"${id}","properties":{"order":1234567890123456789,"neg":-98765432109876543210,"safe":9007199254740991,
      "float":1.5e300,"text":"1234567890123456789","list":[12345678901234567890]},
      "context":{"device":{"id":99999999999999999999}}}]}`;
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      payload,
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.json()).toEqual({ accepted: 1, rejected: [] });
    const row = await stored(id);
    expect(row?.user_id).toBe('1234567890123456789');
    expect(row?.properties).toBe(
      '{"order":1234567890123456789,"neg":-98765432109876543210,"safe":9007199254740991,"float":1.5e+300,' +
        '"text":"1234567890123456789","list":[12345678901234567890]}',
    );
    expect(row?.context).toBe('{"device":{"id":99999999999999999999}}');
  });

  it('refuses a messageId that is a number, also a large one', async () => {
    const payload = `{"writeKey":"key-shop","batch":[{"type":"track","event":"E","anonymousId":"a","messageId":12345678901234567890}]}`;
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      payload,
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().rejected).toEqual([{ index: 0, messageId: null, reason: 'invalid_message_id' }]);
  });

  it('merges the batch context and integrations into each event, the event winning', async () => {
    const [a, b] = [messageId(), messageId()];
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      payload: {
        writeKey: 'key-shop',
        context: {
          library: { name: 'analytics-go', version: '3.3.0' },
          locale: 'de-DE',
          page: { url: 'https://shop.example/a' },
        },
        integrations: { All: false, Mixpanel: true },
        batch: [
          { type: 'track', event: 'One', anonymousId: 'a', messageId: a },
          {
            type: 'track',
            event: 'Two',
            anonymousId: 'a',
            messageId: b,
            context: { locale: 'fr-FR' },
            integrations: { All: true },
          },
        ],
      },
    });
    expect(response.json()).toEqual({ accepted: 2, rejected: [] });
    expect(await stored(a)).toMatchObject({
      locale: 'de-DE',
      url: 'https://shop.example/a',
      library: '{"name":"analytics-go","version":"3.3.0"}',
      integrations: '{"All":false,"Mixpanel":true}',
    });
    expect(await stored(b)).toMatchObject({ locale: 'fr-FR', integrations: '{"All":true,"Mixpanel":true}' });
  });

  it('refuses a batch context that is not an object, saying so', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      payload: {
        writeKey: 'key-shop',
        context: 'de-DE',
        batch: [{ type: 'track', event: 'E', anonymousId: 'a' }],
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      code: 'invalid_body',
      message: expect.stringMatching(/context/),
    });
  });

  it("accepts Segment's own example timestamp and RudderStack's originalTimestamp", async () => {
    const [a, b] = [messageId(), messageId()];
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/batch',
      payload: {
        writeKey: 'key-shop',
        batch: [
          { type: 'track', event: 'E', anonymousId: 'a', messageId: a, timestamp: '2015-2-02T00:30:08.276Z' },
          {
            type: 'track',
            event: 'E',
            anonymousId: 'a',
            messageId: b,
            originalTimestamp: '2015-02-03T01:02:03.004+01:00',
          },
        ],
      },
    });
    expect(response.json()).toEqual({ accepted: 2, rejected: [] });
    expect((await stored(a))?.client_ts).toBe('2015-02-02 00:30:08.276');
    expect((await stored(b))?.client_ts).toBe('2015-02-03 00:02:03.004');
  });
});

describe('analytics.js', () => {
  it.each([
    ['t', 'track', { event: 'Clicked' }],
    ['p', 'page', { name: 'Home', category: 'Docs' }],
    ['i', 'identify', { traits: { plan: 'pro' } }],
    ['g', 'group', { groupId: 'g1' }],
    ['a', 'alias', { previousId: 'old' }],
    ['s', 'screen', { name: 'Main' }],
  ])('stores what it posts to /v1/%s as a %s', async (letter, type, fields) => {
    const id = messageId();
    const response = await app.inject({
      method: 'POST',
      url: `/t/v1/${letter}`,
      headers: { 'content-type': 'text/plain', authorization: basic },
      payload: JSON.stringify({
        type,
        anonymousId: 'a',
        userId: 'u',
        messageId: id,
        ...fields,
        _metadata: { bundled: ['Segment.io'] },
      }),
    });
    expect(response.json()).toEqual({ accepted: 1, rejected: [] });
    const row = await stored(id);
    expect(row?.type).toBe(type);
    expect(JSON.parse(row?.extra ?? '')).toEqual({ _metadata: { bundled: ['Segment.io'] } });
  });

  it('stores the batches it posts to /v1/b', async () => {
    const id = messageId();
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/b',
      headers: { 'content-type': 'text/plain', authorization: basic, 'x-retry-count': '2' },
      payload: JSON.stringify({
        writeKey: 'key-shop',
        sentAt: new Date().toISOString(),
        batch: [{ type: 'track', event: 'B', anonymousId: 'a', messageId: id }],
      }),
    });
    expect(response.json()).toEqual({ accepted: 1, rejected: [] });
    expect((await stored(id))?.event).toBe('B');
  });

  it('serves settings shaped like Segment’s CDN, naming this gateway as the API host', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/t/v1/projects/key-shop/settings',
      headers: { host: 'analytics.shop.example:8443' },
    });
    expect(response.statusCode).toBe(200);
    const settings = response.json();
    expect(settings.integrations['Segment.io']).toMatchObject({
      apiKey: 'key-shop',
      apiHost: 'analytics.shop.example:8443/t/v1',
      protocol: 'http',
    });
    expect(settings.metrics.host).toBe('analytics.shop.example:8443/t/v1');
    const unknown = await app.inject({ method: 'GET', url: '/t/v1/projects/nope/settings' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().code).toBe('invalid_write_key');
  });

  it('answers its metrics on /v1/m and counts them', async () => {
    const series = [{ type: 'Counter', metric: 'analytics_js.invoke.track', value: 1, tags: {} }];
    const response = await app.inject({
      method: 'POST',
      url: '/t/v1/m',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ series }),
    });
    expect(response.json()).toEqual({ received: 1 });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^tidemark_gateway_client_metrics_total 1$/m);
  });

  it('answers the preflight of an event with Authorization and X-Retry-Count', async () => {
    const response = await app.inject({
      method: 'OPTIONS',
      url: '/t/v1/t',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-retry-count',
      },
    });
    expect(response.statusCode).toBe(204);
    const allowed = String(response.headers['access-control-allow-headers'])
      .toLowerCase()
      .split(/\s*,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'x-retry-count']));
  });
});
