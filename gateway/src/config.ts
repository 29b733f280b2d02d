import { availableParallelism } from 'node:os';
import { type ClickHouseConfig, loadClickHouseConfig, type MigrateOptions } from '@tidemark/store';
import { ConfigError } from './errors.js';
import { judgeDurability } from './kafkaDurability.js';
import { checkUniqueKeys, DEMO_PROJECT, type Project, parseWriteKeys, readProjectsFile } from './projects.js';

export type Mode = 'embedded' | 'distributed';

/** The Node Kafka client behind the producer transport (bench/gateway.ts compares them). */
export type KafkaClient = 'kafkajs' | 'platformatic';

export interface KafkaConfig {
  /** `TIDEMARK_KAFKA_CLIENT`: kafkajs (default) or @platformatic/kafka; both honour the same Transport contract. */
  client: KafkaClient;
  /** `KAFKA_BROKERS`, `host:port` each. */
  brokers: string[];
  clientId: string;
  topic: string;
  /** Dead letters (DESIGN §4); created with the topic so operators see it from day one. */
  dlqTopic: string;
  /** `TIDEMARK_KAFKA_PARTITIONS`; used only when the gateway creates a missing topic. */
  partitions: number;
  /** `TIDEMARK_KAFKA_REPLICATION`: replicas of each partition, when the gateway creates a topic (production: 3). */
  replication: number;
  /**
   * `TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS`: the topics' `min.insync.replicas`, set when the gateway creates them
   * (with `unclean.leader.election.enable=false`). Default min(2, replication). See kafkaDurability.ts.
   */
  minInsyncReplicas: number;
  /** Rows are repetitive JSON: gzip keeps a large batch under the broker's record-batch size limit. */
  compression: 'gzip' | 'none';
}

/** Where ClickHouse is: @tidemark/store's configuration, read by its `loadClickHouseConfig`. */
export type ClickHouseSettings = ClickHouseConfig;

export interface Limits {
  /** Largest accepted event, as JSON bytes (DESIGN §2: 32 KB). */
  maxEventBytes: number;
  /** Largest accepted request body, after gzip decoding (DESIGN §2: 500 KB). */
  maxBatchBytes: number;
  /**
   * Most events one request may carry; more is refused whole with 413 `too_many_events` before any event is
   * looked at. Segment's own clients send at most a few hundred per request by default (analytics-node 15,
   * analytics-python `upload_size` 100, analytics-ruby 100, analytics-go `BatchSize` 250,
   * analytics-react-native `maxBatchSize` 1000), the Tidemark SDK at most 500 (sdk/src/batch.ts): 2 000 by
   * default is comfortably above all of them, while a 500 KB body could otherwise hold 250 000 items, each
   * costing a verdict.
   */
  maxBatchEvents: number;
}

/** Requests per minute; 0 turns a limit off (DESIGN §2: 429 with Retry-After). */
export interface RateLimits {
  /** Per client IP (`request.ip`, see `trustProxy`), checked before the body is read. */
  perIpPerMinute: number;
  /** Per write key, unless its project sets `rateLimitPerMinute` in the projects file. */
  perKeyPerMinute: number;
}

/** When the gateway answers 503 `overloaded` instead of taking more work, so it never falls over. */
export interface Shedding {
  /** Event-loop delay (ms, sampled) above which requests are refused. */
  maxEventLoopDelayMs: number;
  /** Heap in use (bytes) above which requests are refused; 0 = off. */
  maxHeapUsedBytes: number;
  /** Events handed to the transport and not yet acknowledged (the producer backlog) above which to refuse. */
  maxPendingEvents: number;
  /**
   * How long a request waits for the transport's ack before it is answered 503 `transport_unavailable`
   * (the delivery goes on; the client's resend is deduplicated by event id). 0 = wait as long as the client.
   */
  deliverTimeoutMs: number;
}

/** The read API (`/v1/sql`, `/v1/queries`): who may use it, where it reads, and the limits of every query. */
export interface ReadApiConfig {
  /**
   * `TIDEMARK_ADMIN_TOKEN`, sent as `Authorization: Bearer …`. Undefined turns the read API off: its routes
   * answer 404 `read_api_disabled`. Never logged.
   */
  adminToken: string | undefined;
  /**
   * `TIDEMARK_READ_CLICKHOUSE_URL` (+ `_USER`, `_PASSWORD`, `_CA_CERT`, …): a ClickHouse server and a read-only
   * user to read with. Unset in embedded mode: the store the gateway writes to (chDB or `CLICKHOUSE_URL`).
   */
  clickhouse: ClickHouseSettings | undefined;
  /** `max_execution_time` of every query, in seconds. */
  maxExecutionSeconds: number;
  /** `max_result_rows` of every query; more rows fail the query (`result_overflow_mode = 'throw'`). */
  maxResultRows: number;
  /** `max_rows_to_read` of every query; 0 = no limit. */
  maxRowsToRead: number;
}

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  /**
   * `TIDEMARK_GATEWAY_WORKERS`: gateway processes sharing the port (node:cluster), each with its own producer;
   * `auto` is one per core (os.availableParallelism()). Default 1. Distributed mode only: embedded mode's chDB
   * is one per process, so there a number above 1 is refused and `auto` means 1.
   */
  workers: number;
  /** pino level; tests use `silent`. */
  logLevel: string;
  /** Every project and its write keys; never empty. */
  projects: Project[];
  /** True when no key was configured and the demo key is in use (start logs a warning). */
  demoProject: boolean;
  /** `TIDEMARK_CORS_ORIGINS`: `['*']` or exact origins. */
  corsOrigins: string[];
  /** Mount point of the `/v1/*` routes (e.g. `/t`): first-party paths dodge ad-block lists. */
  pathPrefix: string;
  limits: Limits;
  rateLimits: RateLimits;
  shedding: Shedding;
  /**
   * Fastify's `trustProxy`: false, true, a hop count, or proxy addresses/CIDRs. Decides `request.ip`, which
   * the per-IP limit counts; never trust `X-Forwarded-For` from the open internet.
   */
  trustProxy: boolean | number | string[];
  /** Client clock correction applies only beyond this skew (DESIGN §3), so transit time is not folded in. */
  skewThresholdMs: number;
  /** Request header with the visitor's country set by a trusted proxy (e.g. `cf-ipcountry`); off when ''. */
  countryHeader: string;
  kafka: KafkaConfig;
  /** Embedded mode's store: `CLICKHOUSE_URL` (+ user, password, TLS files), else chDB in `TIDEMARK_CHDB_PATH`. */
  clickhouse: ClickHouseSettings;
  /** What embedded mode's migrations create: `TIDEMARK_CLICKHOUSE_CLUSTER`, `TIDEMARK_EVENTS_TTL_DAYS`. */
  schema: MigrateOptions;
  read: ReadApiConfig;
  /** Regulations (DESIGN §5b), on with the admin token where the gateway can write to ClickHouse. */
  regulations: {
    /** `TIDEMARK_REGULATION_SETTLE_MS`: wait before each sweep after a deletion (longer than an insert takes). */
    settleMs: number;
    /** `TIDEMARK_ERASURE_REFRESH_MS`: how often the gateway re-reads the erased ids. */
    refreshMs: number;
  };
}

type Env = Record<string, string | undefined>;

/** Reads and validates the environment once; throws a ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string, fallback: string): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? fallback : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name, String(fallback));
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: "${raw}" is not an integer in [${min}, ${max}]`);
      return fallback;
    }
    return value;
  };
  const list = (name: string, fallback: string): string[] =>
    str(name, fallback)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  const mode = str('TIDEMARK_MODE', 'embedded');
  if (mode !== 'embedded' && mode !== 'distributed') {
    problems.push(`TIDEMARK_MODE: "${mode}" is neither "embedded" nor "distributed"`);
  }

  const projects: Project[] = [];
  const writeKeys = env.TIDEMARK_WRITE_KEYS?.trim();
  if (writeKeys) projects.push(...parseWriteKeys(writeKeys, problems));
  const projectsFile = env.TIDEMARK_PROJECTS_FILE?.trim();
  if (projectsFile) projects.push(...readProjectsFile(projectsFile, problems));
  checkUniqueKeys(projects, problems);
  // Only an unconfigured embedded gateway falls back to the demo key; a configuration that names keys but
  // yields none is a mistake to report, not to paper over.
  const demoProject = !writeKeys && !projectsFile && mode !== 'distributed';
  if (demoProject) projects.push(DEMO_PROJECT);
  else if (!writeKeys && !projectsFile) {
    problems.push('distributed mode needs write keys: set TIDEMARK_WRITE_KEYS or TIDEMARK_PROJECTS_FILE');
  } else if (projects.length === 0) {
    problems.push('no project configured: TIDEMARK_WRITE_KEYS / TIDEMARK_PROJECTS_FILE name no write key');
  }

  const brokers = list('KAFKA_BROKERS', '');
  if (mode === 'distributed' && brokers.length === 0) problems.push('distributed mode needs KAFKA_BROKERS');
  const compression = str('TIDEMARK_KAFKA_COMPRESSION', 'gzip');
  if (compression !== 'gzip' && compression !== 'none') {
    problems.push(`TIDEMARK_KAFKA_COMPRESSION: "${compression}" is neither "gzip" nor "none"`);
  }

  const replication = int('TIDEMARK_KAFKA_REPLICATION', 1, 1, 100);
  const minInsyncReplicas = int('TIDEMARK_KAFKA_MIN_INSYNC_REPLICAS', Math.min(2, replication), 1, 100);

  const client = str('TIDEMARK_KAFKA_CLIENT', 'kafkajs');
  if (client !== 'kafkajs' && client !== 'platformatic') {
    problems.push(`TIDEMARK_KAFKA_CLIENT: "${client}" is neither "kafkajs" nor "platformatic"`);
  }

  const workersRaw = str('TIDEMARK_GATEWAY_WORKERS', '1');
  // `auto` (the Docker image's default) is one worker per core where workers can run, and 1 in embedded mode.
  const workers =
    workersRaw !== 'auto'
      ? int('TIDEMARK_GATEWAY_WORKERS', 1, 1, 256)
      : mode === 'distributed'
        ? availableParallelism()
        : 1;
  if (workers > 1 && mode === 'embedded') {
    problems.push(
      `TIDEMARK_GATEWAY_WORKERS: ${workers} workers need distributed mode; embedded mode runs one gateway process, ` +
        'since its chDB store is one per process (set 1, or TIDEMARK_MODE=distributed)',
    );
  }

  let pathPrefix = str('TIDEMARK_PATH_PREFIX', '').replace(/\/+$/, '');
  if (pathPrefix !== '' && !pathPrefix.startsWith('/')) pathPrefix = `/${pathPrefix}`;

  const store = loadClickHouseConfig(env);
  problems.push(...store.problems);
  const { clickhouse } = store;

  const adminToken = env.TIDEMARK_ADMIN_TOKEN?.trim() || undefined;
  // A short token is guessable over the network; 16 characters is the least a random token has.
  if (adminToken !== undefined && adminToken.length < 16) {
    problems.push('TIDEMARK_ADMIN_TOKEN: use at least 16 characters (e.g. `openssl rand -hex 24`)');
  }
  let readClickHouse: ClickHouseSettings | undefined;
  if (str('TIDEMARK_READ_CLICKHOUSE_URL', '') !== '') {
    const read = loadClickHouseConfig(env, 'TIDEMARK_READ_');
    problems.push(...read.problems);
    readClickHouse = read.clickhouse;
  } else if (adminToken !== undefined && mode === 'distributed') {
    problems.push(
      'TIDEMARK_ADMIN_TOKEN in distributed mode needs TIDEMARK_READ_CLICKHOUSE_URL (a read-only ClickHouse user)',
    );
  }

  const trustRaw = str('TIDEMARK_TRUST_PROXY', 'false');
  let trustProxy: Config['trustProxy'] = false;
  if (trustRaw === 'true') trustProxy = true;
  else if (/^\d+$/.test(trustRaw)) trustProxy = Number(trustRaw);
  else if (trustRaw !== 'false') trustProxy = list('TIDEMARK_TRUST_PROXY', '');

  const config: Config = {
    mode: mode as Mode,
    host: str('TIDEMARK_LISTEN_HOST', '127.0.0.1'),
    port: int('TIDEMARK_PORT', 8787, 0, 65535),
    workers,
    logLevel: str('TIDEMARK_LOG_LEVEL', 'info'),
    projects,
    demoProject,
    corsOrigins: list('TIDEMARK_CORS_ORIGINS', '*'),
    pathPrefix,
    limits: {
      maxEventBytes: int('TIDEMARK_MAX_EVENT_BYTES', 32 * 1024, 256, 1024 * 1024),
      maxBatchBytes: int('TIDEMARK_MAX_BATCH_BYTES', 500 * 1024, 1024, 16 * 1024 * 1024),
      maxBatchEvents: int('TIDEMARK_MAX_BATCH_EVENTS', 2000, 1, 1_000_000),
    },
    rateLimits: {
      perIpPerMinute: int('TIDEMARK_RATE_LIMIT_PER_IP', 1200, 0, 10_000_000),
      perKeyPerMinute: int('TIDEMARK_RATE_LIMIT_PER_KEY', 60_000, 0, 100_000_000),
    },
    shedding: {
      maxEventLoopDelayMs: int('TIDEMARK_MAX_EVENT_LOOP_DELAY_MS', 1000, 10, 60_000),
      maxHeapUsedBytes: int('TIDEMARK_MAX_HEAP_USED_MB', 0, 0, 1_000_000) * 1024 * 1024,
      maxPendingEvents: int('TIDEMARK_MAX_PENDING_EVENTS', 100_000, 1, 100_000_000),
      deliverTimeoutMs: int('TIDEMARK_DELIVER_TIMEOUT_MS', 10_000, 0, 600_000),
    },
    trustProxy,
    skewThresholdMs: int('TIDEMARK_SKEW_THRESHOLD_MS', 60_000, 0, 86_400_000),
    countryHeader: str('TIDEMARK_COUNTRY_HEADER', '').toLowerCase(),
    kafka: {
      client: client as KafkaClient,
      brokers,
      clientId: str('TIDEMARK_KAFKA_CLIENT_ID', 'tidemark-gateway'),
      topic: str('TIDEMARK_KAFKA_TOPIC', 'tidemark.events'),
      dlqTopic: str('TIDEMARK_KAFKA_DLQ_TOPIC', 'tidemark.events.dlq'),
      partitions: int('TIDEMARK_KAFKA_PARTITIONS', 6, 1, 10_000),
      replication,
      minInsyncReplicas,
      compression: compression as KafkaConfig['compression'],
    },
    clickhouse,
    schema: store.schema,
    read: {
      adminToken,
      clickhouse: readClickHouse,
      maxExecutionSeconds: int('TIDEMARK_READ_MAX_EXECUTION_SECONDS', 10, 1, 3600),
      maxResultRows: int('TIDEMARK_READ_MAX_RESULT_ROWS', 10_000, 1, 10_000_000),
      maxRowsToRead: int('TIDEMARK_READ_MAX_ROWS_TO_READ', 0, 0, Number.MAX_SAFE_INTEGER),
    },
    regulations: {
      settleMs: int('TIDEMARK_REGULATION_SETTLE_MS', 30_000, 0, 3_600_000),
      refreshMs: int('TIDEMARK_ERASURE_REFRESH_MS', 5_000, 100, 3_600_000),
    },
  };
  if (config.limits.maxEventBytes > config.limits.maxBatchBytes) {
    problems.push('TIDEMARK_MAX_EVENT_BYTES must not exceed TIDEMARK_MAX_BATCH_BYTES');
  }
  problems.push(...judgeDurability(config.mode, config.kafka).problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
