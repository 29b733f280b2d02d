// The pipeline the end-to-end benchmark drives, every part a real process started as production starts it:
//   distributed: Kafka broker → gateway (Dockerfile stage `gateway`) → sink (stage `sink`) → ClickHouse over
//                HTTP (scripts/clickhouse-http.ts over chDB, in a process of its own);
//   embedded:    one gateway (stage `gateway`, TIDEMARK_MODE=embedded) with chDB in it.
// Each offers the same poll query (visibility.ts) and the same loss count, and the metrics of its stages.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { startClickHouseProcess, stopProcess } from '../../harness/processes.js';
import { type Running, runService } from '../../harness/service.js';
import { freePort } from '../../scripts/kafka.mjs';
import { pidListeningOn } from './procs.js';
import type { BatchRows, PollQuery } from './visibility.js';
import { pollSql } from './visibility.js';

const _root = fileURLToPath(new URL('../..', import.meta.url));

export type Mode = 'distributed' | 'embedded';

/** Rows of a project and their distinct event ids: the loss and doubles check. */
export interface Stored {
  rows: number;
  distinct: number;
}

export interface Stack {
  mode: Mode;
  gatewayUrl: string;
  /** Write key and project of run `i` (each run writes to a project of its own). */
  key(i: number): { writeKey: string; project: string };
  /** The processes to watch, by stage name. */
  pids: Map<string, number>;
  /** How the poll reaches the store, for the report. */
  pollPath: string;
  query: PollQuery;
  stored(project: string): Promise<Stored>;
  /** Prometheus text of the gateway and, distributed, the sink. */
  gatewayMetrics(): Promise<string>;
  sinkMetrics?(): Promise<string>;
  /** Distributed: messages in the events topic so far (sum of the partitions' end offsets). */
  topicMessages?(): Promise<number>;
  /** The sink's batch limits as configured, for the memory line. */
  batchLimits?: string;
  /** Everything a service printed, for a failure report. */
  output(): string;
  stop(): Promise<void>;
}

const runs = 64;
const keys = Array.from({ length: runs }, (_, i) => ({ writeKey: `e2e-key-${i}`, project: `e2e-${i}` }));
const writeKeysEnv = keys.map((k) => `${k.writeKey}:${k.project}`).join(',');

/** Variables a reader may set to tune a service as in production (TIDEMARK_SINK_MAX_WAIT_MS, …). */
function tuning(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[0].startsWith('TIDEMARK_') && entry[1] !== undefined,
    ),
  );
}

/** With `cpuProfDir`, the service writes a V8 CPU profile there when it exits (node --cpu-prof). */
function profiling(cpuProfDir: string | undefined, service: string): { nodeArgs?: string[] } {
  return cpuProfDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, service)}`] } : {};
}

/** Waits until `url` answers 200, or fails when the service exited or 60 s passed. */
async function ready(name: string, service: Running, url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (service.process.exitCode !== null || service.process.signalCode !== null)
      throw new Error(`${name} exited before it was ready:\n${service.output}`);
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return;
    if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} within 60 s:\n${service.output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A service that dies with the benchmark, whatever way the benchmark ends. */
function guard(child: ChildProcess): () => void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return () => process.off('exit', kill);
}

async function storedOf(run: (sql: string, params: Record<string, unknown>) => Promise<unknown[][]>) {
  return async (project: string): Promise<Stored> => {
    const [row] = await run(
      'SELECT count() AS rows, uniqExact(event_id) AS ids FROM tidemark.events WHERE project_id = {project:String}',
      { project },
    );
    return { rows: Number(row?.[0] ?? 0), distinct: Number(row?.[1] ?? 0) };
  };
}

export async function startDistributed(opts: {
  brokers: string[];
  scratch: string;
  id: string;
  cpuProfDir?: string;
  /**
   * Replication factor the gateway creates the topic with (TIDEMARK_KAFKA_REPLICATION; min in-sync replicas
   * follow the gateway's default, min(2, replication)); unset: the environment's or the gateway's default.
   */
  replication?: number;
}): Promise<Stack> {
  const { brokers, scratch, id } = opts;
  const topic = `tidemark.e2e.${id}`;
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => console.error(err));
  };
  let gateway: Running | undefined;
  let sink: Running | undefined;
  try {
    // scripts/clickhouse-http.ts in a child process: the ClickHouse server the sink and the poller talk to.
    const server = await startClickHouseProcess(join(scratch, 'chdb'));
    const unguardServer = guard(server.process);
    stops.push(async () => {
      // SIGTERM (every process here closes gracefully), SIGKILL after 15 s.
      await stopProcess(server, 15_000);
      unguardServer();
    });
    const clickhouse: ClickHouse = createClickHouse({ url: server.url });
    stops.push(() => clickhouse.close());

    const gatewayPort = await freePort();
    gateway = runService(
      'gateway',
      {
        TIDEMARK_LOG_LEVEL: 'warn',
        ...tuning(),
        TIDEMARK_MODE: 'distributed',
        ...(opts.replication ? { TIDEMARK_KAFKA_REPLICATION: String(opts.replication) } : {}),
        TIDEMARK_LISTEN_HOST: '127.0.0.1',
        TIDEMARK_PORT: String(gatewayPort),
        KAFKA_BROKERS: brokers.join(','),
        TIDEMARK_KAFKA_TOPIC: topic,
        TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        TIDEMARK_WRITE_KEYS: writeKeysEnv,
        // One load generator from one address: the per-IP and per-key limits would answer 429, which is not what
        // this measures (bench/gateway.ts does the same).
        TIDEMARK_RATE_LIMIT_PER_IP: '0',
        TIDEMARK_RATE_LIMIT_PER_KEY: '0',
      },
      profiling(opts.cpuProfDir, 'gateway'),
    );
    const gatewayRun = gateway;
    const unguardGateway = guard(gatewayRun.process);
    stops.push(async () => {
      await stopProcess(gatewayRun, 15_000);
      unguardGateway();
    });
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    // The gateway creates the topic; the sink subscribes to it after.
    await ready('gateway', gatewayRun, `${gatewayUrl}/readyz`);

    const sinkPort = await freePort();
    sink = runService(
      'sink',
      {
        ...tuning(),
        TIDEMARK_LISTEN_HOST: '127.0.0.1',
        TIDEMARK_SINK_PORT: String(sinkPort),
        KAFKA_BROKERS: brokers.join(','),
        TIDEMARK_KAFKA_TOPIC: topic,
        TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        TIDEMARK_SINK_GROUP: `e2e-${id}`,
        CLICKHOUSE_URL: server.url,
      },
      profiling(opts.cpuProfDir, 'sink'),
    );
    const sinkRun = sink;
    const unguardSink = guard(sinkRun.process);
    stops.push(async () => {
      await stopProcess(sinkRun, 15_000);
      unguardSink();
    });
    const sinkUrl = `http://127.0.0.1:${sinkPort}`;
    await ready('sink', sinkRun, `${sinkUrl}/healthz`);

    const kafka = new Kafka({ clientId: 'tidemark-e2e-bench', brokers, logLevel: logLevel.NOTHING });
    const admin: Admin = kafka.admin();
    await admin.connect();
    stops.push(() => admin.disconnect());

    // Every broker's JVM, when it is local: "Kafka broker" alone, "Kafka broker 1", "Kafka broker 2", … in a cluster
    // (isBroker in bench/e2e.ts adds them up).
    const brokerPids = brokers.flatMap((address, i) => {
      const pid = pidListeningOn(Number(address.slice(address.lastIndexOf(':') + 1)));
      const name = brokers.length === 1 ? 'Kafka broker' : `Kafka broker ${i + 1}`;
      return pid === undefined ? [] : [[name, pid] as const];
    });
    const pids = new Map<string, number>([
      ['gateway', gatewayRun.process.pid ?? 0],
      ...brokerPids,
      ['sink', sinkRun.process.pid ?? 0],
      ['ClickHouse', server.process.pid ?? 0],
      ['load generator', process.pid],
    ]);

    const run = async (sql: string, params: Record<string, unknown>) => {
      const rows = await clickhouse.query<Record<string, unknown>>(sql, params);
      return rows.map((r) => Object.values(r));
    };
    const env = { ...process.env, ...tuning() };
    return {
      mode: 'distributed',
      gatewayUrl,
      key: (i) => keys[i % runs] as (typeof keys)[number],
      pids,
      pollPath: `SELECT over ClickHouse's HTTP interface (${server.url}, the sink's store)`,
      query: async (project, since) =>
        (
          await clickhouse.query<{ session_id: string; rows: string; inserted_at: string }>(pollSql, {
            project,
            since,
          })
        ).map(
          (r): BatchRows => ({
            session: r.session_id,
            rows: Number(r.rows),
            insertedAt: Number(r.inserted_at),
          }),
        ),
      stored: await storedOf(run),
      gatewayMetrics: async () => (await fetch(`${gatewayUrl}/metrics`)).text(),
      sinkMetrics: async () => (await fetch(`${sinkUrl}/metrics`)).text(),
      topicMessages: async () =>
        (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0),
      batchLimits:
        `TIDEMARK_SINK_MAX_ROWS ${env.TIDEMARK_SINK_MAX_ROWS ?? '50000 (default)'}, ` +
        `_MAX_BYTES ${env.TIDEMARK_SINK_MAX_BYTES ?? '32 MiB (default)'}, ` +
        `_MAX_WAIT_MS ${env.TIDEMARK_SINK_MAX_WAIT_MS ?? 'default'}`,
      output: () => `--- gateway\n${gatewayRun.output}\n--- sink\n${sinkRun.output}`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export async function startEmbedded(opts: { scratch: string; cpuProfDir?: string }): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((err: unknown) => console.error(err));
  };
  try {
    const port = await freePort();
    const token = randomBytes(24).toString('hex');
    const gateway = runService(
      'gateway',
      {
        TIDEMARK_LOG_LEVEL: 'warn',
        ...tuning(),
        TIDEMARK_MODE: 'embedded',
        TIDEMARK_LISTEN_HOST: '127.0.0.1',
        TIDEMARK_PORT: String(port),
        TIDEMARK_CHDB_PATH: join(opts.scratch, 'chdb-embedded'),
        TIDEMARK_WRITE_KEYS: writeKeysEnv,
        TIDEMARK_ADMIN_TOKEN: token,
        TIDEMARK_RATE_LIMIT_PER_IP: '0',
        TIDEMARK_RATE_LIMIT_PER_KEY: '0',
      },
      profiling(opts.cpuProfDir, 'gateway-embedded'),
    );
    const unguard = guard(gateway.process);
    stops.push(async () => {
      await stopProcess(gateway, 15_000);
      unguard();
    });
    const gatewayUrl = `http://127.0.0.1:${port}`;
    await ready('gateway', gateway, `${gatewayUrl}/readyz`);

    // The read API: the embedded gateway's own way to answer a SELECT, on a second chDB session in its process.
    const run = async (sql: string, params: Record<string, unknown>): Promise<unknown[][]> => {
      const response = await fetch(`${gatewayUrl}/v1/sql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: sql, params }),
      });
      if (!response.ok) throw new Error(`POST /v1/sql answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { rows: unknown[][] }).rows;
    };
    return {
      mode: 'embedded',
      gatewayUrl,
      key: (i) => keys[i % runs] as (typeof keys)[number],
      pids: new Map([
        ['gateway', gateway.process.pid ?? 0],
        ['load generator', process.pid],
      ]),
      pollPath: 'POST /v1/sql (the gateway read API: a second chDB session in the gateway process)',
      query: async (project, since) =>
        (await run(pollSql, { project, since })).map(
          ([session, rows, insertedAt]): BatchRows => ({
            session: String(session),
            rows: Number(rows),
            insertedAt: Number(insertedAt),
          }),
        ),
      stored: await storedOf(run),
      gatewayMetrics: async () => (await fetch(`${gatewayUrl}/metrics`)).text(),
      output: () => `--- gateway\n${gateway.output}`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
