import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSinkConfig, startSink } from '@tidemark/sink';
import { type ClickHouse, createClickHouse, migrate, StoreError } from '@tidemark/store';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { committedTotal } from '../harness/offsets.js';

// DESIGN §6.3 broken on purpose: ClickHouse fails, then loses the answer to an insert it performed. Offsets must
// not move before an insert returned, and the retried insert (same deduplication token) must store nothing twice.
const kafka = new Kafka({
  clientId: 'tidemark-sink-test',
  brokers: inject('kafkaBrokers'),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
const topic = `tidemark.sinktest.${randomUUID().slice(0, 8)}`;
const groupId = `sink-${randomUUID().slice(0, 8)}`;
let chdbPath: string;
let clickhouse: ClickHouse;

beforeAll(async () => {
  chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-chdb-'));
  clickhouse = createClickHouse({ chdbPath });
  await migrate(clickhouse);
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
});

afterAll(async () => {
  await admin.disconnect();
  await clickhouse.close();
  await rm(chdbPath, { recursive: true, force: true });
});

function row(n: number): string {
  return JSON.stringify({
    project_id: 'sink-test',
    event_id: randomUUID(),
    type: 'track',
    event: 'Button Clicked',
    timestamp: '2026-11-23 10:00:00.000',
    client_ts: '2026-11-23 10:00:00.000',
    sent_at: '2026-11-23 10:00:00.000',
    received_at: '2026-11-23 10:00:00.100',
    anonymous_id: `visitor-${n % 3}`,
    properties: JSON.stringify({ n }),
  });
}

const committed = () => committedTotal(admin, groupId, topic);

it('commits offsets only after an insert returned, and a retried insert stores each row once', async () => {
  const attempts: string[] = [];
  let releaseFailures: () => void = () => {};
  const failuresReleased = new Promise<void>((resolve) => {
    releaseFailures = resolve;
  });
  // The real chDB behind a connection that fails like a network does: first refused outright until the test
  // has looked at the offsets, then the insert happens but its answer is lost, then it works.
  const flaky: ClickHouse = {
    ...clickhouse,
    async insertJsonEachRow(table, body, opts) {
      // The ids the sink records after an insert (tidemark.event_ids) pass untouched.
      if (table !== 'tidemark.events') return clickhouse.insertJsonEachRow(table, body, opts);
      attempts.push(opts?.dedupToken ?? '(none)');
      if (attempts.length === 1) {
        await failuresReleased;
        throw new StoreError('insert_failed', 'connection reset (test)', { retriable: true });
      }
      if (attempts.length === 2) {
        await clickhouse.insertJsonEachRow(table, body, opts);
        throw new StoreError('insert_failed', 'response lost after insert (test)', { retriable: true });
      }
      await clickhouse.insertJsonEachRow(table, body, opts);
    },
  };

  const sink = await startSink(
    loadSinkConfig({
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_SINK_GROUP: groupId,
      TIDEMARK_SINK_MAX_WAIT_MS: '300',
    }),
    { clickhouse: flaky, log: { info() {}, warn() {}, error() {} } },
  );
  try {
    const producer = kafka.producer();
    await producer.connect();
    const values = Array.from({ length: 12 }, (_, n) => row(n));
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((value, n) => ({ key: `sink-test:visitor-${n % 3}`, value: `${value}\n` })),
    });
    await producer.disconnect();

    await eventually(async () => (attempts.length >= 1 ? true : undefined), {
      what: 'the first insert attempt',
    });
    expect(await committed()).toBe(0);
    releaseFailures();

    await eventually(async () => ((await committed()) === 12 ? true : undefined), {
      what: 'offsets committed',
    });
    // The first two attempts carried one batch under one token; the next try found its rows stored (by their
    // lineage) and sent none of them again, so whatever came later is another flush's.
    expect(attempts[1]).toBe(attempts[0]);
    // Without FINAL (copies would count) and with it (what the shipped queries see): both the events sent.
    const [stored] = await clickhouse.query<{ rows: string; distinct: string; final: string }>(
      `SELECT count() AS rows, uniqExact(event_id) AS distinct,
              (SELECT count() FROM tidemark.events FINAL WHERE project_id = 'sink-test') AS final
       FROM tidemark.events WHERE project_id = 'sink-test'`,
    );
    expect(Number(stored?.rows)).toBe(12);
    expect(Number(stored?.distinct)).toBe(12);
    expect(Number(stored?.final)).toBe(12);
  } finally {
    await sink.stop();
  }
});
