import { type ClickHouseConfig, loadClickHouseConfig, type MigrateOptions } from '@tidemark/store';
import type { BatchLimits } from './batcher.js';
import { SinkError } from './errors.js';

/** The sink process's whole configuration, validated once at the edge (see `loadSinkConfig`). */
export type SinkConfig = {
  kafka: {
    /** `KAFKA_BROKERS`: `host:port` of at least one broker. */
    brokers: string[];
    /** `TIDEMARK_KAFKA_CLIENT_ID`, default `tidemark-sink`. */
    clientId: string;
    /** `TIDEMARK_KAFKA_TOPIC`, default `tidemark.events`. */
    topic: string;
    /** `TIDEMARK_SINK_GROUP`, default `tidemark-sink`: replicas in one group share the partitions. */
    groupId: string;
    /** `TIDEMARK_KAFKA_DLQ_TOPIC`, default `tidemark.events.dlq`: rows ClickHouse refused are reported here. */
    dlqTopic: string;
    /** `TIDEMARK_SINK_SESSION_TIMEOUT_MS` (30000): how soon the group gives a dead replica's partitions away. */
    sessionTimeoutMs: number;
  };
  /** `TIDEMARK_SINK_MAX_ROWS` (50000), `TIDEMARK_SINK_MAX_BYTES` (32 MiB), `TIDEMARK_SINK_MAX_WAIT_MS` (1000). */
  batch: BatchLimits;
  /** `CLICKHOUSE_URL`, `CLICKHOUSE_USER`, `CLICKHOUSE_PASSWORD`, else chDB in `TIDEMARK_CHDB_PATH`. */
  clickhouse: ClickHouseConfig;
  /** What the migrations create: `TIDEMARK_CLICKHOUSE_CLUSTER` and `TIDEMARK_EVENTS_TTL_DAYS` (unset: forever). */
  schema: MigrateOptions;
  /** `GET /healthz` listener: `TIDEMARK_LISTEN_HOST` (127.0.0.1) and `TIDEMARK_SINK_PORT` (8788). */
  health: { host: string; port: number };
};

type Env = Record<string, string | undefined>;

const topicName = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * Reads and validates the sink's environment (names as in the contract). Throws one SinkError with code
 * `config_invalid` listing every problem, so a misconfigured deployment is fixed in one round.
 */
export function loadSinkConfig(env: Env = process.env): SinkConfig {
  const problems: string[] = [];
  const text = (name: string, fallback: string) => {
    const value = env[name]?.trim();
    return value ? value : fallback;
  };
  const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return value;
  };

  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) problems.push('KAFKA_BROKERS is required (host:port,host:port)');
  for (const broker of brokers) {
    const port = Number(broker.slice(broker.lastIndexOf(':') + 1));
    if (broker.lastIndexOf(':') < 1 || !Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`KAFKA_BROKERS entry ${JSON.stringify(broker)} is not host:port`);
    }
  }

  const topic = text('TIDEMARK_KAFKA_TOPIC', 'tidemark.events');
  if (!topicName.test(topic))
    problems.push(`TIDEMARK_KAFKA_TOPIC ${JSON.stringify(topic)} is not a topic name`);
  const dlqTopic = text('TIDEMARK_KAFKA_DLQ_TOPIC', 'tidemark.events.dlq');
  if (!topicName.test(dlqTopic))
    problems.push(`TIDEMARK_KAFKA_DLQ_TOPIC ${JSON.stringify(dlqTopic)} is not a topic name`);

  const store = loadClickHouseConfig(env);
  problems.push(...store.problems);

  const config: SinkConfig = {
    kafka: {
      brokers,
      clientId: text('TIDEMARK_KAFKA_CLIENT_ID', 'tidemark-sink'),
      topic,
      groupId: text('TIDEMARK_SINK_GROUP', 'tidemark-sink'),
      dlqTopic,
      sessionTimeoutMs: integer('TIDEMARK_SINK_SESSION_TIMEOUT_MS', 30_000, 6_000, 300_000),
    },
    batch: {
      maxRows: integer('TIDEMARK_SINK_MAX_ROWS', 50_000, 1),
      maxBytes: integer('TIDEMARK_SINK_MAX_BYTES', 33_554_432, 1),
      maxWaitMs: integer('TIDEMARK_SINK_MAX_WAIT_MS', 1_000, 0),
    },
    clickhouse: store.clickhouse,
    schema: store.schema,
    health: {
      host: text('TIDEMARK_LISTEN_HOST', '127.0.0.1'),
      port: integer('TIDEMARK_SINK_PORT', 8788, 0, 65535),
    },
  };
  if (problems.length > 0) {
    throw new SinkError('config_invalid', `Invalid sink configuration:\n- ${problems.join('\n- ')}`);
  }
  return config;
}
