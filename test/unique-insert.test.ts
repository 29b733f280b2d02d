import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSinkConfig, startSink } from '@tidemark/sink';
import { type ClickHouse, createClickHouse, createWriter, type EventRow, migrate } from '@tidemark/store';
import { makeRow, toJsonEachRow } from '@tidemark/store/fixture';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { committedTotal } from '../harness/offsets.js';

// DESIGN §6: a row whose event_id is stored already, or earlier in the same flush, is never inserted again, so a
// plain count() (no FINAL) counts events. A third of a fixture's events is sent twice, through the embedded
// writer and through the sink; one resend's corrected timestamp moved to the next UTC day, and a second sink
// group reads the whole topic again, as a sink does that replays what it already stored.
const kafka = new Kafka({
  clientId: 'tidemark-unique',
  brokers: inject('kafkaBrokers'),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
const quiet = { info() {}, warn() {}, error() {} };
let chdbPath: string;
let clickhouse: ClickHouse;

beforeAll(async () => {
  chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-unique-'));
  clickhouse = createClickHouse({ chdbPath });
  await migrate(clickhouse);
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
  await clickhouse.close();
  await rm(chdbPath, { recursive: true, force: true });
});

/** 30 events of 3 visitors, late on a UTC day; half page views. */
function fixture(project: string): EventRow[] {
  return Array.from({ length: 30 }, (_, n) =>
    makeRow({
      project_id: project,
      anonymous_id: `v${n % 3}`,
      type: n % 2 === 0 ? 'page' : 'track',
      event: n % 2 === 0 ? '$pageview' : 'Clicked',
      timestamp: `2026-03-01 23:59:${String(n + 10).padStart(2, '0')}.000`,
    }),
  );
}

/**
 * Every third event again, as a client resends it: later `sent_at` and `received_at`; the first resend's
 * skew correction moved its timestamp past midnight, into another UTC day (and another day of the sort key).
 */
function resends(rows: EventRow[]): EventRow[] {
  return rows
    .filter((_, n) => n % 3 === 0)
    .map((r, i) => ({
      ...r,
      sent_at: '2026-03-02 00:05:00.000',
      received_at: '2026-03-02 00:05:00.200',
      ...(i === 0 ? { timestamp: '2026-03-02 00:00:01.000' } : {}),
    }));
}

/** Rows without FINAL, distinct ids, rows under FINAL, page views in the hourly rollup. */
async function counts(project: string) {
  const [row] = await clickhouse.query<Record<string, string>>(
    `SELECT count() AS rows, uniqExact(event_id) AS distinct,
            (SELECT count() FROM tidemark.events FINAL WHERE project_id = {p:String}) AS final,
            (SELECT sum(views) FROM tidemark.pageviews_hourly WHERE project_id = {p:String}) AS views
     FROM tidemark.events WHERE project_id = {p:String}`,
    { p: project },
  );
  return {
    rows: Number(row?.rows),
    distinct: Number(row?.distinct),
    final: Number(row?.final),
    views: Number(row?.views),
  };
}

it('stores each event once through the embedded writer, whatever it is sent again', async () => {
  const project = `unique-writer-${randomUUID().slice(0, 8)}`;
  const rows = fixture(project);
  const writer = createWriter({ clickhouse });
  // The first request carries one event twice; the others resend a third of the events, one a day later.
  await writer.write(toJsonEachRow([...rows.slice(0, 20), rows[4] as EventRow]));
  await writer.write(toJsonEachRow(rows.slice(20)));
  await writer.write(toJsonEachRow(resends(rows)));
  await writer.write(toJsonEachRow(resends(rows)));
  expect(await counts(project)).toEqual({ rows: 30, distinct: 30, final: 30, views: 15 });
});

it('stores each event once through the sink: resends, a resend on another UTC day, and a group reading it all again', async () => {
  const project = `unique-sink-${randomUUID().slice(0, 8)}`;
  const topic = `tidemark.unique.${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const rows = fixture(project);
  const producer = kafka.producer();
  await producer.connect();
  // As the gateway produces them: one message per request and visitor, keyed by visitor.
  const send = (list: EventRow[]) =>
    producer.send({
      topic,
      acks: -1,
      messages: list.map((r) => ({ key: `${project}:${r.anonymous_id}`, value: toJsonEachRow([r]) })),
    });
  const config = (groupId: string) =>
    loadSinkConfig({
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_SINK_GROUP: groupId,
      TIDEMARK_SINK_MAX_WAIT_MS: '200',
    });
  try {
    await send(rows);
    const first = `unique-${randomUUID().slice(0, 8)}`;
    const sink = await startSink(config(first), { clickhouse, log: quiet });
    try {
      await eventually(async () => ((await committedTotal(admin, first, topic)) === 30 ? true : undefined), {
        what: 'the fixture committed',
      });
      // Resent after they were stored, then once more in one batch with a copy inside it.
      await send(resends(rows));
      await send([...resends(rows), rows[0] as EventRow]);
      await eventually(async () => ((await committedTotal(admin, first, topic)) === 51 ? true : undefined), {
        what: 'the resends committed',
      });
      expect(sink.status()).toMatchObject({ duplicateRows: 21 });
    } finally {
      await sink.stop();
    }
    expect(await counts(project)).toEqual({ rows: 30, distinct: 30, final: 30, views: 15 });

    // A group without offsets reads every message again, in flushes of other ranges and other tokens: only the
    // stored ids keep the rows out.
    const again = `unique-again-${randomUUID().slice(0, 8)}`;
    const replay = await startSink(config(again), { clickhouse, log: quiet });
    try {
      await eventually(async () => ((await committedTotal(admin, again, topic)) === 51 ? true : undefined), {
        what: 'the second group committed',
      });
      expect(replay.status()).toMatchObject({ duplicateRows: 51 });
    } finally {
      await replay.stop();
    }
    expect(await counts(project)).toEqual({ rows: 30, distinct: 30, final: 30, views: 15 });
  } finally {
    await producer.disconnect();
  }
}, 120_000);

it('stores a copy in the flush after its first once when that flush was looked up while the first inserted, and commits both', async () => {
  const project = `unique-ahead-${randomUUID().slice(0, 8)}`;
  const topic = `tidemark.unique.${randomUUID().slice(0, 8)}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const rows = fixture(project).slice(0, 10);
  const producer = kafka.producer();
  await producer.connect();
  const send = (...messages: { partition: number; rows: EventRow[] }[]) =>
    producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ partition: m.partition, value: toJsonEachRow(m.rows) })),
    });

  // The first flush's insert waits until the second flush's ids were looked up: the lookup cannot find the
  // copy's id in tidemark.event_ids then, as the first flush records it only after its insert.
  let lookups = 0;
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let inserts = 0;
  const watched: ClickHouse = {
    ...clickhouse,
    async query(sql, params) {
      if (sql.includes('tidemark.event_ids')) lookups += 1;
      return clickhouse.query(sql, params);
    },
    async insertJsonEachRow(table, body, opts) {
      if (table === 'tidemark.events') {
        inserts += 1;
        if (inserts === 1) await held;
      }
      return clickhouse.insertJsonEachRow(table, body, opts);
    },
  };
  const groupId = `unique-ahead-${randomUUID().slice(0, 8)}`;
  const sink = await startSink(
    loadSinkConfig({
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_SINK_GROUP: groupId,
      // Each message fills a flush, so the second is taken while the first one's insert is held.
      TIDEMARK_SINK_MAX_ROWS: '5',
    }),
    { clickhouse: watched, log: quiet },
  );
  try {
    // The first flush covers both partitions, the second only partition 0: the first one's commit is left to
    // the second's announcement, which must commit partition 1 as well.
    await send({ partition: 0, rows: rows.slice(0, 3) }, { partition: 1, rows: rows.slice(3, 5) });
    await eventually(async () => (inserts === 1 ? true : undefined), { what: 'the first insert to start' });
    await send({ partition: 0, rows: [rows[0] as EventRow, ...rows.slice(5, 9)] });
    await eventually(async () => (lookups === 2 ? true : undefined), { what: "the second flush's lookup" });
    release();
    await eventually(async () => ((await committedTotal(admin, groupId, topic)) === 3 ? true : undefined), {
      what: 'both flushes committed',
    });
    expect(sink.status()).toMatchObject({ duplicateRows: 1, flushes: 2 });
  } finally {
    release();
    await sink.stop();
    await producer.disconnect();
  }
  expect(await counts(project)).toEqual({ rows: 9, distinct: 9, final: 9, views: 5 });
});
