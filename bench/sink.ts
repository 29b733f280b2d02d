// The sink's insert rate against the engine's own: fills a Kafka topic with N events as the gateway writes them
// (JSONEachRow lines, one message per request and visitor), then in one process
//   1. inserts the same rows straight into chDB in sink-sized chunks (the ceiling), and
//   2. runs the sink (consumer group → batcher → announce → INSERT per partition → commit) over the topic until
//      every row is stored and committed,
// and prints both rates and their ratio. Several rounds, each on a fresh topic, alternate the two so that the
// shared machine's noise hits both alike; the median ratio is the figure to quote.
//   npx tsx bench/sink.ts [events=200000] [partitions=6] [rounds=3]
// Uses the broker in KAFKA_BROKERS, else starts one with scripts/kafka.mjs. TIDEMARK_SINK_MAX_ROWS /
// _MAX_BYTES / _MAX_WAIT_MS tune the sink as in production.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSinkMetrics, loadSinkConfig, type SinkConfig, startSink } from '@tidemark/sink';
import { createClickHouse, type EventRow, migrate } from '@tidemark/store';
import { makeRow } from '@tidemark/store/fixture';
import { Kafka, logLevel } from 'kafkajs';
import { produceAsGateway } from '../harness/offsets.js';
import { startKafka } from '../scripts/kafka.mjs';
import { report } from './report.js';

const [events = 200_000, partitions = 6, rounds = 3] = process.argv.slice(2).map(Number);
const rowsPerMessage = 20;

const scratch = await mkdtemp(join(tmpdir(), 'tidemark-bench-sink-'));
const external = process.env.KAFKA_BROKERS?.split(',').filter(Boolean);
const broker = external?.length ? undefined : await startKafka({ port: 0, dataDir: join(scratch, 'kafka') });
const brokers = external?.length ? external : (broker?.brokers ?? []);
const clickhouse = createClickHouse({ chdbPath: join(scratch, 'chdb') });
const kafka = new Kafka({ clientId: 'tidemark-bench', brokers, logLevel: logLevel.NOTHING });
const quiet = { info() {}, warn() {}, error: (msg: string, fields?: object) => console.error(msg, fields) };
const rate = (seconds: number) => Math.round(events / seconds).toLocaleString('en-US');

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

/** A fresh topic holding every message; returns it and the produce time. */
async function fill(): Promise<{ topic: string; seconds: number }> {
  const topic = `tidemark.bench.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const started = performance.now();
  await produceAsGateway(producer, topic, messages);
  await producer.disconnect();
  return { topic, seconds: (performance.now() - started) / 1000 };
}

/** The ceiling: the same rows, straight into the engine, in chunks as large as the sink's flushes. */
async function raw(maxRows: number, maxBytes: number): Promise<{ seconds: number; cpuSeconds: number }> {
  await clickhouse.command('TRUNCATE TABLE tidemark.events');
  // Every round sends the same events: ids left from the round before would make them copies.
  await clickhouse.command('TRUNCATE TABLE tidemark.event_ids');
  const cpu = process.cpuUsage();
  const started = performance.now();
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
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSince(cpu);
  await expectStored('raw insert');
  return { seconds, cpuSeconds };
}

/** The sink, from the start of the topic until every row is stored and committed. */
async function sink(config: SinkConfig) {
  await clickhouse.command('TRUNCATE TABLE tidemark.events');
  // Every round sends the same events: ids left from the round before would make them copies.
  await clickhouse.command('TRUNCATE TABLE tidemark.event_ids');
  const metrics = createSinkMetrics();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const running = await startSink(
    { ...config, kafka: { ...config.kafka, groupId: `bench-${config.kafka.topic}` } },
    { clickhouse, log: quiet, metrics },
  );
  // The group join (a fresh broker's coordinator takes a few seconds to load) is not the sink's work: the rate
  // counts from the first row the sink buffered.
  let firstRowAt: number | undefined;
  for (;;) {
    const { insertedRows, bufferedRows } = running.status();
    if (firstRowAt === undefined && insertedRows + bufferedRows > 0) firstRowAt = performance.now();
    if (insertedRows >= events) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const seconds = (performance.now() - (firstRowAt ?? started)) / 1000;
  const join = ((firstRowAt ?? started) - started) / 1000;
  // The CPU of the whole process (chDB's threads, the consumer's fetching and decompression), group join included:
  // what the machine's other tenants cannot distort the way they distort wall time.
  const cpuSeconds = cpuSince(cpu);
  const { flushes } = running.status();
  // Time spent inside INSERTs, summed: what exceeds the raw time is the engine slowed by the sink's own work
  // (fetching, decompressing, framing) on the same cores; what the wall time exceeds it by did not overlap.
  const inserts =
    (await metrics.insertSeconds.get()).values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  await running.stop();
  await expectStored('sink');
  return { seconds, join, flushes, inserts, cpuSeconds };
}

/** CPU seconds of this process (every thread) since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

async function expectStored(what: string): Promise<void> {
  const [stored] = await clickhouse.query<{ rows: string; distinct: string }>(
    'SELECT count() AS rows, uniqExact(event_id) AS distinct FROM tidemark.events',
  );
  if (Number(stored?.rows) !== events || Number(stored?.distinct) !== events)
    throw new Error(
      `${what}: stored ${stored?.rows} rows, ${stored?.distinct} distinct event_id of ${events}`,
    );
}

try {
  await migrate(clickhouse);
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const rawRates: number[] = [];
  const sinkRates: number[] = [];
  let flushLimits = '';
  for (let round = 1; round <= rounds; round++) {
    const { topic, seconds: produced } = await fill();
    const config = loadSinkConfig({
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
    });
    const { maxRows, maxBytes, maxWaitMs } = config.batch;
    flushLimits = `${maxRows} rows / ${maxBytes} bytes / ${maxWaitMs} ms`;
    if (round === 1)
      console.log(
        `${events.toLocaleString('en-US')} events, ${partitions} partitions, ${(bodyBytes / 1e6).toFixed(1)} MB of ` +
          `JSONEachRow; sink flush limits ${maxRows} rows / ${maxBytes} bytes / ${maxWaitMs} ms`,
      );
    const { seconds: rawSeconds, cpuSeconds: rawCpu } = await raw(maxRows, maxBytes);
    const s = await sink(config);
    ratios.push(rawSeconds / s.seconds);
    cpuRatios.push(rawCpu / s.cpuSeconds);
    rawRates.push(events / rawSeconds);
    sinkRates.push(events / s.seconds);
    console.log(
      `round ${round}: produce (acks=all, gzip) ${rate(produced)} events/s\n` +
        `  raw chDB insert (same chunks):  ${rate(rawSeconds)} rows/s  (${rawSeconds.toFixed(2)} s)\n` +
        `  sink, Kafka → chDB, committed:  ${rate(s.seconds)} rows/s  (${s.seconds.toFixed(2)} s, ${s.flushes} flushes, ` +
        `${s.inserts.toFixed(2)} s inside INSERTs; group join before it ${s.join.toFixed(2)} s)\n` +
        `  ratio sink / raw:               ${(rawSeconds / s.seconds).toFixed(2)}   stored: ${events} rows, ${events} distinct event_id\n` +
        `  CPU, all threads: raw ${rawCpu.toFixed(2)} s, sink ${s.cpuSeconds.toFixed(2)} s; raw / sink ${(rawCpu / s.cpuSeconds).toFixed(2)}`,
    );
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `median ratio sink / raw over ${rounds} rounds: ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} ` +
      `(${ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
  const shape = `${events} events, ${partitions} partitions, ${rounds > 1 ? `median of ${rounds} rounds` : '1 round'}`;
  report('sink.ts', [
    {
      key: 'sink.rows_per_s',
      label: 'sink, Kafka → chDB, inserted and committed',
      value: Math.round(median(sinkRates)),
      unit: 'rows/s',
      note: `${shape}; flush limits ${flushLimits}`,
    },
    {
      key: 'sink.raw_rows_per_s',
      label: 'raw chDB insert of the same rows (the ceiling)',
      value: Math.round(median(rawRates)),
      unit: 'rows/s',
      note: shape,
    },
    {
      key: 'sink.ratio',
      label: 'sink / raw insert rate',
      value: Number(median(ratios).toFixed(2)),
      unit: 'ratio',
      goal: { op: '>=', value: 0.8 },
      note: `rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}`,
    },
    {
      key: 'sink.cpu_ratio',
      label: 'raw insert CPU / sink CPU per row (all threads)',
      value: Number(median(cpuRatios).toFixed(2)),
      unit: 'ratio',
      goal: { op: '>=', value: 0.8 },
      note: `rounds ${cpuRatios.map((r) => r.toFixed(2)).join(', ')}; the rate ratio in CPU time, which other tenants of the machine distort less`,
    },
  ]);
} catch (err) {
  console.error(err);
  process.exitCode = 1;
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

/** The middle value (the upper one of the two middles for an even count, as the printed median ratio). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
