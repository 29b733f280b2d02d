import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Gateway, loadConfig, startGateway } from '@tidemark/gateway';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, expect, it } from 'vitest';
import { kafkaClientEnv } from '../harness/kafkaClientEnv.js';
import { eventIdsOf, readTopic } from '../harness/offsets.js';
import { type KafkaBroker, startKafka } from '../scripts/kafka.mjs';

// The broker stopped under load, for real: a broker of this test's own (the shared one must keep running),
// stopped mid-run and started again on the same port and data directory. The gateway may only answer 200 or
// 503 with Retry-After meanwhile, and every event it acknowledged must be in Kafka afterwards, once.
let scratch: string | undefined;
let broker: KafkaBroker | undefined;
let gateway: Gateway | undefined;

afterAll(async () => {
  await gateway?.close().catch(() => {});
  await broker?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

type Outcome = { status: number; retryAfter: string | null; ids: string[]; at: number };

it('answers only 200 or 503 while the broker is down, and every acknowledged event is in Kafka once', async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tidemark-outage-'));
  const dataDir = join(scratch, 'kafka');
  broker = await startKafka({ port: 0, dataDir, log: () => {} });
  const brokers = broker.brokers;
  const port = Number(brokers[0]?.split(':')[1]);
  const topic = `tidemark.outage.${randomUUID().slice(0, 8)}`;
  gateway = await startGateway(
    loadConfig({
      TIDEMARK_MODE: 'distributed',
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      TIDEMARK_KAFKA_PARTITIONS: '3',
      TIDEMARK_WRITE_KEYS: 'outage-key:outage',
      TIDEMARK_PORT: '0',
      TIDEMARK_LOG_LEVEL: 'silent',
      ...kafkaClientEnv,
    }),
  );
  const url = `${gateway.url}/v1/batch`;

  // Four clients post 10-event batches back to back, each event with its own messageId, until told to stop.
  const outcomes: Outcome[] = [];
  let sending = true;
  let n = 0;
  const t0 = Date.now();
  const client = async () => {
    while (sending) {
      // UUIDs: the gateway keeps a UUID messageId as the row's event_id.
      const ids = Array.from({ length: 10 }, () => randomUUID());
      n += 1;
      const batch = ids.map((messageId) => ({
        type: 'track',
        event: 'Outage Probe',
        messageId,
        anonymousId: `v${n % 7}`,
      }));
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ writeKey: 'outage-key', batch }),
        // A hung request would be a failure of its own: the gateway must answer within its Kafka timeouts.
        signal: AbortSignal.timeout(20_000),
      });
      await response.arrayBuffer();
      outcomes.push({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        ids,
        at: Date.now() - t0,
      });
      if (response.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const clients = Array.from({ length: 4 }, client);
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  await wait(2_000);
  const stoppedAt = Date.now() - t0;
  await broker.stop();
  await wait(8_000);
  broker = await startKafka({ port, dataDir, log: () => {} });
  const restartedAt = Date.now() - t0;
  // Until the gateway has acknowledged a good number of batches again after the restart.
  const okAfter = () => outcomes.filter((o) => o.status === 200 && o.at > restartedAt).length;
  for (let waited = 0; okAfter() < 20 && waited < 60_000; waited += 250) await wait(250);
  sending = false;
  await Promise.all(clients);

  const byStatus: Record<string, Outcome[]> = {};
  for (const o of outcomes) byStatus[String(o.status)] = [...(byStatus[String(o.status)] ?? []), o];
  console.log(
    `outage (${kafkaClientEnv.TIDEMARK_KAFKA_CLIENT ?? 'kafkajs'}): broker down ${stoppedAt}–${restartedAt} ms; answers ${JSON.stringify(
      Object.fromEntries(Object.entries(byStatus).map(([s, list]) => [s, list.length])),
    )}; first 503 at ${byStatus['503']?.[0]?.at} ms, first 200 after restart at ${
      outcomes.find((o) => o.status === 200 && o.at > restartedAt)?.at
    } ms`,
  );
  expect(Object.keys(byStatus).sort()).toEqual(['200', '503']);
  expect(byStatus['503']?.every((o) => o.retryAfter === '5')).toBe(true);
  expect(byStatus['200']?.filter((o) => o.at < stoppedAt).length).toBeGreaterThan(0);
  expect(okAfter()).toBeGreaterThanOrEqual(20);

  // Read the whole topic back: every acknowledged messageId once (only unacknowledged ones may be missing).
  const acknowledged = new Set(byStatus['200']?.flatMap((o) => o.ids));
  const kafka = new Kafka({ clientId: 'tidemark-outage-reader', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((sum, p) => sum + Number(p.high), 0);
  const seen = new Map<string, number>();
  for (const id of eventIdsOf(await readTopic(brokers, topic, (read) => read.length >= total)))
    seen.set(id, (seen.get(id) ?? 0) + 1);

  const missing = [...acknowledged].filter((id) => !seen.has(id));
  const doubled = [...acknowledged].filter((id) => (seen.get(id) ?? 0) > 1);
  console.log(
    `outage: ${acknowledged.size} events acknowledged, ${seen.size} distinct in Kafka ` +
      `(${seen.size - acknowledged.size} of them from requests answered 503), ${total} messages`,
  );
  expect(missing).toEqual([]);
  expect(doubled).toEqual([]);
}, 180_000);
