import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { eventually } from '../harness/eventually.js';
import { gatewayMessages, groupLag } from '../harness/offsets.js';
import { startClickHouseProcess } from '../harness/processes.js';
import { logLines, type Running, runService } from '../harness/service.js';
import { auditVisitorNumbers, numberedOnce } from '../harness/visitorNumbers.js';
import { freePort } from '../scripts/kafka.mjs';

// DESIGN §6.3 with replicas: three sink processes in one consumer group share the partitions of one topic and
// write to one ClickHouse (scripts/clickhouse-http.ts over a chDB directory, standing in for the server they
// share in production). One replica is killed with SIGKILL while events flow; the group hands its partitions to
// the other two, which must find what it inserted but never committed and skip it. Every event once, no FINAL.
const events = 60_000;
const rowsPerMessage = 20;
const waves = 30;
const partitions = 6;
const replicas = 3;
const _root = fileURLToPath(new URL('..', import.meta.url));
const id = randomUUID().slice(0, 8);
const topic = `tidemark.replicas.${id}`;
const groupId = `replicas-${id}`;
const projectId = `replicas-${id}`;
const brokers = inject('kafkaBrokers');
const kafka = new Kafka({ clientId: 'tidemark-replicas-test', brokers, logLevel: logLevel.NOTHING });
const admin = kafka.admin();
let dataDir: string;
let server: ChildProcess | undefined;
let url: string;
let ch: ClickHouse | undefined;
const sinks: { running: Running; port: number }[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-replicas-'));
  const clickhouseProcess = await startClickHouseProcess(dataDir);
  const child = clickhouseProcess.process;
  server = child;
  url = clickhouseProcess.url;
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
});

afterAll(async () => {
  for (const { running } of sinks) {
    if (running.process.exitCode === null && running.process.signalCode === null) {
      running.process.kill('SIGKILL');
    }
  }
  await ch?.close();
  await admin.disconnect();
  if (server && server.exitCode === null) {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  }
  await rm(dataDir, { recursive: true, force: true });
});

async function startSinkProcess(): Promise<{ running: Running; port: number }> {
  const port = await freePort();
  const running = runService('sink', {
    KAFKA_BROKERS: brokers.join(','),
    TIDEMARK_KAFKA_TOPIC: topic,
    TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    TIDEMARK_SINK_GROUP: groupId,
    // One ClickHouse for every replica, as in production; each runs the migrations at start, all at once.
    CLICKHOUSE_URL: url,
    TIDEMARK_SINK_PORT: String(port),
    // Small flushes: many inserts and commits for the kill and the rebalances to land between and inside.
    TIDEMARK_SINK_MAX_ROWS: '3000',
    TIDEMARK_SINK_MAX_WAIT_MS: '200',
    // The killed member leaves the group when its session times out; keep that short.
    TIDEMARK_SINK_SESSION_TIMEOUT_MS: '6000',
  });
  const sink = { running, port };
  sinks.push(sink);
  return sink;
}

/** The sink's own view from `GET /metrics`: rows inserted, and the partitions it has fetched from. */
async function scrape(port: number): Promise<{ inserted: number; partitions: number[] }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const inserted = Number(/^tidemark_sink_rows_inserted_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
  const seen = [...text.matchAll(/^tidemark_sink_consumer_lag\{partition="(\d+)"\}/gm)].map((m) =>
    Number(m[1]),
  );
  return { inserted, partitions: seen.sort((a, b) => a - b) };
}

it('shares the partitions among three sinks, and after one is killed the other two take over: every event once', async () => {
  const started = Date.now();
  for (let i = 0; i < replicas; i++) await startSinkProcess();
  for (const { running } of sinks) {
    await eventually(async () => (logLines(running, 'sink started').length > 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'every sink to start (migrations included)',
    });
  }
  // Produce only once all three are members, so that each one gets partitions with data from the start.
  await eventually(
    async () => {
      const [group] = (await admin.describeGroups([groupId])).groups;
      return group?.state === 'Stable' && group.members.length === replicas ? true : undefined;
    },
    { timeoutMs: 60_000, what: `a stable group of ${replicas} sinks` },
  );

  const producer = kafka.producer();
  await producer.connect();
  let produced = 0;
  let shared: { inserted: number; partitions: number[] }[] = [];
  let killed = '';
  // The gateway's messages: the rows of one request for one visitor, gzip, acks=all, in waves so that events
  // keep arriving before, during and after the kill.
  const produce = (async () => {
    const perWave = events / waves;
    for (let wave = 0; wave < waves; wave++) {
      const messages = gatewayMessages(projectId, wave * perWave, (wave + 1) * perWave, rowsPerMessage);
      await producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages });
      produced += perWave;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();

  try {
    // Shared: every replica inserted rows of its own partitions, and together they cover the topic.
    const before = await eventually(
      async () => {
        const views = await Promise.all(sinks.map((s) => scrape(s.port)));
        return views.every((v) => v.inserted > 0) ? views : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every sink to insert rows' },
    );
    shared = before;
    expect(new Set(before.flatMap((v) => v.partitions)).size).toBe(partitions);

    // Kill one at a random moment while events are still coming.
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 2_000));
    const victimIndex = Math.floor(Math.random() * replicas);
    const victim = sinks[victimIndex] as (typeof sinks)[number];
    const victimView = await scrape(victim.port);
    const producedAtKill = produced;
    victim.running.process.kill('SIGKILL');
    expect(await victim.running.exited).toBeNull();
    killed = `sink ${victimIndex} (partitions ${victimView.partitions.join(',')}, ${victimView.inserted} rows) at ${producedAtKill} produced`;
    expect(producedAtKill).toBeLessThan(events);
    await produce;
  } finally {
    await produce.catch(() => {});
    await producer.disconnect();
  }

  await eventually(async () => ((await groupLag(admin, groupId, topic)) === 0 ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 500,
    what: 'the group to commit every message',
  });
  const survivors = sinks.filter((s) => s.running.process.signalCode === null);
  expect(survivors).toHaveLength(replicas - 1);
  // The survivors fetched every partition between them, the dead one's included.
  const after = await Promise.all(survivors.map((s) => scrape(s.port)));
  expect(new Set(after.flatMap((v) => v.partitions)).size).toBe(partitions);
  for (const { running } of survivors) running.process.kill('SIGTERM');
  expect(await Promise.all(survivors.map((s) => s.running.exited))).toEqual([0, 0]);

  ch = createClickHouse({ url });
  // No FINAL, no OPTIMIZE: the rows as they are, duplicates would be counted; and under FINAL, as the shipped
  // queries read them.
  const [stored] = await ch.query<Record<string, unknown>>(
    `SELECT count() AS rows, uniqExact(event_id) AS distinct,
            uniqExact(JSONExtractUInt(properties, 'n')) AS numbers,
            (SELECT count() FROM tidemark.events FINAL WHERE project_id = {p:String}) AS final
     FROM tidemark.events WHERE project_id = {p:String}`,
    { p: projectId },
  );
  const replayed = sinks.flatMap((s) => logLines(s.running, 'replaying an announced flush'));
  const dropped = sinks.flatMap((s) =>
    logLines(s.running, 'group rejoined; dropping buffered rows to re-read them'),
  );
  console.log(
    `replicas: ${((Date.now() - started) / 1000).toFixed(1)} s; before the kill ${JSON.stringify(shared)}; ` +
      `killed ${killed}; announced flushes replayed: ${replayed.length}; ` +
      `rejoins that dropped buffered rows: ${dropped.length}; migrations applied per sink: ` +
      `${sinks.map((s) => (logLines(s.running, 'migrations done')[0]?.applied as string[] | undefined)?.length)}`,
  );
  expect({
    rows: Number(stored?.rows),
    final: Number(stored?.final),
    distinct: Number(stored?.distinct),
    numbers: Number(stored?.numbers),
  }).toEqual({ rows: events, final: events, distinct: events, numbers: events });
  // Three sinks, a kill and the rebalances that follow: still one number per visitor and one visitor per number.
  expect(await auditVisitorNumbers(ch, projectId)).toEqual(numberedOnce);
}, 120_000);
