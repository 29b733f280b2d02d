import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, startGateway } from '@tidemark/gateway';
import { loadSinkConfig, startSink } from '@tidemark/sink';
import { type ClickHouse, createClickHouse, migrate } from '@tidemark/store';
import { kafkaClientEnv } from './kafka-client.js';

/** The distributed pipeline, for real: gateway → Kafka broker → sink (consumer group) → chDB. */
export interface Pipeline {
  gatewayUrl: string;
  writeKey: string;
  projectId: string;
  topic: string;
  clickhouse: ClickHouse;
  stop(): Promise<void>;
}

/**
 * Starts a gateway in distributed mode and a sink on a topic and consumer group of their own, so tests sharing
 * one broker never see each other's events. chDB gets a fresh directory (one per process, DESIGN §7).
 */
export async function startPipeline(brokers: string[]): Promise<Pipeline> {
  const id = randomUUID().slice(0, 8);
  const topic = `tidemark.test.${id}`;
  const writeKey = `key-${id}`;
  const projectId = `project-${id}`;
  const chdbPath = await mkdtemp(join(tmpdir(), 'tidemark-chdb-'));
  const clickhouse = createClickHouse({ chdbPath });
  await migrate(clickhouse);

  const kafkaEnv = { KAFKA_BROKERS: brokers.join(','), TIDEMARK_KAFKA_TOPIC: topic };
  const gateway = await startGateway(
    loadConfig({
      ...kafkaEnv,
      TIDEMARK_MODE: 'distributed',
      TIDEMARK_PORT: '0',
      TIDEMARK_WRITE_KEYS: `${writeKey}:${projectId}`,
      TIDEMARK_KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      TIDEMARK_KAFKA_PARTITIONS: '3',
      TIDEMARK_LOG_LEVEL: 'warn',
      ...kafkaClientEnv,
    }),
  );
  const sink = await startSink(
    loadSinkConfig({ ...kafkaEnv, TIDEMARK_SINK_GROUP: `sink-${id}`, TIDEMARK_SINK_MAX_WAIT_MS: '200' }),
    { clickhouse },
  );

  return {
    gatewayUrl: gateway.url,
    writeKey,
    projectId,
    topic,
    clickhouse,
    async stop() {
      await gateway.close();
      await sink.stop();
      await clickhouse.close();
      await rm(chdbPath, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value that is not `undefined`, or fails with what it saw last. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 250, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}
