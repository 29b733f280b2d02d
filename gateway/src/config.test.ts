import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('loadConfig', () => {
  it('starts embedded on 127.0.0.1:8787 with the demo project when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      mode: 'embedded',
      host: '127.0.0.1',
      port: 8787,
      demoProject: true,
      projects: [{ id: 'demo', writeKeys: ['demo-write-key'] }],
      corsOrigins: ['*'],
      pathPrefix: '',
      limits: { maxEventBytes: 32 * 1024, maxBatchBytes: 500 * 1024, maxBatchEvents: 2000 },
      clickhouse: { chdbPath: './.data/chdb' },
      kafka: {
        client: 'kafkajs',
        topic: 'tidemark.events',
        dlqTopic: 'tidemark.events.dlq',
        partitions: 6,
        replication: 1,
      },
    });
  });

  it('runs one worker unless TIDEMARK_GATEWAY_WORKERS says more, or auto for one per core', () => {
    const distributed = {
      TIDEMARK_MODE: 'distributed',
      KAFKA_BROKERS: 'kafka:9092',
      TIDEMARK_WRITE_KEYS: 'k:p',
    };
    expect(loadConfig(distributed).workers).toBe(1);
    expect(loadConfig({ ...distributed, TIDEMARK_GATEWAY_WORKERS: '3' }).workers).toBe(3);
    expect(loadConfig({ ...distributed, TIDEMARK_GATEWAY_WORKERS: 'auto' }).workers).toBe(
      availableParallelism(),
    );
    expect(() => loadConfig({ ...distributed, TIDEMARK_GATEWAY_WORKERS: '0' })).toThrow(ConfigError);
  });

  it('refuses several workers in embedded mode, whose chDB is one per process, and reads auto as one', () => {
    expect(loadConfig({ TIDEMARK_GATEWAY_WORKERS: '1' }).workers).toBe(1);
    expect(loadConfig({ TIDEMARK_GATEWAY_WORKERS: 'auto' }).workers).toBe(1);
    expect(() => loadConfig({ TIDEMARK_GATEWAY_WORKERS: '2' })).toThrow(
      /embedded mode runs one gateway process/,
    );
  });

  it('selects the Kafka client by TIDEMARK_KAFKA_CLIENT and refuses one it does not know', () => {
    expect(loadConfig({ TIDEMARK_KAFKA_CLIENT: 'platformatic' }).kafka.client).toBe('platformatic');
    expect(() => loadConfig({ TIDEMARK_KAFKA_CLIENT: 'rdkafka' })).toThrow(ConfigError);
  });

  it('reads distributed settings as docker-compose.yml sets them', () => {
    const config = loadConfig({
      TIDEMARK_MODE: 'distributed',
      TIDEMARK_LISTEN_HOST: '0.0.0.0',
      TIDEMARK_PORT: '8787',
      TIDEMARK_WRITE_KEYS: 'k1:shop, k2:shop, k3:blog',
      KAFKA_BROKERS: 'kafka:9092, kafka2:9092',
      TIDEMARK_KAFKA_TOPIC: 'events',
      TIDEMARK_PATH_PREFIX: 't/',
    });
    expect(config.host).toBe('0.0.0.0');
    expect(config.kafka.brokers).toEqual(['kafka:9092', 'kafka2:9092']);
    expect(config.kafka.topic).toBe('events');
    expect(config.pathPrefix).toBe('/t');
    expect(config.projects).toEqual([
      { id: 'shop', writeKeys: ['k1', 'k2'] },
      { id: 'blog', writeKeys: ['k3'] },
    ]);
  });

  it('reports every bad setting at once', () => {
    let error: unknown;
    try {
      loadConfig({ TIDEMARK_MODE: 'distributed', TIDEMARK_PORT: 'http', TIDEMARK_WRITE_KEYS: 'nokey' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'TIDEMARK_WRITE_KEYS: "nokey" is not "writeKey:projectId"',
      'no project configured: TIDEMARK_WRITE_KEYS / TIDEMARK_PROJECTS_FILE name no write key',
      'distributed mode needs KAFKA_BROKERS',
      'TIDEMARK_PORT: "http" is not an integer in [0, 65535]',
    ]);
  });

  it('leaves the read API off without an admin token, and reads its store and limits with one', () => {
    expect(loadConfig({}).read).toEqual({
      adminToken: undefined,
      clickhouse: undefined,
      maxExecutionSeconds: 10,
      maxResultRows: 10_000,
      maxRowsToRead: 0,
    });
    const config = loadConfig({
      TIDEMARK_MODE: 'distributed',
      TIDEMARK_WRITE_KEYS: 'k1:shop',
      KAFKA_BROKERS: 'kafka:9092',
      TIDEMARK_ADMIN_TOKEN: ' 0123456789abcdef0123 ',
      TIDEMARK_READ_CLICKHOUSE_URL: 'http://clickhouse:8123',
      TIDEMARK_READ_CLICKHOUSE_USER: 'tidemark_reader',
      TIDEMARK_READ_CLICKHOUSE_PASSWORD: 'secret',
      TIDEMARK_READ_MAX_EXECUTION_SECONDS: '30',
      TIDEMARK_READ_MAX_RESULT_ROWS: '500',
      TIDEMARK_READ_MAX_ROWS_TO_READ: '1000000000',
    });
    expect(config.read).toEqual({
      adminToken: '0123456789abcdef0123',
      clickhouse: {
        url: 'http://clickhouse:8123',
        username: 'tidemark_reader',
        password: 'secret',
      },
      maxExecutionSeconds: 30,
      maxResultRows: 500,
      maxRowsToRead: 1_000_000_000,
    });
  });

  it('refuses a short admin token, and a distributed read API without a read-only ClickHouse', () => {
    let error: unknown;
    try {
      loadConfig({
        TIDEMARK_MODE: 'distributed',
        TIDEMARK_WRITE_KEYS: 'k1:shop',
        KAFKA_BROKERS: 'kafka:9092',
        TIDEMARK_ADMIN_TOKEN: 'short',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'TIDEMARK_ADMIN_TOKEN: use at least 16 characters (e.g. `openssl rand -hex 24`)',
      'TIDEMARK_ADMIN_TOKEN in distributed mode needs TIDEMARK_READ_CLICKHOUSE_URL (a read-only ClickHouse user)',
    ]);
  });
});
