import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { build, createKafkaTransport, type KafkaTransport, loadConfig } from '@tidemark/gateway';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { kafkaClientEnv } from '../harness/kafkaClientEnv.js';
import { eventIdsOf, readTopic } from '../harness/offsets.js';

// Hostile input, generated: fast-check throws malformed bodies and headers at the gateway, which produces to
// the real broker. Whatever arrives, the process stays up and answers a 4xx that says what was wrong (or a
// 503 when shedding), and the valid events of a mixed batch are kept and reach Kafka.
const brokers = inject('kafkaBrokers');
const topic = `tidemark.fuzz.${randomUUID().slice(0, 8)}`;
const writeKey = 'fuzz-key';
let transport: KafkaTransport;
let app: ReturnType<typeof build>;
let base: string;

beforeAll(async () => {
  const config = loadConfig({
    TIDEMARK_MODE: 'distributed',
    KAFKA_BROKERS: brokers.join(','),
    TIDEMARK_KAFKA_TOPIC: topic,
    TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    TIDEMARK_KAFKA_PARTITIONS: '3',
    TIDEMARK_WRITE_KEYS: `${writeKey}:fuzz`,
    TIDEMARK_LOG_LEVEL: 'silent',
    // One client sends everything here: the limits are tested elsewhere.
    TIDEMARK_RATE_LIMIT_PER_IP: '0',
    TIDEMARK_RATE_LIMIT_PER_KEY: '0',
    TIDEMARK_MAX_BATCH_BYTES: String(64 * 1024),
    ...kafkaClientEnv,
  });
  transport = createKafkaTransport(config);
  await transport.connect();
  app = build(config, { transport });
  // Over real HTTP (not inject): the client refuses what no HTTP stack would send, and the event loop turns
  // as in production, which the load shedding samples.
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await transport?.close();
});

const refusals = new Set([400, 401, 403, 413, 415, 503]);

/** A body as raw bytes of many kinds: text, JSON-ish text, JSON values, envelopes with junk, gzip of any. */
const body = fc
  .oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc
      .record({
        writeKey: fc.oneof(fc.constant(writeKey), fc.string(), fc.anything()),
        sentAt: fc.oneof(fc.string(), fc.date({ noInvalidDate: false }).map(String), fc.anything()),
        batch: fc.oneof(fc.array(fc.anything(), { maxLength: 5 }), fc.anything()),
      })
      .map((v) => JSON.stringify(v) ?? ''),
    fc.constantFrom(
      '{"__proto__":{"polluted":true},"writeKey":"fuzz-key","batch":[{}]}',
      '{"constructor":{"prototype":{"polluted":true}},"batch":[1]}',
      `{"writeKey":"${writeKey}","batch":[${'{"type":"page"},'.repeat(5000)}{}]}`,
      '{"writeKey":"fuzz-key","batch":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}',
      '\u0000\u0001\u0002',
      '',
    ),
  )
  .map((text) => Buffer.from(text, 'utf8'));

// Mostly the content types and encodings real senders use, so most bodies get parsed; sometimes anything.
const headers = fc.record(
  {
    'content-type': fc.oneof(
      {
        arbitrary: fc.constantFrom('text/plain', 'application/json', 'text/plain; charset=utf-8'),
        weight: 8,
      },
      {
        arbitrary: fc.oneof(
          fc.constantFrom('application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ''),
          fc.string({ maxLength: 40 }),
        ),
        weight: 1,
      },
    ),
    'content-encoding': fc.oneof(
      { arbitrary: fc.constantFrom('gzip', 'identity'), weight: 4 },
      {
        arbitrary: fc.oneof(fc.constantFrom('br', 'deflate', 'gzip, gzip'), fc.string({ maxLength: 20 })),
        weight: 1,
      },
    ),
    authorization: fc.oneof(
      fc.constant(`Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`),
      fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`),
      fc.string({ maxLength: 60 }),
    ),
    origin: fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 })),
  },
  { requiredKeys: [] },
);

it('answers every one of 10 000 malformed requests with a 4xx (or 503) that names what was wrong', async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      body,
      headers,
      fc.boolean(),
      fc.constantFrom('/v1/batch', '/v1/track', '/v1/page', '/v1/identify'),
      async (raw, hdrs, gzip, url) => {
        // Header values must be valid HTTP: the client refuses control characters, so a server never sees them.
        const clean = Object.fromEntries(
          Object.entries(hdrs).filter(([, v]) => typeof v === 'string' && /^[\t\x20-\x7e]*$/.test(v)),
        );
        const payload = gzip ? gzipSync(raw) : raw;
        const response = await fetch(`${base}${url}`, { method: 'POST', headers: clean, body: payload });
        const text = await response.text();
        seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
        if (response.status === 200) return; // a generated body that happens to be a valid batch
        expect(refusals).toContain(response.status);
        const answer = JSON.parse(text) as { code?: unknown; message?: unknown };
        expect(typeof answer.code).toBe('string');
        expect(typeof answer.message).toBe('string');
      },
    ),
    { numRuns: 10_000 },
  );
  console.log(`fuzz: answers by status ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  // The process is still serving.
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
}, 300_000);

it('keeps every valid event of mixed batches and delivers them to Kafka', async () => {
  const validEvent = fc.record({
    type: fc.constantFrom('track', 'page', 'identify'),
    event: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
    messageId: fc.uuid({ version: 4 }),
    anonymousId: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
    // Without `__proto__` and `constructor` keys, at any depth (fast-check makes them): the gateway refuses a
    // body that holds one whole, as invalid_body (docs/SECURITY.md), so an event with one is not a valid event.
    properties: fc
      .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
      .map((value) => withoutPrototypeKeys(value) as Record<string, unknown>),
  });
  const junk = fc.oneof(
    fc.anything(),
    fc.record({ type: fc.string(), messageId: fc.anything() }),
    fc.record({ type: fc.constant('track'), anonymousId: fc.constant('x') }), // no event name
    fc.record({
      type: fc.constant('page'),
      anonymousId: fc.constant('x'),
      timestamp: fc.constant('yesterday'),
    }),
  );
  const delivered = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          validEvent.map((e) => ({ valid: true as const, e })),
          junk.map((e) => ({ valid: false as const, e })),
        ),
        {
          minLength: 1,
          maxLength: 12,
        },
      ),
      async (items) => {
        const batch = items.map((i) => i.e);
        const response = await fetch(`${base}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({ writeKey, batch }),
        });
        const validIndexes = items.flatMap((i, index) => (i.valid ? [index] : []));
        const answer = (await response.json()) as { accepted?: number; rejected?: { index: number }[] };
        const rejected = new Set((answer.rejected ?? []).map((r) => r.index));
        for (const index of validIndexes) expect(rejected.has(index)).toBe(false);
        if (validIndexes.length > 0) {
          expect(response.status).toBe(200);
          expect(answer.accepted).toBe(items.length - rejected.size);
          for (const item of items) if (item.valid) delivered.add(item.e.messageId);
        } else {
          expect([200, 400]).toContain(response.status);
        }
      },
    ),
    { numRuns: 300 },
  );

  // Read the topic back: every valid event is there.
  const allDelivered = (ids: Set<string>) => [...delivered].every((id) => ids.has(id));
  const inKafka = new Set(
    eventIdsOf(await readTopic(brokers, topic, (read) => allDelivered(new Set(eventIdsOf(read))))),
  );
  console.log(
    `fuzz: ${delivered.size} valid events in mixed batches, ${inKafka.size} events read back from Kafka`,
  );
  expect([...delivered].filter((id) => !inKafka.has(id))).toEqual([]);
}, 300_000);

/** `value` with every `__proto__` and `constructor` key removed, at any depth. */
function withoutPrototypeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPrototypeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '__proto__' && key !== 'constructor')
      .map(([key, inner]) => [key, withoutPrototypeKeys(inner)]),
  );
}
