// The sink's insert rate against the engine's own: fills a Kafka topic with N events as the gateway writes them
// (JSONEachRow lines, one message per request and visitor), then in one process
//   1. inserts the same rows straight into chDB in sink-sized chunks (the ceiling), and
//   2. runs the sink (consumer group → batcher → INSERT → commit) over the topic until every row is stored,
// and prints both rates and their ratio.
//   npx tsx bench/sink.ts [events=200000] [partitions=6]
// Uses the broker in KAFKA_BROKERS, else starts one with scripts/kafka.mjs. TIDEMARK_SINK_MAX_ROWS /
// _MAX_BYTES / _MAX_WAIT_MS tune the sink as in production.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouse, type EventRow, loadSinkConfig, migrate, startSink } from '@tidemark/sink';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { startKafka } from '../scripts/kafka.mjs';
import { makeRow } from '../sink/src/row.fixture.js';

const [events = 200_000, partitions = 6] = process.argv.slice(2).map(Number);
const rowsPerMessage = 20;

const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-sink-'));
const external = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
const broker = external?.length ? undefined : await startKafka({ port: 0, dataDir: join(scratch, 'kafka') });
const brokers = external?.length ? external : (broker?.brokers ?? []);
const topic = `tidemark.bench.${randomUUID().slice(0, 8)}`;
const clickhouse = createClickHouse({ chdbPath: join(scratch, 'chdb') });

try {
  await migrate(clickhouse);
  const kafka = new Kafka({ clientId: 'tidemark-bench', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();

  // The rows, as messages: what the gateway would have produced for `events / rowsPerMessage` requests.
  const messages: { key: string; value: string }[] = [];
  for (let i = 0; i < events; i += rowsPerMessage) {
    const visitor = `visitor-${i % 5000}`;
    let value = '';
    for (let j = i; j < Math.min(events, i + rowsPerMessage); j++)
      value += `${JSON.stringify(row(j, visitor))}\n`;
    messages.push({ key: `bench:${visitor}`, value });
  }
  const bodyBytes = messages.reduce((sum, m) => sum + Buffer.byteLength(m.value), 0);

  const producer = kafka.producer();
  await producer.connect();
  const produceStarted = performance.now();
  // gzip, as the gateway produces by default; 100 messages a request stay under the broker's 1 MB limit.
  for (let i = 0; i < messages.length; i += 100) {
    await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: messages.slice(i, i + 100),
    });
  }
  await producer.disconnect();
  const produceSeconds = (performance.now() - produceStarted) / 1000;

  const config = loadSinkConfig({
    ...process.env,
    KAFKA_BROKERS: brokers.join(','),
    TIDEMARK_KAFKA_TOPIC: topic,
  });
  const { maxRows, maxBytes } = config.batch;

  // 1. The ceiling: the same rows, straight into the engine, in chunks as large as the sink's flushes.
  const rawStarted = performance.now();
  let chunk = '';
  let chunkRows = 0;
  for (const message of messages) {
    chunk += message.value;
    chunkRows += rowsPerMessage;
    if (chunkRows >= maxRows || chunk.length >= maxBytes) {
      await clickhouse.insertJsonEachRow('tidemark.events', chunk);
      chunk = '';
      chunkRows = 0;
    }
  }
  if (chunk) await clickhouse.insertJsonEachRow('tidemark.events', chunk);
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  await clickhouse.command('TRUNCATE TABLE tidemark.events');

  // 2. The sink, from the start of the topic until every row is stored and committed.
  const quiet = { info() {}, warn() {}, error: (msg: string, fields?: object) => console.error(msg, fields) };
  const sinkStarted = performance.now();
  const sink = await startSink(
    { ...config, kafka: { ...config.kafka, groupId: `bench-${topic}` } },
    {
      clickhouse,
      log: quiet,
    },
  );
  // The group join (a fresh broker's coordinator takes a few seconds to load) is not the sink's work: the rate
  // counts from the first row the sink buffered.
  let firstRowAt: number | undefined;
  for (;;) {
    const { insertedRows, bufferedRows } = sink.status();
    if (firstRowAt === undefined && insertedRows + bufferedRows > 0) firstRowAt = performance.now();
    if (insertedRows >= events) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const sinkSeconds = (performance.now() - (firstRowAt ?? sinkStarted)) / 1000;
  const joinSeconds = ((firstRowAt ?? sinkStarted) - sinkStarted) / 1000;
  const { flushes } = sink.status();
  await sink.stop();

  const [stored] = await clickhouse.query<{ rows: string; distinct: string }>(
    'SELECT count() AS rows, uniqExact(event_id) AS distinct FROM tidemark.events',
  );
  const rate = (seconds: number) => Math.round(events / seconds).toLocaleString('en-US');
  console.log(
    `${events.toLocaleString('en-US')} events, ${partitions} partitions, ${(bodyBytes / 1e6).toFixed(1)} MB of JSONEachRow; ` +
      `sink flush limits ${maxRows} rows / ${maxBytes} bytes / ${config.batch.maxWaitMs} ms\n` +
      `  produce to Kafka (acks=all, gzip): ${rate(produceSeconds)} events/s\n` +
      `  raw chDB insert (same chunks):     ${rate(rawSeconds)} rows/s  (${rawSeconds.toFixed(2)} s)\n` +
      `  sink, Kafka → chDB, committed:     ${rate(sinkSeconds)} rows/s  (${sinkSeconds.toFixed(2)} s, ${flushes} flushes; group join before it ${joinSeconds.toFixed(2)} s)\n` +
      `  ratio sink / raw:                  ${(rawSeconds / sinkSeconds).toFixed(2)}\n` +
      `  stored: ${stored?.rows} rows, ${stored?.distinct} distinct event_id`,
  );
  if (Number(stored?.rows) !== events || Number(stored?.distinct) !== events) process.exitCode = 1;
} finally {
  await clickhouse.close();
  await broker?.stop();
  await rm(scratch, { recursive: true, force: true });
}

/** A realistic row (the sink's test fixture), varied per event the way a shop's traffic varies. */
function row(n: number, visitor: string): EventRow {
  const ts = new Date(Date.UTC(2026, 10, 23, 10, 0, 0) + n).toISOString().replace('T', ' ').slice(0, 23);
  const page = n % 4 === 0;
  return makeRow({
    project_id: 'bench',
    type: page ? 'page' : 'track',
    event: page ? '$pageview' : 'Product Added',
    timestamp: ts,
    client_ts: ts,
    sent_at: ts,
    received_at: ts,
    anonymous_id: visitor,
    session_id: `session-${visitor}`,
    url: `https://shop.example/products/${n % 200}?utm_source=bench`,
    host: 'shop.example',
    query: 'utm_source=bench',
    utm_source: 'bench',
    path: `/products/${n % 200}`,
    properties: JSON.stringify({ product: `p${n % 200}`, price: n % 1000 }),
  });
}
