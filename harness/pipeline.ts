// The distributed pipeline in this process, for the tests that drive it end to end (test/pipeline.test.ts, the
// examples' e2e tests): started through the products' package exports, each on a topic of its own.
import { randomUUID } from 'node:crypto';
import { loadConfig, startGateway } from '@tidemark/gateway';
import { loadSinkConfig, startSink } from '@tidemark/sink';
import type { ClickHouse } from '@tidemark/store';
import { tempChdb } from '@tidemark/store/tempChdb';
import { kafkaClientEnv } from './kafkaClientEnv.js';

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
  const chdb = await tempChdb();
  const { clickhouse } = chdb;

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
      await chdb.close();
    },
  };
}
