import { randomUUID } from 'node:crypto';
import { loadSinkConfig, type Sink, startSink } from '@tidemark/sink';
import { type ClickHouse, eventsTable } from '@tidemark/store';
import { type TempChdb, tempChdb } from '@tidemark/store/tempChdb';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { commitAsMember, committedTotal, gatewayMessages, produceAsGateway } from '../harness/offsets.js';

// A sink that finds an announced range at its committed offset rebuilds it (DESIGN §6.3); the messages behind the
// range often arrive in the same fetch. Until the range's rows are stored, the group's committed offset must keep
// naming it: whoever reads the partition after a kill or a rebalance at that moment starts from there, and a
// range passed over by the commit is never read again. Kafka keeps the last of two offsets committed for one
// partition in one request. Real broker, real chDB; the ClickHouse client is the real one, watched on its way
// through to read the group's offsets at the moment the range's rows are sent.
const brokers = inject('kafkaBrokers');
const kafka = new Kafka({
  clientId: 'tidemark-sink-replay-announcement',
  brokers,
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
/** The sink's log lines, recorded. */
const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
const record = (msg: string, fields?: Record<string, unknown>) => {
  logged.push({ msg, fields });
};
const log = { info: record, warn: record, error: record };
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

it('keeps a replayed range announced until its rows are stored, though the messages behind it came in the same fetch', async () => {
  const id = randomUUID().slice(0, 8);
  const project = `replay-${id}`;
  const topic = `tidemark.replay-announcement.${id}`;
  const groupId = `group-${id}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  // 40 messages of 5 rows, in Kafka before the sink starts: its first fetch reads the announced range (0–19)
  // and the 20 messages behind it.
  const producer = kafka.producer();
  await producer.connect();
  await produceAsGateway(producer, topic, gatewayMessages(project, 0, 200, 5));
  await producer.disconnect();
  // What a sink killed inside its insert of 0–19 leaves: the range announced at its first offset.
  await commitAsMember(kafka, topic, groupId, '0', JSON.stringify({ v: 1, first: '0', last: '19' }));

  // The group's committed offset and metadata, read each time rows of the announced range go to ClickHouse.
  const whileSent: { offset: string; metadata: string | null }[] = [];
  const watched: ClickHouse = {
    ...clickhouse,
    async insertJsonEachRow(table, body, opts) {
      if (table === eventsTable && /"_offset":(1?\d),/.test(body)) {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const p0 = offsets?.partitions.find((p) => p.partition === 0);
        whileSent.push({ offset: p0?.offset ?? 'none', metadata: p0?.metadata ?? null });
      }
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
    { clickhouse: watched, log },
  );
  await eventually(async () => ((await committedTotal(admin, groupId, topic)) === 40 ? true : undefined), {
    what: 'all 40 messages committed',
  });
  await sink.stop();
  sink = undefined;

  // A kill at that moment leaves the next owner this position: it must still name the range, at its first offset.
  expect(whileSent.length, 'no insert carried the announced range').toBeGreaterThan(0);
  for (const seen of whileSent) {
    expect(
      seen.offset,
      `committed while the announced range 0-19 was inserted: ${JSON.stringify(seen)}`,
    ).toBe('0');
    expect(JSON.parse(seen.metadata ?? 'null')).toMatchObject({ first: '0', last: '19' });
  }
  // The replay says what it made of the range: nothing stored before, so every row sent.
  expect(logged.filter((l) => l.msg === 'announced flush replayed').map((l) => l.fields)).toEqual([
    expect.objectContaining({
      partition: 0,
      first: '0',
      last: '19',
      rows: 100,
      known: 0,
      repeated: 0,
      storedByLineage: 0,
      parked: 0,
      erased: 0,
      sent: 100,
      reinserted: 0,
    }),
  ]);
  const [stored] = await clickhouse.query<{ rows: string; ids: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${eventsTable} WHERE project_id = {project:String}`,
    { project },
  );
  expect({ rows: Number(stored?.rows), ids: Number(stored?.ids) }).toEqual({ rows: 200, ids: 200 });
});
