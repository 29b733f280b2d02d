import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClickHouse, createClickHouse } from '@tidemark/store';
import { eventually } from '../../harness/eventually.js';
import { kafkaClientEnv } from '../../harness/kafkaClientEnv.js';
import { startClickHouseProcess, stopProcess } from '../../harness/processes.js';
import { type Running, runService } from '../../harness/service.js';
import { freePort, startKafka } from '../../scripts/kafka.mjs';

const _root = fileURLToPath(new URL('../..', import.meta.url));

/** The production-like pipeline the hostile run attacks: every part its own process. */
export interface HostileStack {
  gateway: Running;
  gatewayPort: number;
  sink: Running;
  /** A client on the store, as the scenario's own reader of what was stored. */
  clickhouse: ClickHouse;
  projectId: string;
  writeKey: string;
  revokedKey: string;
  limitedKey: string;
  adminToken: string;
  allowedOrigin: string;
  stop(): Promise<void>;
}

/** Waits for a service's /healthz; on a timeout the error carries what the process printed by then. */
async function healthy(url: string, service: Running, what: string): Promise<void> {
  try {
    await eventually(async () => ((await fetch(url)).ok ? true : undefined), { timeoutMs: 90_000, what });
  } catch (error) {
    throw new Error(`${(error as Error).message}; it printed:\n${service.output}`);
  }
}

/**
 * Distributed mode, as deployed: a Kafka broker (the given one, or one of its own), scripts/clickhouse-http.ts
 * over chDB standing in for the ClickHouse server, a sink process storing into it, and a gateway process built and
 * started as its Docker image does, with the read API on (admin token, reading that server).
 *
 * Revocation is a configuration change and a restart (the projects file is read at start), so the gateway first
 * runs with a key that one accepted event proves valid, and is then restarted without it.
 */
export async function startHostileStack(
  brokers: string[] | undefined,
  id: string,
  log: (line: string) => void,
): Promise<HostileStack> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => log(`cleanup: ${error}`));
  };
  try {
    const tmp = await mkdtemp(join(tmpdir(), 'tidemark-hostile-'));
    cleanups.push(() => rm(tmp, { recursive: true, force: true }));

    let kafkaBrokers = brokers;
    if (!kafkaBrokers) {
      const kafka = await startKafka({ port: 0, dataDir: join(tmp, 'kafka'), log });
      cleanups.push(() => kafka.stop());
      kafkaBrokers = kafka.brokers;
    }

    const clickhouseProcess = await startClickHouseProcess(join(tmp, 'chdb'));
    cleanups.push(() => stopProcess(clickhouseProcess, 15_000));
    const chUrl = clickhouseProcess.url;
    const clickhouse = createClickHouse({ url: chUrl });
    cleanups.push(() => clickhouse.close());

    const topic = `tidemark.hostile.${id}`;
    const kafkaEnv = {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      TIDEMARK_KAFKA_TOPIC: topic,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    };
    const projectId = `hostile-${id}`;
    const keys = {
      writeKey: `wk-${id}-run`,
      revokedKey: `wk-${id}-revoked`,
      limitedKey: `wk-${id}-limited`,
      adminToken: `admin-${id}-0123456789abcdef`,
      allowedOrigin: 'https://shop.example',
    };
    const projectsFile = join(tmp, 'projects.json');
    const writeProjects = (withRevoked: boolean) =>
      writeFile(
        projectsFile,
        JSON.stringify({
          projects: [
            { id: projectId, writeKeys: [keys.writeKey], allowedOrigins: [keys.allowedOrigin] },
            { id: `limited-${id}`, writeKeys: [keys.limitedKey], rateLimitPerMinute: 30 },
            ...(withRevoked ? [{ id: `revoked-${id}`, writeKeys: [keys.revokedKey] }] : []),
          ],
        }),
      );
    const gatewayPort = await freePort();
    const startGateway = () => {
      const gateway = runService('gateway', {
        ...kafkaEnv,
        ...Object.fromEntries(Object.entries(kafkaClientEnv).filter(([, v]) => v !== undefined)),
        TIDEMARK_MODE: 'distributed',
        TIDEMARK_LISTEN_HOST: '127.0.0.1',
        TIDEMARK_PORT: String(gatewayPort),
        TIDEMARK_KAFKA_PARTITIONS: '3',
        TIDEMARK_PROJECTS_FILE: projectsFile,
        TIDEMARK_CORS_ORIGINS: keys.allowedOrigin,
        TIDEMARK_ADMIN_TOKEN: keys.adminToken,
        TIDEMARK_READ_CLICKHOUSE_URL: chUrl,
        TIDEMARK_READ_MAX_EXECUTION_SECONDS: '3',
        // One client sends everything from one address: the per-IP and default per-key limits would answer it
        // 429 after a second. The rate-limited kind uses a project with a limit of its own.
        TIDEMARK_RATE_LIMIT_PER_IP: '0',
        TIDEMARK_RATE_LIMIT_PER_KEY: '0',
        // Warnings and errors only: at info, 100 000 requests are 200 000 log lines for this process to keep.
        TIDEMARK_LOG_LEVEL: 'warn',
      });
      return gateway;
    };
    const gatewayHealth = `http://127.0.0.1:${gatewayPort}/healthz`;

    await writeProjects(true);
    const first = startGateway();
    const firstStop = () => stopProcess(first, 15_000);
    cleanups.push(firstStop);
    await healthy(gatewayHealth, first, 'the gateway to start');
    // Retried as the SDK would: a busy machine can make the new gateway shed (503) its first requests.
    await eventually(
      async () => {
        const proof = await fetch(`http://127.0.0.1:${gatewayPort}/v1/batch`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({
            writeKey: keys.revokedKey,
            batch: [{ type: 'page', anonymousId: 'before-revocation' }],
          }),
        });
        return proof.status === 200 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'the key to revoke to be accepted first' },
    );
    await firstStop();
    log(
      `hostile: key ${keys.revokedKey.replace(id, '…')} accepted, then revoked (projects file rewritten, gateway restarted)`,
    );

    await writeProjects(false);
    const gateway = startGateway();
    cleanups.push(() => stopProcess(gateway, 15_000));
    await healthy(gatewayHealth, gateway, 'the gateway to restart');

    const sinkPort = await freePort();
    const sink = runService('sink', {
      ...kafkaEnv,
      TIDEMARK_SINK_GROUP: `sink-${id}`,
      TIDEMARK_SINK_PORT: String(sinkPort),
      TIDEMARK_SINK_MAX_WAIT_MS: '200',
      CLICKHOUSE_URL: chUrl,
    });
    cleanups.push(() => stopProcess(sink, 15_000));
    // After the gateway, which creates the topics; the sink runs the migrations before it answers, so the read
    // API finds its tables once the flood starts.
    await healthy(`http://127.0.0.1:${sinkPort}/healthz`, sink, 'the sink to answer /healthz');

    return { gateway, gatewayPort, sink, clickhouse, projectId, ...keys, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
