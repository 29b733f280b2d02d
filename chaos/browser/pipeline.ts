import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { Kafka, logLevel } from 'kafkajs';
import { eventually } from '../../harness/eventually.js';
import { groupLag } from '../../harness/offsets.js';
import { startClickHouseProcess, stopProcess } from '../../harness/processes.js';
import { logLines, runService } from '../../harness/service.js';
import { freePort, type KafkaBroker, startKafka } from '../../scripts/kafka.mjs';

const _root = fileURLToPath(new URL('../..', import.meta.url));

/** The distributed pipeline as production runs it, every part its own process: gateway → Kafka → sink → ClickHouse. */
export interface ProcessPipeline {
  brokers: string[];
  gatewayUrl: string;
  writeKey: string;
  projectId: string;
  /** A client of the ClickHouse the sink writes to, for counting. */
  clickhouse: ClickHouse;
  /** `/v1/batch` requests the gateway has answered so far, from its own `/metrics`. */
  batchRequests(): Promise<number>;
  /** Messages of the topic the sink has not committed yet: 0 once everything produced is stored. */
  lag(): Promise<number>;
  /** What the gateway and the sink printed so far, for a failure to explain itself. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a ClickHouse (scripts/clickhouse-http.ts over chDB: the sink and this process both reach it over HTTP,
 * as they would a server, since a chDB directory binds one process), a gateway and a sink, both started by
 * `runService` as their Docker stage starts them, on a topic and group of their own. Without `brokers`, a broker
 * of its own too.
 */
export async function startProcessPipeline(brokers?: string[]): Promise<ProcessPipeline> {
  const id = randomUUID().slice(0, 8);
  const scratch = await mkdtemp(join(tmpdir(), 'tidemark-browser-chaos-'));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(scratch, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    let broker: KafkaBroker | undefined;
    if (!brokers) {
      broker = await startKafka({ port: 0, dataDir: join(scratch, 'kafka'), log: () => {} });
      const started = broker;
      cleanups.push(() => started.stop());
    }
    const kafkaBrokers = brokers ?? broker?.brokers ?? [];

    const clickhouseServer = await startClickHouseHttp(join(scratch, 'chdb'));
    cleanups.push(clickhouseServer.stop);
    const clickhouse = createClickHouse({ url: clickhouseServer.url });
    cleanups.push(() => clickhouse.close());

    const topic = `tidemark.browser.${id}`;
    const groupId = `browser-sink-${id}`;
    const writeKey = `browser-key-${id}`;
    const projectId = `browser-${id}`;
    const kafkaEnv = {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    };
    const admin = new Kafka({
      clientId: 'tidemark-browser-chaos',
      brokers: kafkaBrokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    cleanups.push(() => admin.disconnect());
    const gatewayPort = await freePort();
    const gateway = runService('gateway', {
      ...kafkaEnv,
      // The Dockerfile's ENV lines are not applied by runService: without this, the gateway writes to a chDB of
      // its own (embedded mode) and Kafka never sees an event.
      TIDEMARK_MODE: 'distributed',
      TIDEMARK_PORT: String(gatewayPort),
      TIDEMARK_LISTEN_HOST: '127.0.0.1',
      TIDEMARK_WRITE_KEYS: `${writeKey}:${projectId}`,
      TIDEMARK_LOG_LEVEL: 'warn',
      // Every visitor posts from 127.0.0.1; a site's visitors come from many addresses.
      TIDEMARK_RATE_LIMIT_PER_IP: '0',
    });
    cleanups.push(() => stopProcess(gateway, 15_000));
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    await eventually(async () => ((await fetch(`${gatewayUrl}/readyz`)).ok ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the gateway to be ready',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; it printed:\n${gateway.output.slice(-2000)}`);
    });

    const sink = runService('sink', {
      ...kafkaEnv,
      TIDEMARK_SINK_GROUP: groupId,
      TIDEMARK_SINK_PORT: String(await freePort()),
      TIDEMARK_SINK_MAX_WAIT_MS: '200',
      CLICKHOUSE_URL: clickhouseServer.url,
    });
    cleanups.push(() => stopProcess(sink, 15_000));
    await eventually(async () => (logLines(sink, 'sink started').length > 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the sink to join its group',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; it printed:\n${sink.output.slice(-2000)}`);
    });

    return {
      brokers: kafkaBrokers,
      gatewayUrl,
      writeKey,
      projectId,
      clickhouse,
      async batchRequests() {
        const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
        let total = 0;
        for (const line of text.split('\n')) {
          if (line.startsWith('tidemark_gateway_requests_total{') && line.includes('route="/v1/batch"'))
            total += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
        return total;
      },
      lag: () => groupLag(admin, groupId, topic),
      output: () => `gateway:\n${gateway.output.slice(-3000)}\nsink:\n${sink.output.slice(-3000)}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** scripts/clickhouse-http.ts as a child process on a free port, and how to stop it. */
async function startClickHouseHttp(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const server = await startClickHouseProcess(dataDir);
  return { url: server.url, stop: () => stopProcess(server) };
}
