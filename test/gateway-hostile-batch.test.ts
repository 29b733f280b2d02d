import { randomUUID } from 'node:crypto';
import { type Gateway, loadConfig, startGateway } from '@tidemark/gateway';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { kafkaClientEnv } from '../harness/kafkaClientEnv.js';

// A hostile batch against a gateway producing to the real broker: a body within the size limit whose `batch`
// holds a huge number of items, none of them usable. It must be answered at once, write no dead letter, and
// leave another client's valid request as fast as it is alone.
let gateway: Gateway;
let dlqTopic: string;
const writeKey = 'hostile-batch-key';
const brokers = inject('kafkaBrokers');

beforeAll(async () => {
  const topic = `tidemark.hostile-batch.${randomUUID().slice(0, 8)}`;
  dlqTopic = `${topic}.dlq`;
  gateway = await startGateway(
    loadConfig({
      TIDEMARK_MODE: 'distributed',
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: dlqTopic,
      TIDEMARK_KAFKA_PARTITIONS: '3',
      TIDEMARK_WRITE_KEYS: `${writeKey}:hostile`,
      TIDEMARK_PORT: '0',
      TIDEMARK_LOG_LEVEL: 'silent',
      ...kafkaClientEnv,
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
});

async function post(body: string): Promise<{ status: number; code: unknown; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${gateway.url}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body,
  });
  const answer = (await response.json()) as { code?: unknown };
  return { status: response.status, code: answer.code, ms: performance.now() - started };
}

const valid = () =>
  JSON.stringify({
    writeKey,
    batch: [{ type: 'track', event: 'Clicked', anonymousId: 'a1', messageId: randomUUID() }],
  });
const hostile = (item: string, count: number) =>
  `{"writeKey":"${writeKey}","batch":[${Array.from({ length: count }, () => item).join(',')}]}`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Messages on the topic, summed over partitions. */
async function messagesOn(topic: string): Promise<number> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

it('answers hostile batches at once, writes no dead letter for them, and does not delay a concurrent valid request', async () => {
  for (let i = 0; i < 5; i += 1) expect((await post(valid())).status).toBe(200);
  const alone: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const answer = await post(valid());
    expect(answer.status).toBe(200);
    alone.push(answer.ms);
  }

  const cases = [
    // Over the cap on events per batch (2 000 by default), within the 500 KB body limit.
    { name: '100 000 numbers', body: hostile('1', 100_000), status: 413, code: 'too_many_events' },
    { name: '100 000 empty objects', body: hostile('{}', 100_000), status: 413, code: 'too_many_events' },
    // At the cap: every item is looked at, and each is invalid.
    { name: '2 000 numbers', body: hostile('1', 2_000), status: 400, code: 'no_valid_events' },
    { name: '2 000 empty objects', body: hostile('{}', 2_000), status: 400, code: 'no_valid_events' },
  ];
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 10);
  const seen: Record<string, { hostile: number[]; valid: number[] }> = {};
  try {
    for (const { name, body, status, code } of cases) {
      expect(Buffer.byteLength(body), name).toBeLessThan(500 * 1024);
      const times = { hostile: [] as number[], valid: [] as number[] };
      seen[name] = times;
      for (let round = 0; round < 5; round += 1) {
        const refused = post(body);
        const accepted = post(valid());
        const [h, v] = await Promise.all([refused, accepted]);
        expect({ status: h.status, code: h.code }, name).toEqual({ status, code });
        expect(v.status, name).toBe(200);
        times.hostile.push(h.ms);
        times.valid.push(v.ms);
      }
    }
  } finally {
    clearInterval(sampler);
  }
  const report = JSON.stringify({ alone, seen });
  for (const [name, times] of Object.entries(seen)) {
    expect(median(times.hostile), `${name}: ${report}`).toBeLessThan(500);
    expect(median(times.valid) - median(alone), `${name}: ${report}`).toBeLessThan(100);
  }
  // Well under the 200 MB the whole gateway process may use; the unfixed gateway grew by hundreds of MB here.
  expect(rssPeak - rssBefore).toBeLessThan(100 * 1024 * 1024);
  expect(await messagesOn(dlqTopic)).toBe(0);
});
