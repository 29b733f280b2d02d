// The whole distributed pipeline on this machine, as real processes that a scenario can hurt: a Kafka broker
// (of the harness's own, so it can be stopped and frozen; or a shared one), a gateway process and a sink
// process started as their Docker images start them, and ClickHouse: chDB inside the sink process, or
// scripts/clickhouse-http.ts as a process of its own when ClickHouse itself is to fail.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import {
  type ClickHouseProcess,
  killProcess,
  type Running,
  startClickHouseProcess,
  startGatewayProcess,
  startSinkProcess,
  stopProcess,
} from '../harness/processes.js';
import {
  freePort,
  type KafkaBroker,
  type KafkaCluster,
  startKafka,
  startKafkaCluster,
} from '../scripts/kafka.mjs';
import { countDelivery, type DeliveryCounts } from './count.js';

/** Options of `startHarness`. */
export interface HarnessOptions {
  /** A running broker to use; unset: the harness starts its own, which `broker` then controls. */
  brokers?: string[];
  /** `chdb`: the sink's own chDB (default). `http`: a ClickHouse HTTP process the sink reaches by URL. */
  clickhouse?: 'chdb' | 'http';
  /** Partitions of the run's topic. Default 3. */
  partitions?: number;
  /** Extra sink environment. */
  sinkEnv?: Record<string, string>;
  /**
   * Turns the gateway's regulations API on (DESIGN §5b) with this admin token: the gateway writes and reads the
   * ClickHouse HTTP process (needs `clickhouse: 'http'`), and the sink starts first, so its migrations have
   * created the tables the gateway's regulator reads when it starts.
   */
  adminToken?: string;
  /** Extra gateway environment. */
  gatewayEnv?: Record<string, string>;
  /**
   * Start a KRaft cluster of this many nodes of the harness's own (replication factor 3, min.insync.replicas 2,
   * unclean leader election off), which `cluster` then controls; the topic and the gateways use its settings.
   */
  clusterNodes?: number;
  /** The run's topic's min.insync.replicas on the cluster, instead of the cluster's (2). */
  topicMinInsyncReplicas?: number;
  /** Gateway processes, each on its own port; the load goes round robin over them. Default 1. */
  gateways?: number;
  /** Sink processes in the one consumer group. Default 1; more need `clickhouse: 'http'` (chDB is per process). */
  sinks?: number;
  log?: (line: string) => void;
}

/** A restartable process of the pipeline. */
export interface Service {
  /** The process running now (after a restart, the new one). */
  readonly current: Running;
  /** Every process this service ran, first to last: their output tells the story of a failed run. */
  readonly history: readonly Running[];
  kill(): Promise<void>;
  start(): Promise<void>;
}

/** The harness's own broker: stopped, started again on the same port and data, frozen, thawed. */
export interface BrokerControl {
  readonly current: KafkaBroker;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP: the JVM holds its sockets open and answers nothing, as a broker in a long GC pause or on a hung disk. */
  freeze(): void;
  thaw(): void;
}

/** The ClickHouse HTTP process, when the harness runs one. */
export interface ClickHouseControl {
  readonly current: ClickHouseProcess;
  /** SIGSTOP: connections are accepted by the kernel and never answered (the client times out). */
  freeze(): void;
  thaw(): void;
  /** SIGKILL: connections are refused until `start()`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
}

export interface Harness {
  /** The first gateway's URL. */
  gatewayUrl: string;
  /** Every gateway's URL, for a round-robin load. */
  gatewayUrls: string[];
  writeKey: string;
  projectId: string;
  topic: string;
  groupId: string;
  brokers: string[];
  /** The first gateway and the first sink. */
  gateway: Service;
  sink: Service;
  gateways: Service[];
  sinks: Service[];
  /** Set with `clusterNodes`. */
  cluster?: KafkaCluster;
  /** Set when the harness started its own single broker. */
  broker?: BrokerControl;
  /** Set with `clickhouse: 'http'`. */
  clickhouse?: ClickHouseControl;
  /** The gateway's admin token, when the harness was asked for regulations. */
  adminToken?: string;
  /** Messages in the topic past the group's committed offsets; undefined while the broker does not answer. */
  lag(): Promise<number | undefined>;
  /**
   * Waits until everything the gateway acknowledged up to now is in ClickHouse: the group's committed offsets
   * reach the topic's end offsets as they are now (the sink commits only after the insert), and returns when.
   */
  waitFresh(timeoutMs?: number): Promise<number>;
  /**
   * After the load stopped: waits for the lag to reach 0, stops the sink cleanly, and counts what ClickHouse
   * holds for the acknowledged ids.
   */
  count(acked: Iterable<string>, range: { from: Date; to: Date }): Promise<DeliveryCounts>;
  /**
   * Where in the topic these event ids are, read from the beginning by a consumer of its own: tells an event
   * Kafka lost from one the sink skipped. Ids not found are absent.
   */
  findInTopic(ids: string[]): Promise<Map<string, { partition: number; offset: string }>>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the pipeline and resolves once the gateway listens and the sink consumes. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (options.adminToken !== undefined && options.clickhouse !== 'http') {
    throw new Error("startHarness: regulations (adminToken) need clickhouse: 'http'");
  }
  const partitions = options.partitions ?? 3;
  const id = randomUUID().slice(0, 8);
  const topic = `tidemark.chaos.${id}`;
  const groupId = `chaos-${id}`;
  const writeKey = `chaos-key-${id}`;
  const projectId = `chaos-${id}`;
  const scratch = await mkdtemp(join(tmpdir(), 'tidemark-chaos-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(scratch, { recursive: true, force: true })];

  try {
    const gatewayCount = options.gateways ?? 1;
    const sinkCount = options.sinks ?? 1;
    if (sinkCount > 1 && options.clickhouse !== 'http') {
      throw new Error('more than one sink needs clickhouse: "http": chDB binds one directory per process');
    }
    let broker: BrokerControl | undefined;
    let cluster: KafkaCluster | undefined;
    let brokers = options.brokers;
    if (options.clusterNodes) {
      const started = await startKafkaCluster({
        nodes: options.clusterNodes,
        dataDir: join(scratch, 'kafka-cluster'),
        log: () => {},
      });
      cluster = started;
      cleanups.unshift(() => started.stop());
      brokers = started.brokers;
      log(`harness: own ${options.clusterNodes}-node Kafka cluster at ${brokers.join(',')}`);
    } else if (!brokers) {
      const dataDir = join(scratch, 'kafka');
      let current = await startKafka({ port: 0, dataDir, log: () => {} });
      const { port, controllerPort } = current;
      cleanups.unshift(() => current.stop());
      broker = {
        get current() {
          return current;
        },
        async stop() {
          await current.stop();
        },
        async start() {
          current = await startKafka({ port, controllerPort, dataDir, log: () => {} });
        },
        freeze() {
          if (current.pid !== undefined) process.kill(current.pid, 'SIGSTOP');
        },
        thaw() {
          if (current.pid !== undefined) process.kill(current.pid, 'SIGCONT');
        },
      };
      // A frozen broker cannot act on the SIGTERM of its stop().
      cleanups.unshift(async () => broker?.thaw());
      brokers = current.brokers;
      log(`harness: own Kafka broker at ${brokers.join(',')}`);
    }

    const topicMinIsr = options.topicMinInsyncReplicas ?? cluster?.minInsyncReplicas;
    const kafka = new Kafka({ clientId: 'tidemark-chaos', brokers, logLevel: logLevel.NOTHING });
    let admin: Admin = kafka.admin();
    await admin.connect();
    // A broker that has just started may answer "does not host this topic-partition" while the new topic's
    // leaders settle (seen once in a full run); kafkajs' own retries gave up, so wait for it here.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({
          topics: [
            {
              topic,
              numPartitions: partitions,
              ...(cluster
                ? {
                    replicationFactor: cluster.replication,
                    configEntries: [
                      { name: 'min.insync.replicas', value: String(topicMinIsr) },
                      { name: 'unclean.leader.election.enable', value: 'false' },
                    ],
                  }
                : {}),
            },
          ],
          waitForLeaders: true,
        });
        const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
        if (metadata?.partitions.length === partitions && metadata.partitions.every((p) => p.leader >= 0))
          break;
      } catch (error) {
        if (attempt >= 30) throw error;
      }
      await sleep(1_000);
    }
    cleanups.unshift(() => admin.disconnect());
    /** Runs an admin call; a broker that went away and came back needs a fresh connection. */
    const withAdmin = async <T>(call: (a: Admin) => Promise<T>): Promise<T | undefined> => {
      try {
        return await call(admin);
      } catch {
        await admin.disconnect().catch(() => {});
        admin = kafka.admin();
        await admin.connect().catch(() => {});
        return undefined;
      }
    };

    let clickhouse: ClickHouseControl | undefined;
    const chdbPath = join(scratch, 'chdb');
    const clickhouseEnv: Record<string, string> = { TIDEMARK_CHDB_PATH: chdbPath };
    if (options.clickhouse === 'http') {
      const port = await freePort();
      let current = await startClickHouseProcess(chdbPath, port);
      cleanups.unshift(() => stopProcess(current));
      clickhouse = {
        get current() {
          return current;
        },
        freeze: () => current.process.kill('SIGSTOP'),
        thaw: () => current.process.kill('SIGCONT'),
        kill: () => killProcess(current),
        async start() {
          current = await startClickHouseProcess(chdbPath, port);
        },
      };
      clickhouseEnv.CLICKHOUSE_URL = current.url;
    }

    const gatewayEnv = {
      TIDEMARK_MODE: 'distributed',
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      TIDEMARK_KAFKA_PARTITIONS: String(partitions),
      ...(cluster
        ? {
            TIDEMARK_KAFKA_REPLICATION: String(cluster.replication),
            TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS: String(topicMinIsr),
          }
        : {}),
      TIDEMARK_WRITE_KEYS: `${writeKey}:${projectId}`,
      TIDEMARK_LOG_LEVEL: 'warn',
      // Every visitor of the load comes from 127.0.0.1: a per-IP limit would only measure itself.
      TIDEMARK_RATE_LIMIT_PER_IP: '0',
      ...(process.env.TIDEMARK_KAFKA_CLIENT
        ? { TIDEMARK_KAFKA_CLIENT: process.env.TIDEMARK_KAFKA_CLIENT }
        : {}),
      ...(options.adminToken === undefined
        ? {}
        : {
            TIDEMARK_ADMIN_TOKEN: options.adminToken,
            CLICKHOUSE_URL: clickhouseEnv.CLICKHOUSE_URL as string,
            TIDEMARK_READ_CLICKHOUSE_URL: clickhouseEnv.CLICKHOUSE_URL as string,
          }),
      ...options.gatewayEnv,
    };
    const sinkEnv = {
      KAFKA_BROKERS: brokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      TIDEMARK_SINK_GROUP: groupId,
      TIDEMARK_SINK_MAX_WAIT_MS: '500',
      // A killed sink's partitions go to its successor once its session times out: the shortest allowed.
      TIDEMARK_SINK_SESSION_TIMEOUT_MS: '6000',
      ...clickhouseEnv,
      ...options.sinkEnv,
    };

    const service = (start: (first: boolean) => Promise<Running>, first: Running): Service => {
      const history = [first];
      cleanups.unshift(() => stopProcess(history.at(-1) as Running));
      return {
        get current() {
          return history.at(-1) as Running;
        },
        history,
        kill: () => killProcess(history.at(-1) as Running),
        async start() {
          history.push(await start(false));
        },
      };
    };
    const sinks: Service[] = [];
    const startSinkService = async (i: number) => {
      const start = (build: boolean) => startSinkProcess({ env: sinkEnv, build });
      sinks.push(service(start, await start(i === 0)));
    };
    // With the regulations API on, the first sink starts before the gateways: its migrations create the tables the
    // gateway's regulator reads when it starts.
    if (options.adminToken !== undefined) await startSinkService(0);
    const gateways: Service[] = [];
    const gatewayUrls: string[] = [];
    for (let i = 0; i < gatewayCount; i++) {
      // Each on a port of its own, kept across restarts so clients find it where they left it.
      const env = { ...gatewayEnv, TIDEMARK_PORT: String(await freePort()) };
      const start = (build: boolean) => startGatewayProcess({ env, build });
      const first = await start(i === 0);
      gatewayUrls.push(first.url);
      gateways.push(service(start, first));
    }
    for (let i = sinks.length; i < sinkCount; i++) await startSinkService(i);
    const [gateway, sink] = [gateways[0] as Service, sinks[0] as Service];
    log(
      `harness: gateways ${gatewayUrls.join(' ')}, ${sinkCount} sink(s) in group ${groupId}, topic ${topic} ` +
        `(${partitions} partitions)`,
    );

    const offsets = async () =>
      withAdmin(async (a) => {
        const [ends, [committed]] = await Promise.all([
          a.fetchTopicOffsets(topic),
          a.fetchOffsets({ groupId, topics: [topic] }),
        ]);
        return ends.map((end) => ({
          partition: end.partition,
          high: Number(end.high),
          done: Math.max(
            0,
            Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1'),
          ),
        }));
      });
    const lag = async () => {
      const parts = await offsets();
      return parts?.reduce((sum, p) => sum + Math.max(0, p.high - p.done), 0);
    };

    return {
      gatewayUrl: gatewayUrls[0] as string,
      gatewayUrls,
      writeKey,
      projectId,
      topic,
      groupId,
      brokers,
      gateway,
      sink,
      gateways,
      sinks,
      ...(cluster ? { cluster } : {}),
      ...(broker ? { broker } : {}),
      ...(clickhouse ? { clickhouse } : {}),
      ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
      lag,
      async waitFresh(timeoutMs = 120_000) {
        const deadline = Date.now() + timeoutMs;
        let target: Map<number, number> | undefined;
        while (Date.now() < deadline) {
          const parts = await offsets();
          if (parts) {
            target ??= new Map(parts.map((p) => [p.partition, p.high]));
            if (parts.every((p) => p.done >= (target?.get(p.partition) ?? 0))) return Date.now();
          }
          await sleep(200);
        }
        throw new Error(`not fresh within ${timeoutMs} ms: lag ${await lag()}`);
      },
      async count(acked, range) {
        const deadline = Date.now() + 180_000;
        while ((await lag()) !== 0) {
          if (Date.now() > deadline) throw new Error(`the sink's lag is still ${await lag()} after 180 s`);
          await sleep(500);
        }
        // The sink process owns its chDB directory (one per process, DESIGN §7): stop it, then read the
        // directory through a ClickHouse HTTP process, which also keeps libchdb out of this process, so one
        // run can count many scenarios.
        for (const s of sinks) await stopProcess(s.current);
        let reader: ClickHouseProcess | undefined;
        let url = clickhouse?.current.url;
        if (!url) {
          reader = await startClickHouseProcess(chdbPath, await freePort());
          url = reader.url;
        }
        const client: ClickHouse = createClickHouse({ url });
        try {
          return await countDelivery(client, { projectId, acked, ...range });
        } finally {
          await client.close();
          if (reader) await stopProcess(reader);
        }
      },
      async findInTopic(ids) {
        const wanted = new Set(ids);
        const found = new Map<string, { partition: number; offset: string }>();
        const ends = await withAdmin((a) => a.fetchTopicOffsets(topic));
        if (!ends) throw new Error('no broker answered for the topic’s end offsets');
        const remaining = new Set(ends.filter((e) => Number(e.high) > 0).map((e) => e.partition));
        const consumer = kafka.consumer({ groupId: `${groupId}-find-${randomUUID().slice(0, 8)}` });
        await consumer.connect();
        try {
          await consumer.subscribe({ topic, fromBeginning: true });
          const done = new Promise<void>((settle) => {
            if (remaining.size === 0) settle();
            consumer.run({
              eachMessage: async ({ partition, message }) => {
                const text = message.value?.toString() ?? '';
                for (const id of wanted) {
                  if (text.includes(id)) found.set(id, { partition, offset: message.offset });
                }
                const high = Number(ends.find((e) => e.partition === partition)?.high ?? 0);
                if (Number(message.offset) >= high - 1) remaining.delete(partition);
                if (remaining.size === 0) settle();
              },
            });
          });
          await Promise.race([done, sleep(120_000)]);
        } finally {
          await consumer.disconnect().catch(() => {});
        }
        return found;
      },
      async stop() {
        for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
    throw error;
  }
}
