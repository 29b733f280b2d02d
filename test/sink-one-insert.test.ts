import { randomUUID } from 'node:crypto';
import { loadSinkConfig, type Sink, startSink } from '@tidemark/sink';
import { type ClickHouse, eventsTable } from '@tidemark/store';
import { makeRow } from '@tidemark/store/fixture';
import { type TempChdb, tempChdb } from '@tidemark/store/tempChdb';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { committedTotal } from '../harness/offsets.js';

// ClickHouse's cost per INSERT barely depends on its rows at a flush's sizes, so the sink sends the rows of every
// partition in a flush as one INSERT (sink/src/consumer.ts, insertsOf), not one INSERT per partition. Real broker,
// real chDB; the ClickHouse client is the real one, watched on its way through to count the INSERTs.
const brokers = inject('kafkaBrokers');
const kafka = new Kafka({ clientId: 'tidemark-sink-one-insert', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const quiet = { info() {}, warn() {}, error() {} };
let chdb: TempChdb;
let clickhouse: ClickHouse;
let sink: Sink | undefined;

beforeAll(async () => {
  chdb = await tempChdb();
  ({ clickhouse } = chdb);
  await admin.connect();
});

afterAll(async () => {
  await sink?.stop();
  await admin.disconnect();
  await chdb.close();
});

it('inserts the rows of every partition in a flush as one INSERT, each row once', async () => {
  const id = randomUUID().slice(0, 8);
  const topic = `tidemark.one-insert.${id}`;
  const groupId = `group-${id}`;
  const partitions = 3;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  // Ten messages of five rows on each partition, in Kafka before the sink starts, so its first flush finds them
  // all buffered (the flush waits 1 s, far longer than reading 30 small messages takes).
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: 30 }, (_, m) => ({
      partition: m % partitions,
      key: `${id}:visitor-${m}`,
      value: Array.from(
        { length: 5 },
        () => `${JSON.stringify(makeRow({ project_id: id, anonymous_id: `visitor-${m}` }))}\n`,
      ).join(''),
    })),
  });
  await producer.disconnect();

  // Every INSERT into the events table, with the partitions its rows came from (their lineage).
  const inserts: number[][] = [];
  const watched: ClickHouse = {
    ...clickhouse,
    insertJsonEachRow(table, body, opts) {
      if (table === eventsTable)
        inserts.push(
          [...new Set([...body.matchAll(/"_partition":(\d+),/g)].map((m) => Number(m[1])))].sort(),
        );
      return clickhouse.insertJsonEachRow(table, body, opts);
    },
  };
  sink = await startSink(
    loadSinkConfig({
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      TIDEMARK_SINK_GROUP: groupId,
      TIDEMARK_SINK_MAX_WAIT_MS: '1000',
    }),
    { clickhouse: watched, log: quiet },
  );
  await eventually(async () => ((await committedTotal(admin, groupId, topic)) === 30 ? true : undefined), {
    what: 'all 30 messages committed',
  });

  // Without FINAL (copies would count) and with it (what the shipped queries see).
  const [stored] = await clickhouse.query<{ rows: string; ids: string; final: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids,
            (SELECT count() FROM ${eventsTable} FINAL WHERE project_id = {id:String}) AS final
     FROM ${eventsTable} WHERE project_id = {id:String}`,
    { id },
  );
  expect({ rows: Number(stored?.rows), ids: Number(stored?.ids), final: Number(stored?.final) }).toEqual({
    rows: 150,
    ids: 150,
    final: 150,
  });
  // One INSERT per flush, whatever number of partitions it took from; the first took from all three.
  expect(inserts.length).toBe(sink.status().flushes);
  expect(inserts[0]).toEqual([0, 1, 2]);
});
