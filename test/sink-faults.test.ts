import { randomUUID } from 'node:crypto';
import {
  createKafkaConsumer,
  createKafkaDeadLetters,
  type DeadLetter,
  loadSinkConfig,
  type Sink,
  startSink,
} from '@tidemark/sink';
import { type ClickHouse, eventsTable, StoreError } from '@tidemark/store';
import { makeRow } from '@tidemark/store/fixture';
import { type TempChdb, tempChdb } from '@tidemark/store/tempChdb';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { committedTotal, readTopic } from '../harness/offsets.js';
import { auditVisitorNumbers, numberedOnce, type VisitorNumberAudit } from '../harness/visitorNumbers.js';

// The sink's faults made real (DESIGN §6.3): a row ClickHouse cannot take, a sink that inserted but never
// committed and then went away, and the events table gone for a while. Real broker, real chDB; the only
// stand-in is a commit that fails the way an unreachable group coordinator makes it fail.
const brokers = inject('kafkaBrokers');
const kafka = new Kafka({ clientId: 'tidemark-sink-faults', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
const quiet = { info() {}, warn() {}, error() {} };
let chdb: TempChdb;
let clickhouse: ClickHouse;
const running: Sink[] = [];

beforeAll(async () => {
  chdb = await tempChdb();
  ({ clickhouse } = chdb);
  await admin.connect();
});

afterAll(async () => {
  await Promise.allSettled(running.map((s) => s.stop()));
  await admin.disconnect();
  await chdb.close();
});

/** A topic and group of the case's own, and the sink settings for them. */
async function scenario(name: string, partitions = 2) {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const topic = `tidemark.faults.${id}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  const config = loadSinkConfig({
    KAFKA_BROKERS: brokers.join(','),
    TIDEMARK_KAFKA_TOPIC: topic,
    TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    TIDEMARK_SINK_GROUP: `group-${id}`,
    TIDEMARK_SINK_MAX_WAIT_MS: '200',
  });
  return { id, topic, config, project: id };
}

async function produce(
  topic: string,
  messages: { key: string; value: string; partition?: number }[],
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** `count` messages of `rowsEach` valid rows of `project`, keyed by visitor as the gateway keys them. */
function messagesOf(project: string, count: number, rowsEach: number) {
  return Array.from({ length: count }, (_, m) => {
    const visitor = `visitor-${m % 5}`;
    const rows = Array.from({ length: rowsEach }, () =>
      JSON.stringify(makeRow({ project_id: project, anonymous_id: visitor })),
    );
    return { key: `${project}:${visitor}`, value: `${rows.join('\n')}\n` };
  });
}

/**
 * Rows without FINAL (copies would count), distinct ids, rows under FINAL (what the shipped queries see), and the
 * visitor numbers' audit.
 */
async function counts(
  project: string,
): Promise<{ rows: number; distinct: number; final: number; numbering: VisitorNumberAudit }> {
  const [row] = await clickhouse.query<{ rows: string; distinct: string; final: string }>(
    `SELECT count() AS rows, uniqExact(event_id) AS distinct,
            (SELECT count() FROM tidemark.events FINAL WHERE project_id = {p:String}) AS final
     FROM tidemark.events WHERE project_id = {p:String}`,
    { p: project },
  );
  return {
    rows: Number(row?.rows),
    distinct: Number(row?.distinct),
    final: Number(row?.final),
    numbering: await auditVisitorNumbers(clickhouse, project),
  };
}

const committed = (groupId: string, topic: string) => committedTotal(admin, groupId, topic);

it('quarantines a row ClickHouse refuses, reports it to the dead-letter topic, and keeps its partition moving', async () => {
  const { topic, config, project } = await scenario('poison', 1);
  const good = (n: number) => JSON.stringify(makeRow({ project_id: project, anonymous_id: `v${n}` }));
  const poison = JSON.stringify({ ...makeRow({ project_id: project }), event_id: 'not-a-uuid' });
  await produce(topic, [
    { key: `${project}:a`, value: `${good(1)}\n${good(2)}\n` },
    { key: `${project}:b`, value: `${good(3)}\n${poison}\n${good(4)}\n` },
    { key: `${project}:c`, value: `${good(5)}\n` },
  ]);
  const deadLetters = createKafkaDeadLetters({
    brokers,
    clientId: 'tidemark-sink-faults',
    topic: config.kafka.dlqTopic,
  });
  const sink = await startSink(config, { clickhouse, deadLetters, log: quiet });
  running.push(sink);

  await eventually(async () => ((await committed(config.kafka.groupId, topic)) === 3 ? true : undefined), {
    what: 'all three messages committed',
  });
  expect(await counts(project)).toEqual({ rows: 5, distinct: 5, final: 5, numbering: numberedOnce });
  const parked = await clickhouse.query<{
    topic: string;
    _partition: number;
    _offset: string;
    error: string;
  }>(
    'SELECT topic, _partition, toString(_offset) AS _offset, error FROM tidemark.events_quarantine WHERE topic = {t:String}',
    { t: topic },
  );
  expect(parked).toEqual([{ topic, _partition: 0, _offset: '1', error: expect.stringMatching(/UUID/i) }]);

  // The dead-letter record: the raw row as the gateway produced it, the reason and the stage.
  const letters: DeadLetter[] = (
    await readTopic(brokers, config.kafka.dlqTopic, (read) => read.length > 0)
  ).map((m) => JSON.parse(m.value));
  expect(letters).toEqual([
    expect.objectContaining({
      stage: 'sink',
      reason: 'clickhouse_rejected',
      topic,
      partition: 0,
      offset: '1',
      raw: poison,
      error: expect.stringMatching(/UUID/i),
    }),
  ]);

  // The partition is not stuck behind it.
  await produce(topic, [{ key: `${project}:d`, value: `${good(6)}\n` }]);
  await eventually(async () => ((await counts(project)).rows === 6 ? true : undefined), {
    what: 'a later message stored',
  });
  await sink.stop();
  expect(sink.status()).toMatchObject({ insertedRows: 6, quarantinedRows: 1 });
});

it('does not insert twice what a sink stored but never committed before it went away', async () => {
  const { topic, config, project } = await scenario('takeover');
  await produce(topic, messagesOf(project, 40, 5));

  // Sink A announces its flush and inserts everything, but the commit after the insert never lands (the
  // coordinator became unreachable), then A goes away.
  const failingCommits = createKafkaConsumer({ ...config.kafka, log: quiet });
  let commitAttempts = 0;
  const a = await startSink(config, {
    clickhouse,
    log: quiet,
    consumer: {
      ...failingCommits,
      async commit(offsets) {
        if (offsets.some((o) => o.metadata)) return failingCommits.commit(offsets);
        commitAttempts += 1;
        throw new Error('The group coordinator is not available (test)');
      },
    },
  });
  running.push(a);
  await eventually(async () => ((await counts(project)).rows === 200 ? true : undefined), {
    what: 'sink A to insert every row',
  });
  await a.stop();
  expect(commitAttempts).toBeGreaterThan(0);
  expect(await committed(config.kafka.groupId, topic)).toBe(0);

  // Sink B joins the group, reads from the committed offsets (the start) and finds A's announcements there:
  // it rebuilds A's inserts, same rows, same tokens, and ClickHouse keeps the copies A stored.
  const b = await startSink(config, { clickhouse, log: quiet });
  running.push(b);
  await eventually(async () => ((await committed(config.kafka.groupId, topic)) === 40 ? true : undefined), {
    what: 'sink B to commit every message',
  });
  expect(b.status()).toMatchObject({ replayedRows: 200 });
  expect(await counts(project)).toEqual({ rows: 200, distinct: 200, final: 200, numbering: numberedOnce });

  // New messages after the takeover are inserted as usual.
  await produce(topic, messagesOf(project, 4, 5));
  await eventually(async () => ((await counts(project)).rows === 220 ? true : undefined), {
    what: 'new rows after the takeover',
  });
  await b.stop();
  expect(await counts(project)).toEqual({ rows: 220, distinct: 220, final: 220, numbering: numberedOnce });
});

it('stores an announced flush whose token ClickHouse kept without its rows (killed between its log and its part)', async () => {
  const { topic, config, project } = await scenario('orphan-token', 1);
  await produce(topic, messagesOf(project, 10, 5));

  // Sink A announces its flush and dies inside the INSERT, at the worst moment: ClickHouse (a non-replicated
  // MergeTree) has appended the token to its deduplication log but not yet renamed the new part into place,
  // so after the restart the token is known and the rows are not. Reproduced for real by holding chDB's
  // rename with strace and sending SIGKILL; here a row of another project takes the token instead.
  const tokens: string[] = [];
  const ghost = `${JSON.stringify(makeRow({ project_id: `${project}-ghost` }))}\n`;
  const dying: ClickHouse = {
    ...clickhouse,
    async insertJsonEachRow(table, body, opts) {
      if (table !== eventsTable || !opts?.dedupToken) return clickhouse.insertJsonEachRow(table, body, opts);
      tokens.push(opts.dedupToken);
      await clickhouse.insertJsonEachRow(table, ghost, opts);
      throw new StoreError('insert_failed', 'killed inside the insert (test)', { retriable: true });
    },
  };
  const a = await startSink(config, { clickhouse: dying, log: quiet });
  running.push(a);
  await eventually(async () => (tokens.length > 0 ? true : undefined), {
    what: 'sink A to start its insert',
  });
  await a.stop();
  expect(await committed(config.kafka.groupId, topic)).toBe(0);
  expect(await counts(project)).toEqual({ rows: 0, distinct: 0, final: 0, numbering: numberedOnce });

  // Sink B replays the announced range under the same token; ClickHouse drops that INSERT as a duplicate and
  // says it succeeded. B must see that the rows are not there before it commits past them.
  const b = await startSink(config, { clickhouse, log: quiet });
  running.push(b);
  await eventually(async () => ((await committed(config.kafka.groupId, topic)) === 10 ? true : undefined), {
    what: 'sink B to commit every message',
  });
  expect(await counts(project)).toEqual({ rows: 50, distinct: 50, final: 50, numbering: numberedOnce });
  await b.stop();
});

it('stores once what a sink was still inserting when the group gave its partitions to another sink', async () => {
  const { topic, config, project } = await scenario('late-insert', 2);
  // 20 messages of 5 rows in each partition.
  await produce(
    topic,
    messagesOf(project, 40, 5).map((m, i) => ({ ...m, partition: i % 2 })),
  );

  // Sink A cuts a partition at 10 messages (50 rows); whoever reads it next, left to itself, would take all 20
  // at once. A's first insert hangs (a slow ClickHouse) until released, by when the group has rebalanced.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held: string[] = [];
  const slow: ClickHouse = {
    ...clickhouse,
    async insertJsonEachRow(table, body, opts) {
      // Only the events: the visitor numbers it writes first go through, as a slow events insert lets them.
      if (table !== 'tidemark.events') return clickhouse.insertJsonEachRow(table, body, opts);
      held.push(opts?.dedupToken ?? '');
      await gate;
      return clickhouse.insertJsonEachRow(table, body, opts);
    },
  };
  const a = await startSink(
    { ...config, batch: { ...config.batch, maxRows: 50 } },
    { clickhouse: slow, log: quiet },
  );
  running.push(a);
  await eventually(async () => (held.length > 0 ? true : undefined), { what: 'sink A to start an insert' });
  // The first 10 messages of whichever partition kafkajs handed over first.
  expect(held).toEqual([expect.stringMatching(new RegExp(`^${topic.replaceAll('.', '\\.')}:[01]:0-9$`))]);

  // Sink B joins: the group rebalances while A's insert is under way (kafkajs is not blocked by it). Whoever
  // gets that partition finds A's announcement beside its committed offset and rebuilds that range first.
  const b = await startSink(config, { clickhouse, log: quiet });
  running.push(b);
  await eventually(async () => (b.status().flushes > 0 ? true : undefined), { what: 'sink B to flush' });

  // A's insert lands now, possibly after the new owner stored the same range: one token, one copy.
  release();
  await eventually(async () => ((await committed(config.kafka.groupId, topic)) === 40 ? true : undefined), {
    what: 'every message committed',
  });
  await Promise.all([a.stop(), b.stop()]);
  expect(a.status().replayedRows + b.status().replayedRows).toBeGreaterThanOrEqual(50);
  expect(await counts(project)).toEqual({ rows: 200, distinct: 200, final: 200, numbering: numberedOnce });
});

it('commits nothing while the events table is detached, and stores everything once when it is back', async () => {
  const { topic, config, project } = await scenario('detached');
  const sink = await startSink(config, { clickhouse, log: quiet });
  running.push(sink);
  await produce(topic, messagesOf(project, 6, 5));
  await eventually(async () => ((await committed(config.kafka.groupId, topic)) === 6 ? true : undefined), {
    what: 'the first messages committed',
  });

  await clickhouse.command('DETACH TABLE tidemark.events');
  let reattached = false;
  try {
    await produce(topic, messagesOf(project, 10, 5));
    await eventually(async () => (sink.status().lastError ? true : undefined), {
      what: 'an insert to fail',
    });
    // Failing for a while: several retries, nothing committed past what is stored.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await committed(config.kafka.groupId, topic)).toBe(6);
    expect(sink.status().lastError).toMatch(/events/);
    await clickhouse.command('ATTACH TABLE tidemark.events');
    reattached = true;
  } finally {
    if (!reattached) await clickhouse.command('ATTACH TABLE tidemark.events');
  }

  await eventually(async () => ((await committed(config.kafka.groupId, topic)) === 16 ? true : undefined), {
    what: 'every message committed after the repair',
    timeoutMs: 60_000,
  });
  expect(await counts(project)).toEqual({ rows: 80, distinct: 80, final: 80, numbering: numberedOnce });
  expect(sink.status().lastError).toBeUndefined();
  await sink.stop();
});
