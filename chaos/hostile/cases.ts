import { gzipSync } from 'node:zlib';
import type { Random } from './random.js';
import { hostileValues, injectionCase, writeCase } from './sql.js';

/** One acceptable answer: a status and, for a refusal, the error code it must carry. */
export interface Answer {
  status: number;
  code?: string;
}

/** One generated request over HTTP, and what the gateway must answer to it. */
export interface HttpCase {
  kind: string;
  method: 'GET' | 'POST' | 'OPTIONS' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Any one of these is right (a 503 `overloaded` with Retry-After is always right: shedding). */
  expect: Answer[];
  /** Events of a mixed batch the gateway must accept; acknowledged (so they must be stored) on a 200. */
  validIds?: string[];
  /** Index → reason of the events of a mixed batch it must refuse. */
  refused?: Map<number, string>;
  /** Any further check of the answer; returns what is wrong, or undefined. */
  check?: (answer: {
    json: unknown;
    headers: Record<string, string | string[] | undefined>;
  }) => string | undefined;
}

/** What the generators need to know about the gateway under test. */
export interface Target {
  writeKey: string;
  revokedKey: string;
  limitedKey: string;
  adminToken: string;
  allowedOrigin: string;
  projectId: string;
  /** Up to this many events per request, so that bodies stay under the gateway's limits. */
  maxEvents: number;
}

const strange = [
  "'; DROP TABLE tidemark.events; --",
  '<script>alert(1)</script>',
  // A log4shell lookup, as text: it must be stored as is.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal characters are the point.
  '${jndi:ldap://127.0.0.1:9/x}',
  '{{7*7}}',
  '\u202eevil\u202c',
  '💥 ünïcödé 漢字',
  '\u0000\u0001\u001f',
  '\ud800',
  ' ',
  'a'.repeat(300),
  '../../etc/passwd',
  'null',
];

/** A valid event of a random type with unique id, odd but legal values. */
function validEvent(random: Random, id: string): Record<string, unknown> {
  const type = random.pick(['track', 'page', 'identify', 'screen', 'group'] as const);
  const event: Record<string, unknown> = {
    type,
    messageId: id,
    anonymousId: random.chance(0.9) ? `anon-${random.text(8)}` : random.pick(strange.filter((s) => s.trim())),
    timestamp: new Date().toISOString(),
    properties: random.chance(0.5)
      ? { note: random.pick(strange), n: random.int(-1e9, 1e9), nested: { list: [1, 'x', null, true] } }
      : {},
    context: {
      page: {
        url: random.pick(['https://shop.example/cart?utm_source=x', 'javascript:alert(1)', 'not a url']),
      },
      userAgent: random.pick(['Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36', strange[0]]),
    },
  };
  if (type === 'track')
    event.event = random.chance(0.8) ? 'Clicked' : random.pick(strange.filter((s) => s.trim()));
  if (type === 'page') event.name = random.pick(strange);
  return event;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** An event with exactly one fault, and the reason the gateway gives for it. */
function invalidEvent(random: Random, id: string): { raw: unknown; reason: string; json?: string } {
  const base = validEvent(random, id);
  base.type = 'page';
  const fault = random.int(0, 11);
  switch (fault) {
    case 0:
      return { raw: random.pick([42, 'event', null, true, [base]]), reason: 'not_an_object' };
    case 1:
      return {
        raw: { ...base, type: random.pick(['click', 5, '', 'TRACK', null, {}]) },
        reason: 'invalid_type',
      };
    case 2:
      return {
        raw: { ...base, messageId: random.pick(['', 5, {}, 'x'.repeat(201)]) },
        reason: 'invalid_message_id',
      };
    case 3: {
      const { anonymousId: _, ...rest } = base;
      return {
        raw: random.chance(0.5) ? rest : { ...rest, anonymousId: random.pick(['  ', {}, [], true]) },
        reason: 'missing_id',
      };
    }
    case 4: {
      const { name: _, ...rest } = base;
      return {
        raw: { ...rest, type: 'track', event: random.pick([undefined, '', '   ', 5]) },
        reason: 'missing_event',
      };
    }
    case 5:
      return {
        raw: { ...base, timestamp: random.pick(['yesterday', '2025-13-45T99:00:00Z', 5, {}]) },
        reason: 'invalid_timestamp',
      };
    case 6:
      return {
        raw: { ...base, properties: random.pick([[1, 2], 'x', 5, true]) },
        reason: 'invalid_properties',
      };
    case 7:
      return { raw: { ...base, traits: random.pick([[1], 'x', 5]) }, reason: 'invalid_traits' };
    case 8:
      return { raw: { ...base, context: random.pick([[1], 'x', 5]) }, reason: 'invalid_context' };
    case 9:
      return { raw: { ...base, properties: { blob: 'x'.repeat(33 * 1024) } }, reason: 'too_large' };
    case 10: {
      // Built as text: the nesting is deeper than JSON.stringify itself can go.
      const text = JSON.stringify({ ...base, properties: '@deep@' });
      return {
        raw: undefined,
        json: text.replace('"@deep@"', `{"a":${nested(random.int(20_000, 40_000))}}`),
        reason: 'too_deep',
      };
    }
    default:
      return { raw: random.pick([[], [[[]]], 'x'.repeat(100)]), reason: 'not_an_object' };
  }
}

/** The `{ writeKey, batch }` envelope as JSON text, items given as JSON text each. */
function envelope(items: string[], writeKey: string | undefined, extra = ''): string {
  const key = writeKey === undefined ? '' : `"writeKey":${JSON.stringify(writeKey)},`;
  return `{${key}"sentAt":${JSON.stringify(new Date().toISOString())},${extra}"batch":[${items.join(',')}]}`;
}

function basic(user: string): string {
  return `Basic ${Buffer.from(`${user}:`).toString('base64')}`;
}

/** Headers and body for a batch sent the ways real senders do: body or Basic key, text/plain or JSON, gzip. */
function ingestRequest(
  random: Random,
  target: Target,
  items: string[],
  opts: { key?: string; origin?: string } = {},
): Pick<HttpCase, 'headers' | 'body'> {
  const key = opts.key ?? target.writeKey;
  const inBody = random.chance(0.7);
  const headers: Record<string, string> = {
    'content-type': random.pick(['text/plain', 'text/plain;charset=UTF-8', 'application/json']),
  };
  if (!inBody) headers.authorization = basic(key);
  const origin = opts.origin ?? (random.chance(0.5) ? target.allowedOrigin : undefined);
  if (origin !== undefined) headers.origin = origin;
  let body = Buffer.from(envelope(items, inBody ? key : undefined));
  if (random.chance(0.2)) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  return { headers, body };
}

/** Valid events among invalid ones: the valid ones are kept, each invalid one listed with its reason. */
function mixedBatch(random: Random, target: Target, ids: () => string): HttpCase {
  const n = random.int(1, target.maxEvents);
  const items: string[] = [];
  const validIds: string[] = [];
  const refused = new Map<number, string>();
  let large = false;
  for (let i = 0; i < n; i += 1) {
    const id = ids();
    if (random.chance(0.5)) {
      items.push(JSON.stringify(validEvent(random, id)));
      validIds.push(id);
      continue;
    }
    let bad = invalidEvent(random, id);
    // At most one event of 33 KB or 40-80 KB of nesting per request, so the body stays under 500 KB.
    while ((bad.reason === 'too_large' || bad.reason === 'too_deep') && large) bad = invalidEvent(random, id);
    if (bad.reason === 'too_large' || bad.reason === 'too_deep') large = true;
    items.push(bad.json ?? JSON.stringify(bad.raw));
    refused.set(i, bad.reason);
  }
  const request = ingestRequest(random, target, items);
  if (validIds.length === 0) {
    return {
      kind: 'mixed-batch',
      method: 'POST',
      path: '/v1/batch',
      ...request,
      expect: [{ status: 400, code: 'no_valid_events' }],
      refused,
    };
  }
  return {
    kind: 'mixed-batch',
    method: 'POST',
    path: '/v1/batch',
    ...request,
    expect: [{ status: 200 }],
    validIds,
    refused,
  };
}

/** One valid event on its own route (`/v1/track`, …): the Segment calls that do not batch. */
function singleEvent(random: Random, target: Target, ids: () => string): HttpCase {
  const id = ids();
  const event = validEvent(random, id);
  const { type, ...rest } = event;
  const body = Buffer.from(JSON.stringify({ writeKey: target.writeKey, ...rest }));
  return {
    kind: 'mixed-batch',
    method: 'POST',
    path: `/v1/${type as string}`,
    headers: { 'content-type': 'text/plain' },
    body,
    expect: [{ status: 200 }],
    validIds: [id],
    refused: new Map(),
  };
}

const refusedBody = (code: string): Answer[] => [{ status: 400, code }];

function validItems(random: Random, ids: () => string, n: number): string[] {
  return Array.from({ length: n }, () => JSON.stringify(validEvent(random, ids())));
}

function malformedJson(random: Random, target: Target, ids: () => string): HttpCase {
  const whole = envelope(validItems(random, ids, random.int(1, 5)), target.writeKey);
  const variants: (() => string | Buffer)[] = [
    () => whole.slice(0, random.int(1, whole.length - 1)),
    () => `${whole}${random.pick(['}', ']', 'x', ',', '{}'])}`,
    () => whole.replaceAll('"', "'"),
    () => whole.replace('"batch":[', '"batch":[NaN,Infinity,'),
    () => whole.replace(/]}$/, ',]}'),
    () => `/* c */${whole}`,
    () => `{${random.text(random.int(1, 200), 'abc{}[]":,\\ 0123456789')}`,
    () => '',
    () => gzipSync(whole.slice(0, random.int(1, whole.length - 1))),
    () => gzipSync(whole).subarray(0, random.int(10, 30)),
    () => random.text(random.int(1, 50), '\u0001\u0002\t\r\n xyz'),
  ];
  const pick = random.int(0, variants.length - 1);
  const body = variants[pick]?.() ?? '';
  const gzipped = pick === 8 || pick === 9;
  return {
    kind: 'malformed-json',
    method: 'POST',
    path: '/v1/batch',
    headers: {
      'content-type': random.pick(['text/plain', 'application/json']),
      ...(gzipped ? { 'content-encoding': 'gzip' } : {}),
    },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    expect: refusedBody('invalid_body'),
  };
}

function wrongTypes(random: Random, target: Target, ids: () => string): HttpCase {
  const junk = () => JSON.stringify(invalidEvent(random, ids()).raw ?? 1);
  const k = JSON.stringify(target.writeKey);
  const either: Answer[] = [
    { status: 400, code: 'invalid_body' },
    { status: 400, code: 'no_valid_events' },
  ];
  const variants: [string, Answer[]][] = [
    [`{"writeKey":${k},"batch":${random.pick(['{}', '5', 'true', '"x"', 'null', '{"0":{}}'])}}`, either],
    [`{"writeKey":${k},"batch":[]}`, refusedBody('invalid_body')],
    [`{"writeKey":${k}}`, refusedBody('invalid_body')],
    [`{"writeKey":${random.pick(['{}', '[]', '{"$ne":null}'])},"batch":[{}]}`, refusedBody('invalid_body')],
    [
      `{"writeKey":${random.pick(['5', 'true', '0'])},"batch":[{}]}`,
      [{ status: 401, code: 'invalid_write_key' }, ...either],
    ],
    [`{"writeKey":${k},"sentAt":${random.pick(['{}', '[]', '5', 'true'])},"batch":[${junk()}]}`, either],
    [
      random.pick(['[]', '5', '"str"', 'null', 'true', `[{"writeKey":${k},"batch":[]}]`]),
      refusedBody('invalid_body'),
    ],
    [
      `{"writeKey":${k},"dropped":${random.pick(['{}', '"x"', '-1', '1e400'])},"batch":[${junk()},${junk()}]}`,
      refusedBody('no_valid_events'),
    ],
    [`{"writeKey":${k},"batch":[${junk()},${junk()},${junk()}]}`, refusedBody('no_valid_events')],
    // More items than the gateway's cap on events per batch (2 000 by default), within its 500 KB body limit.
    [
      `{"writeKey":${k},"batch":[${Array.from({ length: random.int(2_001, 100_000) }, () => random.pick(['1', '{}'])).join(',')}]}`,
      [{ status: 413, code: 'too_many_events' }],
    ],
  ];
  const [body, expect] = random.pick(variants);
  return {
    kind: 'wrong-types',
    method: 'POST',
    path: '/v1/batch',
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(body),
    expect,
  };
}

let bomb: Buffer | undefined;
function huge(random: Random, target: Target, ids: () => string): HttpCase {
  if (random.chance(0.5)) {
    // 10 MB of JSON that gzip makes 10 KB: the limit applies to the decoded size.
    bomb ??= gzipSync(
      Buffer.from(
        envelope(
          [
            JSON.stringify({
              type: 'page',
              anonymousId: 'a',
              properties: { x: 'A'.repeat(10 * 1024 * 1024) },
            }),
          ],
          target.writeKey,
        ),
      ),
    );
    return {
      kind: 'gzip-bomb',
      method: 'POST',
      path: '/v1/batch',
      headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
      body: bomb,
      expect: [{ status: 413, code: 'payload_too_large' }],
    };
  }
  const items = validItems(random, ids, 3);
  items.push(
    JSON.stringify({
      type: 'page',
      anonymousId: 'a',
      properties: { x: 'B'.repeat(random.int(510, 2048) * 1024) },
    }),
  );
  return {
    kind: 'huge',
    method: 'POST',
    path: random.pick(['/v1/batch', '/v1/page']),
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(envelope(items, target.writeKey)),
    expect: [{ status: 413, code: 'payload_too_large' }],
  };
}

function deep(random: Random, target: Target, ids: () => string): HttpCase {
  const depth = random.int(10_000, 100_000);
  const k = JSON.stringify(target.writeKey);
  const variants: string[] = [
    nested(depth),
    `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    `{"writeKey":${k},"batch":[${validItems(random, ids, 2).join(',')}],"x":${'{"a":'.repeat(depth)}{"__proto__":{"p":1}}${'}'.repeat(depth)}}`,
    `{"writeKey":${nested(depth)},"batch":[{}]}`,
    `{"writeKey":${k},"batch":${nested(depth)}}`,
  ];
  const pick = random.int(0, variants.length - 1);
  const body = Buffer.from(variants[pick] ?? '');
  // Over the batch limit it is refused unread; under it, a deep batch item is refused as not_an_object, and every
  // other variant is no usable body.
  const expect =
    body.length > 500 * 1024
      ? [{ status: 413, code: 'payload_too_large' }]
      : pick === 4
        ? refusedBody('no_valid_events')
        : refusedBody('invalid_body');
  return {
    kind: 'deep',
    method: 'POST',
    path: '/v1/batch',
    headers: { 'content-type': 'text/plain' },
    body,
    expect,
  };
}

const badUtf8 = [
  [0xff],
  [0xfe],
  [0xc3, 0x28],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xc0, 0xaf],
  [0x80],
];
function invalidUtf8(random: Random, target: Target, ids: () => string): HttpCase {
  const text = envelope(validItems(random, ids, random.int(1, 5)), target.writeKey);
  // Inside a string value: just after the opening quote of a random string.
  const quotes = [...text.matchAll(/:"/g)].map((m) => (m.index ?? 0) + 2);
  const at = random.pick(quotes);
  let body = Buffer.concat([
    Buffer.from(text.slice(0, at)),
    Buffer.from(random.pick(badUtf8)),
    Buffer.from(text.slice(at)),
  ]);
  const headers: Record<string, string> = { 'content-type': random.pick(['text/plain', 'application/json']) };
  if (random.chance(0.2)) {
    body = gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  return {
    kind: 'invalid-utf8',
    method: 'POST',
    path: '/v1/batch',
    headers,
    body,
    expect: refusedBody('invalid_body'),
  };
}

function protoPollution(random: Random, target: Target, ids: () => string): HttpCase {
  const items = validItems(random, ids, random.int(1, 4));
  const keys = ['"__proto__"', '"\\u005f_proto__"', '"\\u005F\\u005Fproto\\u005F\\u005F"'];
  const payload = random.pick([
    `${random.pick(keys)}:{"isAdmin":true}`,
    '"constructor":{"prototype":{"isAdmin":true}}',
  ]);
  const where = random.int(0, 3);
  if (where === 0) items.push(`{"type":"page","anonymousId":"p",${payload}}`);
  else if (where === 1) items.push(`{"type":"page","anonymousId":"p","properties":{${payload}}}`);
  else if (where === 2) items.push(`{"type":"page","anonymousId":"p","context":{"page":{${payload}}}}`);
  const extra = where === 3 ? `${payload},` : '';
  return {
    kind: 'proto-pollution',
    method: 'POST',
    path: '/v1/batch',
    headers: { 'content-type': random.pick(['text/plain', 'application/json']) },
    body: Buffer.from(envelope(items, target.writeKey, extra)),
    expect: refusedBody('invalid_body'),
  };
}

function unknownKey(random: Random, target: Target, ids: () => string, revoked: boolean): HttpCase {
  const items = validItems(random, ids, random.int(1, 3));
  const key = revoked
    ? target.revokedKey
    : random.pick([
        `key-${random.text(12)}`,
        `${target.writeKey}x`,
        target.writeKey.toUpperCase(),
        ` ${target.writeKey}`,
        target.adminToken,
        "' OR '1'='1",
        'k'.repeat(10_000),
        '漢字',
      ]);
  const request = ingestRequest(random, target, items, { key });
  if (!revoked && random.chance(0.2)) {
    // No usable key at all: none in the body, and a Basic header that does not decode to one.
    request.body = Buffer.from(envelope(items, undefined));
    request.headers.authorization = random.pick([
      'Basic !!!!',
      'Basic ',
      `Bearer ${target.writeKey}`,
      basic(''),
      'Basic Og==',
    ]);
    delete request.headers['content-encoding'];
  }
  return {
    kind: revoked ? 'revoked-key' : 'unknown-key',
    method: 'POST',
    path: '/v1/batch',
    ...request,
    expect: [{ status: 401, code: 'invalid_write_key' }],
  };
}

function forbiddenOrigin(random: Random, target: Target, ids: () => string): HttpCase {
  const host = new URL(target.allowedOrigin).host;
  const origin = random.pick([
    'https://evil.example',
    'null',
    `https://${host}.evil.example`,
    `http://${host}`,
    `https://${host}:8443`,
    `https://${host.toUpperCase()}`,
    `${target.allowedOrigin}/`,
    'file://',
    `https://evil.example/${host}`,
  ]);
  return {
    kind: 'forbidden-origin',
    method: 'POST',
    path: '/v1/batch',
    ...ingestRequest(random, target, validItems(random, ids, random.int(1, 3)), { origin }),
    expect: [{ status: 403, code: 'origin_not_allowed' }],
  };
}

function corsPreflight(random: Random, target: Target): HttpCase {
  const allowed = random.chance(0.3);
  const origin = allowed
    ? target.allowedOrigin
    : random.pick(['https://evil.example', 'null', 'http://localhost:1']);
  return {
    kind: 'cors-preflight',
    method: 'OPTIONS',
    path: '/v1/batch',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
    expect: [{ status: 204 }],
    check: ({ headers }) => {
      const given = headers['access-control-allow-origin'];
      if (allowed && given !== origin) return `allowed origin not echoed (${given})`;
      if (!allowed && given !== undefined) return `access-control-allow-origin ${given} for ${origin}`;
      return undefined;
    },
  };
}

function unsupportedMedia(random: Random, target: Target, ids: () => string): HttpCase {
  const body = Buffer.from(envelope(validItems(random, ids, 1), target.writeKey));
  const headers: Record<string, string> = random.chance(0.5)
    ? {
        // Not application/x-www-form-urlencoded: Segment-compatible clients send JSON under it, so it is served.
        'content-type': random.pick([
          'multipart/form-data; boundary=x',
          'application/xml',
          'text/html',
          'image/png',
          'application/octet-stream',
        ]),
      }
    : {
        'content-type': 'text/plain',
        // Not deflate: served beside gzip (a body that is not deflate data is then 400 invalid_body).
        'content-encoding': random.pick(['br', 'compress', 'gzip, gzip', 'zstd', 'x']),
      };
  return {
    kind: 'unsupported-media',
    method: 'POST',
    path: '/v1/batch',
    headers,
    body,
    expect: [{ status: 415, code: 'unsupported_media_type' }],
  };
}

function notFound(random: Random): HttpCase {
  const [method, path] = random.pick([
    ['GET', '/v1/batch'],
    ['PUT', '/v1/batch'],
    ['DELETE', '/v1/sql'],
    ['GET', '/v1/../../etc/passwd'],
    ['GET', '/dashboard/..%2f..%2fpackage.json'],
    ['GET', '/dashboard/%2e%2e%2f%2e%2e%2f.env'],
    ['GET', '/.env'],
    ['GET', '/admin'],
    ['POST', '/v1/batch/../sql'],
    ['GET', '/v1/batch%00'],
    ['POST', '/v2/batch'],
    ['GET', `/${'a'.repeat(2000)}`],
    ['GET', '/dashboard/%zz'],
    ['GET', '/dashboard/%E0%A4%A'],
    ['GET', `/dashboard/${'y'.repeat(150)}`],
  ] as const);
  // The router refuses a path parameter it cannot decode, or one over 100 characters, before any route runs.
  const expect: Answer[] = ['/dashboard/%zz', '/dashboard/%E0%A4%A'].includes(path)
    ? [{ status: 400, code: 'invalid_request' }]
    : path.startsWith('/dashboard/yyy')
      ? [{ status: 414, code: 'uri_too_long' }]
      : [{ status: 404, code: 'not_found' }];
  return { kind: 'not-found', method, path, headers: {}, expect };
}

function rateLimited(random: Random, target: Target, ids: () => string): HttpCase {
  const items = Array.from({ length: random.int(1, 3) }, () =>
    JSON.stringify(invalidEvent(random, ids()).raw ?? 1),
  );
  return {
    kind: 'rate-limited',
    method: 'POST',
    path: '/v1/batch',
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(envelope(items, target.limitedKey)),
    expect: [
      { status: 400, code: 'no_valid_events' },
      { status: 429, code: 'rate_limited' },
    ],
    check: ({ json, headers }) =>
      (json as { code?: string }).code === 'rate_limited' && headers['retry-after'] === undefined
        ? '429 without Retry-After'
        : undefined,
  };
}

function adminWithoutToken(random: Random, target: Target): HttpCase {
  const [method, path] = random.pick([
    ['POST', '/v1/sql'],
    ['GET', '/v1/queries'],
    ['GET', '/v1/queries/overview'],
    ['GET', '/v1/live'],
    ['GET', `/v1/live?token=${target.adminToken}`],
  ] as const);
  const authorization = random.pick([
    undefined,
    'Bearer wrong-token-0000000000000000',
    `Bearer ${target.adminToken}x`,
    `Bearer ${target.adminToken.slice(0, -1)}`,
    `Basic ${Buffer.from(`${target.adminToken}:`).toString('base64')}`,
    `Bearer ${target.writeKey}`,
    `Token ${target.adminToken}`,
    'Bearer',
    `Bearer ${target.adminToken} ${target.adminToken}`,
  ]);
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const body = method === 'POST' ? Buffer.from('SELECT count() FROM events') : undefined;
  if (body) headers['content-type'] = 'text/plain';
  return {
    kind: 'admin-no-token',
    method,
    path,
    headers,
    ...(body ? { body } : {}),
    expect: [{ status: 401, code: 'invalid_admin_token' }],
  };
}

function sqlRequest(
  random: Random,
  target: Target,
  kind: string,
  sql: string,
  params?: Record<string, unknown>,
): Pick<HttpCase, 'kind' | 'method' | 'path' | 'headers' | 'body'> {
  const asText = params === undefined && random.chance(0.5);
  return {
    kind,
    method: 'POST',
    path: '/v1/sql',
    headers: {
      authorization: `Bearer ${target.adminToken}`,
      'content-type': asText ? 'text/plain' : 'application/json',
    },
    body: Buffer.from(
      asText ? sql : JSON.stringify(params === undefined ? { query: sql } : { query: sql, params }),
    ),
  };
}

function sqlCase(random: Random, target: Target, kind: 'sql-write' | 'sql-injection'): HttpCase {
  const c = kind === 'sql-write' ? writeCase(random) : injectionCase(random);
  let request = sqlRequest(random, target, kind, c.sql);
  // An empty statement as text/plain is an empty body, which the schema refuses before the check sees it.
  const empty = c.sql.trim() === '';
  if (empty && request.headers['content-type'] === 'text/plain')
    request = {
      ...request,
      body: Buffer.from(JSON.stringify({ query: c.sql })),
      headers: { ...request.headers, 'content-type': 'application/json' },
    };
  const expect: Answer[] =
    c.expect === 200
      ? [{ status: 200 }]
      : c.expect === 'query_timeout'
        ? [{ status: 504, code: 'query_timeout' }]
        : // '' fails the schema's minLength: invalid_body, never run.
          c.sql === ''
          ? [{ status: 400, code: 'invalid_body' }]
          : [{ status: 400, code: c.expect }];
  const first = c.first;
  return {
    ...request,
    expect,
    ...(first === undefined
      ? {}
      : {
          check: ({ json }: { json: unknown }) => {
            const cell = (json as { rows?: unknown[][] }).rows?.[0]?.[0];
            return String(cell) === first
              ? undefined
              : `first cell ${JSON.stringify(cell)}, expected ${first}`;
          },
        }),
  };
}

function sqlParams(random: Random, target: Target): HttpCase {
  const value = random.pick(hostileValues);
  if (random.chance(0.8)) {
    return {
      ...sqlRequest(
        random,
        target,
        'sql-params',
        'SELECT count() FROM events WHERE project_id = {p:String} OR anonymous_id = {p:String}',
        { p: value },
      ),
      expect: [{ status: 200 }],
      check: ({ json }) => {
        const cell = (json as { rows?: unknown[][] }).rows?.[0]?.[0];
        return String(cell) === '0' ? undefined : `a hostile parameter matched ${JSON.stringify(cell)} rows`;
      },
    };
  }
  // A value that does not fit its type fails in ClickHouse; an Identifier parameter, which would name a table
  // the statement check cannot see, is refused by the check.
  const [sql, params, code] = random.pick([
    ['SELECT {n:UInt8}', { n: value }, 'query_failed'],
    ['SELECT {p:Identifier}', { p: value }, 'invalid_query'],
  ] as const);
  return {
    ...sqlRequest(random, target, 'sql-params', sql, params),
    expect: [{ status: 400, code }],
  };
}

function readyQuery(random: Random, target: Target): HttpCase {
  const value = encodeURIComponent(random.pick(hostileValues).slice(0, 200));
  const range = 'from=2026-01-01%2000:00:00&to=2030-01-01%2000:00:00&host=&country=&device_type=';
  const [path, expect] = random.pick([
    [`/v1/queries/overview?project=${value}&${range}`, [{ status: 200 }]],
    [
      `/v1/queries/overview?project=${target.projectId}&from=${value}&to=x&host=&country=&device_type=`,
      [{ status: 400, code: 'invalid_param' }],
    ],
    [
      `/v1/queries/${random.pick(['..%2f..%2fetc', 'overview%3B%20DROP', 'OVERVIEW'])}`,
      [{ status: 404, code: 'unknown_query' }],
    ],
    [`/v1/queries/${'x'.repeat(300)}`, [{ status: 414, code: 'uri_too_long' }]],
  ] as [string, Answer[]][]);
  return {
    kind: 'ready-query',
    method: 'GET',
    path,
    headers: { authorization: `Bearer ${target.adminToken}` },
    expect,
  };
}

/** The kinds over HTTP and how often each comes (per 100 requests). */
export const httpKinds = {
  'mixed-batch': 20,
  'malformed-json': 9,
  'wrong-types': 9,
  deep: 2,
  huge: 1,
  'invalid-utf8': 6,
  'proto-pollution': 6,
  'unknown-key': 6,
  'revoked-key': 2,
  'forbidden-origin': 6,
  'cors-preflight': 2,
  'unsupported-media': 3,
  'not-found': 2,
  'rate-limited': 1,
  'admin-no-token': 5,
  'sql-write': 5,
  'sql-injection': 6,
  'sql-params': 1,
  'ready-query': 0.3,
} as const;

/** One request of the given kind. `ids` hands out the unique event ids. */
export function httpCase(
  kind: keyof typeof httpKinds,
  random: Random,
  target: Target,
  ids: () => string,
): HttpCase {
  switch (kind) {
    case 'mixed-batch':
      return random.chance(0.85) ? mixedBatch(random, target, ids) : singleEvent(random, target, ids);
    case 'malformed-json':
      return malformedJson(random, target, ids);
    case 'wrong-types':
      return wrongTypes(random, target, ids);
    case 'deep':
      return random.chance(0.5) ? deep(random, target, ids) : { ...mixedDeep(random, target, ids) };
    case 'huge':
      return huge(random, target, ids);
    case 'invalid-utf8':
      return invalidUtf8(random, target, ids);
    case 'proto-pollution':
      return protoPollution(random, target, ids);
    case 'unknown-key':
      return unknownKey(random, target, ids, false);
    case 'revoked-key':
      return unknownKey(random, target, ids, true);
    case 'forbidden-origin':
      return forbiddenOrigin(random, target, ids);
    case 'cors-preflight':
      return corsPreflight(random, target);
    case 'unsupported-media':
      return unsupportedMedia(random, target, ids);
    case 'not-found':
      return notFound(random);
    case 'rate-limited':
      return rateLimited(random, target, ids);
    case 'admin-no-token':
      return adminWithoutToken(random, target);
    case 'sql-write':
    case 'sql-injection':
      return sqlCase(random, target, kind);
    case 'sql-params':
      return sqlParams(random, target);
    case 'ready-query':
      return readyQuery(random, target);
  }
}

/** Valid events around one nested too deep to serialize: 200, the deep one refused as too_deep. */
function mixedDeep(random: Random, target: Target, ids: () => string): HttpCase {
  const validIds = [ids(), ids()];
  const deepId = ids();
  const deepEvent = JSON.stringify({ type: 'page', anonymousId: 'p', messageId: deepId }).replace(
    /}$/,
    `,"properties":{"a":${nested(random.int(20_000, 60_000))}}}`,
  );
  const items = [
    JSON.stringify(validEvent(random, validIds[0] as string)),
    deepEvent,
    JSON.stringify(validEvent(random, validIds[1] as string)),
  ];
  return {
    kind: 'deep',
    method: 'POST',
    path: '/v1/batch',
    ...ingestRequest(random, target, items),
    expect: [{ status: 200 }],
    validIds,
    refused: new Map([[1, 'too_deep']]),
  };
}
