import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { readTopic } from '../harness/offsets.js';
import { type Pipeline, startPipeline } from '../harness/pipeline.js';

// The distributed path with nothing faked: gateway (kafkajs, acks=all) → Kafka broker → sink consumer group → chDB.
let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline(inject('kafkaBrokers'));
});

afterAll(async () => {
  await pipeline?.stop();
});

const chrome =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

function uuidv7Like(n: number): string {
  return `0193a1b2-c3d4-7${String(n).padStart(3, '0')}-8abc-${String(n).padStart(12, '0')}`;
}

// Client clock and sentAt agree (no skew to correct), so the stored timestamp is the client's own.
const trackedAt = new Date(Date.now() - 2000);
const sentAt = new Date(trackedAt.getTime() + 500).toISOString();
const storedTimestamp = trackedAt.toISOString().replace('T', ' ').replace('Z', '');

function event(n: number, anonymousId: string) {
  return {
    type: 'track',
    event: 'Product Added',
    messageId: uuidv7Like(n),
    anonymousId,
    timestamp: trackedAt.toISOString(),
    properties: { product: `p${n}`, price: n },
    context: {
      userAgent: chrome,
      locale: 'en-GB',
      page: {
        url: `https://shop.example/products/p${n}?utm_source=newsletter&utm_medium=email`,
        path: `/products/p${n}`,
        referrer: 'https://www.google.com/search?q=kayak',
        title: 'Kayaks',
        search: '?utm_source=newsletter&utm_medium=email',
      },
      screen: { width: 1440, height: 900 },
      library: { name: '@tidemark/sdk', version: '0.1.0' },
    },
  };
}

async function post(body: unknown, contentType: string): Promise<Response> {
  return fetch(`${pipeline.gatewayUrl}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  });
}

interface Row {
  event_id: string;
  project_id: string;
  type: string;
  event: string;
  anonymous_id: string;
  host: string;
  path: string;
  referrer_host: string;
  utm_source: string;
  utm_medium: string;
  browser: string;
  os: string;
  device_type: string;
  screen_width: number;
  product: string;
  price: number;
  timestamp: string;
}

function rows(): Promise<Row[]> {
  return pipeline.clickhouse.query<Row>(
    `SELECT toString(event_id) AS event_id, project_id, type, event, anonymous_id, host, path, referrer_host,
            utm_source, utm_medium, browser, os, device_type, screen_width,
            JSONExtractString(properties, 'product') AS product, JSONExtractInt(properties, 'price') AS price,
            toString(timestamp) AS timestamp
       FROM tidemark.events
      WHERE project_id = '${pipeline.projectId}'
      ORDER BY event_id`,
  );
}

it('stores every event of accepted batches exactly once, with the fields the gateway derived', async () => {
  const first = Array.from({ length: 20 }, (_, i) => event(i, `visitor-${i % 4}`));
  const second = Array.from({ length: 5 }, (_, i) => event(100 + i, 'visitor-json'));

  // Browsers send text/plain (no preflight); server libraries send JSON. Both are the Segment batch shape.
  const plain = await post({ writeKey: pipeline.writeKey, sentAt, batch: first }, 'text/plain');
  expect(plain.status).toBe(200);
  expect(await plain.json()).toMatchObject({ accepted: 20, rejected: [] });
  const json = await post({ writeKey: pipeline.writeKey, sentAt, batch: second }, 'application/json');
  expect(json.status).toBe(200);

  const stored = await eventually(
    async () => {
      const found = await rows();
      return found.length >= 25 ? found : undefined;
    },
    { what: '25 rows in ClickHouse' },
  );

  expect(stored).toHaveLength(25);
  expect(new Set(stored.map((row) => row.event_id)).size).toBe(25);
  expect(stored.map((row) => row.event_id).sort()).toEqual(
    [...first, ...second].map((e) => e.messageId).sort(),
  );
  expect(stored.find((row) => row.event_id === uuidv7Like(3))).toEqual({
    event_id: uuidv7Like(3),
    project_id: pipeline.projectId,
    type: 'track',
    event: 'Product Added',
    anonymous_id: 'visitor-3',
    host: 'shop.example',
    path: '/products/p3',
    referrer_host: 'www.google.com',
    utm_source: 'newsletter',
    utm_medium: 'email',
    browser: 'Chrome',
    os: 'Mac OS',
    device_type: 'desktop',
    screen_width: 1440,
    product: 'p3',
    price: 3,
    timestamp: storedTimestamp,
  });

  // Nothing more arrives later: the sink committed what it inserted and inserted each message once.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  expect(await rows()).toHaveLength(25);
});

it('refuses an unknown write key with 401 and stores nothing of it', async () => {
  const response = await post(
    { writeKey: 'not-a-key', sentAt: new Date().toISOString(), batch: [event(500, 'intruder')] },
    'text/plain',
  );
  expect(response.status).toBe(401);
  const all = await pipeline.clickhouse.query<{ n: string }>(
    `SELECT count() AS n FROM tidemark.events WHERE anonymous_id = 'intruder'`,
  );
  expect(Number(all[0]?.n)).toBe(0);
});

it('keeps the valid events of a mixed batch and writes each refused one to the dead-letter topic', async () => {
  const good = [event(700, 'visitor-dlq'), event(701, 'visitor-dlq')];
  const noEvent = { type: 'track', messageId: 'dlq-missing-event', anonymousId: 'visitor-dlq' };
  const response = await post(
    { writeKey: pipeline.writeKey, sentAt, batch: [good[0], noEvent, 'a string', good[1]] },
    'text/plain',
  );
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({
    accepted: 2,
    rejected: [
      { index: 1, messageId: 'dlq-missing-event', reason: 'missing_event' },
      { index: 2, messageId: null, reason: 'not_an_object' },
    ],
  });

  // The dead letters are in Kafka before the answer: read them back from the topic's start.
  const letters = (
    await readTopic(inject('kafkaBrokers'), `${pipeline.topic}.dlq`, (read) => read.length >= 2)
  ).map((m) => ({ key: m.key, value: JSON.parse(m.value) as Record<string, unknown> }));
  expect(letters.sort((a, b) => Number(a.value.index) - Number(b.value.index))).toEqual([
    {
      key: `${pipeline.projectId}:dlq-missing-event`,
      value: {
        stage: 'gateway',
        reason: 'missing_event',
        projectId: pipeline.projectId,
        index: 1,
        messageId: 'dlq-missing-event',
        raw: JSON.stringify(noEvent),
        at: expect.any(String),
      },
    },
    {
      key: `${pipeline.projectId}:#2`,
      value: expect.objectContaining({
        reason: 'not_an_object',
        index: 2,
        messageId: null,
        raw: '"a string"',
      }),
    },
  ]);
  const stored = await eventually(
    async () => {
      const found = (await rows()).filter((r) => r.anonymous_id === 'visitor-dlq');
      return found.length >= 2 ? found : undefined;
    },
    { what: 'the two valid events stored' },
  );
  expect(stored.map((r) => r.event_id).sort()).toEqual([uuidv7Like(700), uuidv7Like(701)]);
});

it('is ready while Kafka answers, and counts what it did on /metrics', async () => {
  const ready = await fetch(`${pipeline.gatewayUrl}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: 'ready', mode: 'distributed' });
  const metrics = await (await fetch(`${pipeline.gatewayUrl}/metrics`)).text();
  expect(metrics).toMatch(/tidemark_gateway_events_accepted_total\{project="[^"]+"\} \d+/);
  expect(metrics).toMatch(/tidemark_gateway_produce_duration_seconds_bucket\{le="0.1"\} \d+/);
  expect(metrics).toContain('tidemark_gateway_process_resident_memory_bytes');
});
