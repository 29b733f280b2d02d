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
      limits: { maxEventBytes: 32 * 1024, maxBatchBytes: 500 * 1024 },
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
});
